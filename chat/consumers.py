"""WebSocket transport: the krib stream (/ws) and typed envelopes (/ws/events).

Consumers are not channel-layer members themselves (``channel_layer_alias = None``):
the process's hub (chat.hub) is, and calls ``deliver`` with already-encoded events.
"""

import asyncio
import json
import logging
from urllib.parse import parse_qsl

from channels.generic.websocket import AsyncWebsocketConsumer

from chat import close_codes, events, frame_limits
from chat import stream as event_log
from chat.forms import StreamQueryForm
from chat.hub import get_hub
from chat.models import Message, is_visible_to
from core import dbpool, metrics
from core.conf import kirb_setting
from core.errors import KirbError, as_kirb_error
from security import policy

logger = logging.getLogger(__name__)

_CLOSE_AFTER_FLUSH = object()  # outbox sentinel: close with 1012 once what precedes it is sent

# Where a server that can write pre-framed messages straight to the socket puts its
# writer in the scope (manage.py serve does: kirb_project.server); the interface is
# ``prepare_text``, ``write_frame`` and ``close_now``.
WRITER_SCOPE_KEY = "kirb.websocket_writer"

_PUBLIC = Message.Visibility.PUBLIC


class FeedConsumer(AsyncWebsocketConsumer):
    """/ws: one bare message object per frame, so the existing krib client parses each.

    Under manage.py serve a frame is written to the socket as it is dispatched, through
    the writer the server puts in the scope (``write_frame``, ``prepare_text``,
    ``close_now``): no queue, no task, and the server closes a reader that leaves more
    than WS_MAX_UNSENT_BYTES unsent. Under any other server (runserver, uvicorn) frames
    go through a bounded outbox (WS_OUTBOX_MAX_FRAMES) and a writer task, made on the
    first frame.
    """

    channel_layer_alias = None
    stream = "ws"
    wire_key = "bare_wire"  # where a dispatched event caches its frame for this stream

    writer = None  # the server's direct writer, if it has one
    outbox = None
    write_task = None
    hub = None
    accepted = False
    closing = False
    covered_upto = 0  # the newest event id this socket must not get live (see websocket_connect)

    async def __call__(self, scope, receive, send):
        # daphne cancels an application it gives up on (a handshake stuck behind the
        # database, a client gone during a drain) without a websocket.disconnect: the
        # socket must leave the hub however the application ends, or it stays a ghost
        # holding the gauge and its IP's socket slots. (The hub's sweep is the backstop.)
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.release()

    def release(self):
        if self.write_task is not None:
            self.write_task.cancel()
        if self.hub is not None:
            self.hub.leave(self)

    async def websocket_connect(self, message):
        self.identity = self.scope["identity"]
        self.writer = self.scope.get(WRITER_SCOPE_KEY)
        self.hub = get_hub()
        try:
            self.params = StreamQueryForm.validate(dict(parse_qsl(self.scope["query_string"].decode("latin-1"))))
            await dbpool.run(policy.check_not_blocked, self.identity)
            newest_committed = await dbpool.run(event_log.high_water_mark)
        except Exception as exception:
            await self.refuse(exception)
            return
        # Events committed before the socket joins are history, not live, though the
        # hub may still dispatch some after it joined (held back for a gap in the ids):
        # the newest the database or the hub knows of now is where live starts.
        self.covered_upto = max(newest_committed, self.hub.newest_known_id)
        self.prepare_stream()
        await self.accept()
        self.accepted = True
        try:
            await self.hub.join(self, self.params["city_key"])
            await self.start_stream()
        except Exception as exception:
            await self.refuse(exception)

    def prepare_stream(self):
        """Hook for /ws/events replay, run before the socket joins the hub."""

    async def start_stream(self):
        """Hook for /ws/events replay; the krib stream goes live at once."""

    async def refuse(self, exception):
        """Tell the client why (where the stream allows it) and close with a matching code."""
        error = as_kirb_error(exception)
        if error is None:
            logger.exception("Could not start a %s stream", self.stream, exc_info=exception)
            code = close_codes.INTERNAL_ERROR
        else:
            code = close_codes.for_error(error)
        if not self.accepted:
            await self.accept()
        if error is not None:
            await self.send_error(error)
        await self.close(code=code)

    async def send_error(self, error):
        """The krib stream has no error frames: its client parses every frame as a message."""

    async def disconnect(self, code):
        if code == close_codes.SLOW_CONSUMER:  # the server closed it (WS_MAX_UNSENT_BYTES)
            logger.info("Slow consumer %s: too much unsent, disconnected", self.identity.key[:12])
        self.release()

    # --- outgoing ------------------------------------------------------------------------

    def frame_for(self, event):
        return event["bare"]

    def deliver(self, event):
        """Called by the hub for every event of this socket's feed, in event-id order;
        never blocks. Returns the frames handed on (0 or 1): the hub counts them."""
        if event["event_id"] <= self.covered_upto:
            return 0  # committed before the socket joined (or already in its replay)
        frame = self.frame_for(event)
        if frame is None:
            return 0
        if event["visibility"] != _PUBLIC and not is_visible_to(
            self.identity,
            visibility=event["visibility"],
            poster_key=event["poster_key"],
            poster_ip=event["poster_ip"],
        ):
            return 0
        return self.write(frame, event)

    def write(self, frame, event=None):
        """Hand ``frame`` to the socket now, or to the outbox behind what waits there.
        ``event``: the dispatched event it is from, which caches the frame ready for the
        wire for every socket of this stream. Returns 1 if taken, 0 if not."""
        if self.closing:
            return 0
        writer = self.writer
        if writer is not None and self.outbox is None:
            if event is None:
                wire = writer.prepare_text(frame)
            else:
                wire = event.get(self.wire_key)
                if wire is None:
                    wire = event[self.wire_key] = writer.prepare_text(frame)
            if writer.write_frame(wire):
                return 1
            self.closing = True  # closed under us (by the server, or the client)
            return 0
        return self.enqueue(frame)

    def send_frame(self, frame):
        """A frame of this socket's own (a notice, an error), counted here."""
        if self.write(frame):
            metrics.websocket_frames_sent_total.labels(stream=self.stream).inc()

    def enqueue(self, frame):
        if self.outbox is None:
            self.outbox = asyncio.Queue(maxsize=kirb_setting("WS_OUTBOX_MAX_FRAMES"))
            self.write_task = asyncio.create_task(self.write_loop())
        try:
            self.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            self.disconnect_slow_consumer()
            return 0
        return 1

    def disconnect_slow_consumer(self):
        """Dropping silently would leave a gap; closing lets the client resume with since=."""
        metrics.websocket_frames_dropped_total.labels(stream=self.stream).inc()
        metrics.websocket_slow_consumers_closed_total.labels(bound="outbox_frames").inc()
        logger.info("Slow consumer %s: outbox full, disconnecting", self.identity.key[:12])
        self.closing = True
        asyncio.ensure_future(self.close(code=close_codes.SLOW_CONSUMER))

    def drain(self):
        """The instance is stopping: flush what is queued, then close with 1012."""
        self.enqueue_notice("draining", "This server is restarting; reconnect to continue.")
        if self.closing:
            return
        self.closing = True
        if self.outbox is None:
            if self.writer is not None:
                self.writer.close_now(close_codes.SERVICE_RESTART)  # after what it has written
            else:
                asyncio.ensure_future(self.close(code=close_codes.SERVICE_RESTART))
            return
        try:
            self.outbox.put_nowait(_CLOSE_AFTER_FLUSH)
        except asyncio.QueueFull:  # too far behind to flush: it resumes with since=
            asyncio.ensure_future(self.close(code=close_codes.SERVICE_RESTART))

    def enqueue_notice(self, code, message):
        """The krib stream carries message objects only: no notices."""

    async def write_loop(self):
        """The outbox's writer (servers without a direct writer): the ASGI send may wait."""
        try:
            while True:
                frame = await self.outbox.get()
                if frame is _CLOSE_AFTER_FLUSH:
                    await self.close(code=close_codes.SERVICE_RESTART)
                    return
                await self.send(text_data=frame)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Writing to a %s socket failed", self.stream)

    # --- incoming ------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        limit = frame_limits.for_socket(self)
        if limit.exceeded:
            return  # closing with 1008; frames already queued are dropped unread
        if not limit.allow_frame():
            metrics.websocket_frames_rejected_total.labels(reason="rate_limited").inc()
            await self.close(code=close_codes.POLICY_VIOLATION)
        elif bytes_data is not None:
            metrics.websocket_frames_rejected_total.labels(reason="binary").inc()
            await self.close(code=close_codes.UNSUPPORTED_DATA)
        elif len(text_data.encode()) > kirb_setting("WS_MAX_INCOMING_FRAME_BYTES"):
            metrics.websocket_frames_rejected_total.labels(reason="too_big").inc()
            await self.close(code=close_codes.MESSAGE_TOO_BIG)
        else:
            await self.receive_text(text_data)

    async def receive_text(self, text):
        """The krib client sends nothing the server acts on; its frames are ignored."""
        metrics.websocket_frames_rejected_total.labels(reason="ignored").inc()


