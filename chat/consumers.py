"""WebSocket transport: the krib stream (/ws) and typed envelopes (/ws/events).

Consumers are not channel-layer members themselves (``channel_layer_alias = None``):
the process's hub (chat.hub) is, and calls ``deliver`` with already-encoded events.
"""

import asyncio
import json
import logging
import time
from urllib.parse import parse_qsl

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from chat import close_codes, events, services
from chat.forms import StreamQueryForm
from chat.hub import get_hub
from chat.models import is_visible_to
from kirb_project import metrics
from kirb_project.conf import kirb_setting
from kirb_project.errors import KirbError, as_kirb_error
from security import policy

logger = logging.getLogger(__name__)

_CLOSE_AFTER_FLUSH = object()  # outbox sentinel: close with 1012 once what precedes it is sent


class FeedConsumer(AsyncWebsocketConsumer):
    """/ws: one bare message object per frame, so the existing krib client parses each."""

    channel_layer_alias = None
    stream = "ws"

    async def websocket_connect(self, message):
        self.identity = self.scope["identity"]
        self.outbox = asyncio.Queue(maxsize=kirb_setting("WS_OUTBOX_MAX_FRAMES"))
        self.writer = None
        self.closing = False
        self.hub = get_hub()
        try:
            self.params = StreamQueryForm.validate(dict(parse_qsl(self.scope["query_string"].decode("latin-1"))))
            await database_sync_to_async(policy.check_not_blocked)(self.identity)
        except Exception as exception:
            await self.refuse(exception)
            return
        await self.accept()
        self.writer = asyncio.create_task(self.write_loop())
        try:
            await self.hub.join(self, events.groups_for_city(self.params["location"]))
            await self.start_stream()
        except Exception as exception:
            await self.refuse(exception)

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
        if self.writer is None:
            await self.accept()
        if error is not None:
            await self.send_error(error)
        await self.close(code=code)

    async def send_error(self, error):
        """The krib stream has no error frames: its client parses every frame as a message."""

    async def disconnect(self, code):
        if self.writer is not None:
            self.writer.cancel()
        await self.hub.leave(self)

    # --- outgoing ------------------------------------------------------------------------

    def frame_for(self, event):
        return event["bare"]

    def deliver(self, event):
        """Called by the hub for every event of this socket's groups; never blocks."""
        frame = self.frame_for(event)
        if frame is None or not is_visible_to(
            self.identity,
            visibility=event["visibility"],
            poster_key=event["poster_key"],
            poster_ip=event["poster_ip"],
        ):
            return
        self.enqueue(frame)
        if event["kind"] == events.MESSAGE:
            metrics.broadcast_latency_seconds.observe(max(0.0, time.time() - event["published_at"]))

    def enqueue(self, frame):
        if self.closing:
            return
        try:
            self.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            self.disconnect_slow_consumer()

    def disconnect_slow_consumer(self):
        """Dropping silently would leave a gap; closing lets the client resume with since=."""
        metrics.websocket_frames_dropped_total.labels(stream=self.stream).inc()
        logger.info("Slow consumer %s: outbox full, disconnecting", self.identity.key[:12])
        self.closing = True
        asyncio.ensure_future(self.close(code=close_codes.SLOW_CONSUMER))

    def drain(self):
        """The instance is stopping: flush what is queued, then close with 1012."""
        self.enqueue_notice("draining", "This server is restarting; reconnect to continue.")
        self.closing = True
        try:
            self.outbox.put_nowait(_CLOSE_AFTER_FLUSH)
        except asyncio.QueueFull:  # too far behind to flush: it resumes with since=
            asyncio.ensure_future(self.close(code=close_codes.SERVICE_RESTART))

    def enqueue_notice(self, code, message):
        """The krib stream carries message objects only: no notices."""

    async def write_loop(self):
        sent = metrics.websocket_frames_sent_total.labels(stream=self.stream)
        try:
            while True:
                frame = await self.outbox.get()
                if frame is _CLOSE_AFTER_FLUSH:
                    await self.close(code=close_codes.SERVICE_RESTART)
                    return
                await self.send(text_data=frame)
                sent.inc()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Writing to a %s socket failed", self.stream)

    # --- incoming ------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is not None:
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

    async def websocket_connect(self, message):
        self.replaying = False
        self.held = []
        self.replayed_ids = frozenset()
        await super().websocket_connect(message)

    def frame_for(self, event):
        return event["envelope"]

    async def start_stream(self):
        since = self.params["since"]
        if since is None:
            return
        # No gap: the hub joined the groups before the database is read. Replayed
        # messages before live ones: live events arriving meanwhile are held back. No
        # duplicate: a message both read and published around the read is skipped when
        # its live event comes, during the replay or after it.
        self.replaying = True
        try:
            missed, truncated = await database_sync_to_async(services.missed_since)(
                self.identity, self.params["location"], since
            )
        except KirbError as error:
            missed, truncated = [], False
            await self.send_error(error)
        self.replayed_ids = frozenset(str(message.id) for message in missed)
        for message in missed:
            self.enqueue(events.envelope(events.MESSAGE, message.as_wire()))
        self.enqueue(
            events.envelope(events.NOTICE, {"code": "replay_complete", "count": len(missed), "truncated": truncated})
        )
        held, self.held, self.replaying = self.held, [], False
        for event in held:
            self.deliver(event)

    def deliver(self, event):
        if self.replaying:
            self.held.append(event)
            if len(self.held) > kirb_setting("WS_OUTBOX_MAX_FRAMES"):
                self.held, self.replaying = [], False
                self.disconnect_slow_consumer()
            return
        if event["kind"] == events.MESSAGE and event["message_id"] in self.replayed_ids:
            return
        super().deliver(event)

    async def send_error(self, error):
        await self.send(text_data=events.envelope(events.ERROR, error.as_dict()))

    def enqueue_notice(self, code, message):
        self.enqueue(events.envelope(events.NOTICE, {"code": code, "message": message}))

    async def receive_text(self, text):
        try:
            frame = json.loads(text)
        except ValueError:
            frame = None
        if isinstance(frame, dict) and frame.get("type") == "ping":
            self.enqueue(events.envelope(events.NOTICE, {"code": "pong"}))
            return
        metrics.websocket_frames_rejected_total.labels(reason="invalid").inc()
        self.enqueue(
            events.envelope(
                events.ERROR,
                {"error": "invalid_frame", "message": 'The only frame a client may send is {"type": "ping"}.'},
            )
        )