class EventsConsumer(FeedConsumer):
    """/ws/events: typed envelopes, and ``since=`` replay of what a client missed."""

    stream = "events"
    wire_key = "envelope_wire"

    def prepare_stream(self):
        # Set before joining the hub: events dispatched from then on are held back
        # until the replay is written.
        self.replaying = self.params["since"] is not None
        self.held = []

    def frame_for(self, event):
        return event["envelope"]

    async def start_stream(self):
        """Replay what the client missed after ``since``, then go live: no gap, no
        duplicate, in event-id order (docs/STREAM.md).

        No gap: the hub dispatches every event committed after the socket joined it,
        and the log is read after that, up to its high-water mark. No duplicate: live
        events up to that mark are dropped. Order: live events wait until the replay
        is written. The replay is written with awaited sends, not into the outbox, so
        a replay of any size up to REPLAY_MAX_MESSAGES gets through.
        """
        since = self.params["since"]
        if since is None:
            return
        frames, next_since = [], None
        try:
            frames, covered_upto, next_since = await dbpool.run(
                event_log.replay, self.identity, self.params["city_key"], since
            )
            self.covered_upto = max(self.covered_upto, covered_upto)
        except KirbError as error:
            await self.send_error(error)
        for frame in frames:
            await self.send_replayed(frame)
        metrics.stream_replayed_events_total.inc(len(frames))
        notice = {"code": "replay_complete", "count": len(frames), "truncated": next_since is not None}
        if next_since is not None:
            notice["next_since"] = next_since
            notice["message"] = (
                f"More was missed than one replay carries (REPLAY_MAX_MESSAGES). Reconnect with "
                f"since={next_since} for the next events, or reload the history (GET /messages)."
            )
        await self.send_replayed(events.envelope(events.NOTICE, notice))
        metrics.websocket_frames_sent_total.labels(stream=self.stream).inc(len(frames) + 1)
        held, self.held, self.replaying = self.held, [], False
        delivered = sum(self.deliver(event) for event in held)
        if delivered:
            metrics.websocket_frames_sent_total.labels(stream=self.stream).inc(delivered)

    async def send_replayed(self, frame):
        """A replay is bounded by REPLAY_MAX_MESSAGES, not by WS_MAX_UNSENT_BYTES: the
        server checks that bound again at the next live frame."""
        if self.writer is not None:
            self.writer.write_frame(self.writer.prepare_text(frame), bounded=False)
        else:
            await self.send(text_data=frame)

    def deliver(self, event):
        if self.replaying:
            self.held.append(event)
            if len(self.held) > kirb_setting("WS_OUTBOX_MAX_FRAMES"):
                self.held, self.replaying = [], False
                self.disconnect_slow_consumer()
            return 0
        return super().deliver(event)

    async def send_error(self, error):
        await self.send(text_data=events.envelope(events.ERROR, error.as_dict()))

    def enqueue_notice(self, code, message):
        self.send_frame(events.envelope(events.NOTICE, {"code": code, "message": message}))

    async def receive_text(self, text):
        try:
            frame = json.loads(text)
        except ValueError:
            frame = None
        if isinstance(frame, dict) and frame.get("type") == "ping":
            self.send_frame(events.envelope(events.NOTICE, {"code": "pong"}))
            return
        metrics.websocket_frames_rejected_total.labels(reason="invalid").inc()
        if not frame_limits.for_socket(self).allow_error_reply():
            return  # counted, not answered: a flood of junk must not make us write megabytes
        self.send_frame(
            events.envelope(
                events.ERROR,
                {"error": "invalid_frame", "message": 'The only frame a client may send is {"type": "ping"}.'},
            )
        )
