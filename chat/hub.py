"""One channel-layer member per process, fanning events out to the local sockets, in
event-id order, and healing itself when Redis loses its state (docs/STREAM.md).

With one layer member per socket, a server spends 2.5-3.5x the CPU per frame (see
docs/BENCHMARKS.md). Here the hub is the process's only member, of the all-cities
group: it receives every event once, routes it by city key to the local sockets,
and hands each the already-encoded text, which the socket writes without waiting
(chat.consumers). The hub never awaits a socket, so a slow reader cannot stall the
others; the server closes a reader that falls too far behind (WS_MAX_UNSENT_BYTES).

An event published in this process is also handed to its hub directly, once sent
(chat.events.attach_local_hub): the copy the layer brings back is dropped by its id.

Receiving every event (not only its sockets' cities) is what lets the hub sequence
them: event ids (chat.stream) are gapless in commit order, so the hub dispatches id
N+1 only after N. An event arriving ahead of a gap waits up to HUB_GAP_WAIT_SECONDS
for the missing ones, then they are read from the event log: a lost or late
publication (Redis down, FLUSHALL, the sender's clock ordering the channel) costs a
short delay, never a missing or reordered frame. The same fill catches the sockets
up after a recovery, and the drain uses it to flush everything committed before
SIGTERM whatever order the channel layer delivers in.

Every HUB_CHECK_SECONDS (and whenever /health asks) the hub checks that it is still a
member of the group and that the enforcement state is still in Redis (a FLUSHALL,
eviction or failover to an empty replica drops both without a connection error),
re-joins and rebuilds what was lost, and reports ``recovering`` until it succeeds.
"""

import asyncio
import logging
import time
from collections import defaultdict

from channels.layers import get_channel_layer

from chat import events, stream
from core import dbpool, lifecycle, metrics, outages
from core.conf import kirb_setting
from core.errors import RateLimited, ServiceUnavailable
from security import moderation, store

logger = logging.getLogger(__name__)

LIVE = "live"
RECOVERING = "recovering"
IDLE = "idle"  # no hub started in this process yet

# How many log events the hub reads per query when filling a gap.
FILL_PAGE = 500


class Hub:
    def __init__(self, loop):
        self.loop = loop
        self.layer = get_channel_layer()
        self.channel = None
        self.state = RECOVERING
        self.sockets = {}  # socket -> the asyncio task serving it (for the ghost sweep)
        self.sockets_per_ip = defaultdict(int)
        self._feeds = defaultdict(set)  # city key ("" for every city) -> local sockets
        self.next_event_id = None  # the first event id not dispatched yet
        self._ahead = {}  # event id -> hub event received before the ones below it
        self._fill_task = None
        self._fill_lock = asyncio.Lock()
        self._all_closed = asyncio.Event()
        self._start_lock = asyncio.Lock()
        self._check_now = asyncio.Event()
        self._tasks = []
        self._joined_at = 0.0

    # --- sockets -----------------------------------------------------------------------

    def refusal_for(self, ip):
        """Why a new socket from ``ip`` may not open now, or None."""
        if lifecycle.is_draining():
            return ServiceUnavailable("This server is restarting; reconnect.", code="draining")
        if len(self.sockets) >= kirb_setting("WS_MAX_CONNECTIONS"):
            return ServiceUnavailable("This server is full; try again shortly.", code="server_full")
        if self.sockets_per_ip[ip] >= kirb_setting("WS_MAX_CONNECTIONS_PER_IP"):
            return RateLimited("Too many open connections from your network.", code="too_many_connections", retry_after_seconds=kirb_setting("HUB_RETRY_SECONDS"))
        return None

    async def join(self, socket, city_key):
        """Register ``socket`` for ``city_key``'s feed ("" for every city); returns once
        the hub dispatches every event committed from now on (what makes since= gap-free).
        """
        refusal = self.refusal_for(socket.identity.ip)
        if refusal is not None:
            raise refusal
        await self.start()
        self.sockets[socket] = asyncio.current_task()
        self.sockets_per_ip[socket.identity.ip] += 1
        self._feeds[city_key].add(socket)
        socket.hub_feed = city_key
        metrics.active_websocket_connections.inc()

    def leave(self, socket):
        """Forget ``socket``; idempotent, synchronous (safe in a cancelled task's finally)."""
        if socket in self.sockets:
            del self.sockets[socket]
            ip = socket.identity.ip
            self.sockets_per_ip[ip] -= 1
            if self.sockets_per_ip[ip] <= 0:
                del self.sockets_per_ip[ip]
            metrics.active_websocket_connections.dec()
        feed = getattr(socket, "hub_feed", None)
        if feed is not None:
            members = self._feeds.get(feed)
            if members is not None:
                members.discard(socket)
                if not members:
                    del self._feeds[feed]  # no per-city state outlives its last socket
            socket.hub_feed = None
        if not self.sockets:
            self._all_closed.set()

    def sweep(self):
        """Drop sockets whose application task ended without ``disconnect`` (daphne
        cancelled it, or it died): they would hold the gauge and the IP's slots forever."""
        ghosts = [socket for socket, task in self.sockets.items() if task is not None and task.done()]
        for socket in ghosts:
            self.leave(socket)
        if ghosts:
            metrics.ghost_sockets_swept_total.inc(len(ghosts))
            logger.warning("Swept %d ghost sockets", len(ghosts))
        return len(ghosts)

    # --- starting, and the channel layer --------------------------------------------------

    async def start(self):
        """Join the channel layer (once); raises while Redis or the database is down."""
        if self.channel is not None:
            return
        async with self._start_lock:
            if self.channel is not None:
                return
            channel = await self.layer.new_channel(prefix="kirb-hub.")
            # Events committed between reading the mark and joining are filled from
            # the log when the next one arrives (or at the next check).
            next_event_id = await dbpool.run(stream.high_water_mark) + 1
            await self.layer.group_add(events.ALL_CITIES_GROUP, channel)
            self._joined_at = self.loop.time()
            self.channel, self.next_event_id = channel, next_event_id
            self.state = LIVE
            events.attach_local_hub(self)
            self._tasks = [
                asyncio.create_task(self._receive_loop(), name="kirb-hub-receive"),
                asyncio.create_task(self._check_loop(), name="kirb-hub-check"),
            ]

    async def _receive_loop(self):
        while True:
            try:
                event = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                outages.channel_layer.failed(error)
                self._set_state(RECOVERING)
                self._check_now.set()
                await asyncio.sleep(kirb_setting("HUB_RETRY_SECONDS"))
                continue
            self.take(event)

    async def _check_loop(self):
        while True:
            try:
                await asyncio.wait_for(self._check_now.wait(), kirb_setting("HUB_CHECK_SECONDS"))
            except asyncio.TimeoutError:
                pass
            self._check_now.clear()
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # Redis or the database is still down: say so, try again soon.
                self._set_state(RECOVERING)
                (outages.database if _is_database_error(error) else outages.redis).failed(error)
                await asyncio.sleep(kirb_setting("HUB_RETRY_SECONDS"))
                self._check_now.set()

    async def check(self):
        """Verify (and repair) membership and enforcement state, catch up from the log,
        sweep ghosts. Raises if Redis or the database cannot be reached."""
        self.sweep()
        lost = []
        if not await self.is_member():
            lost.append("membership")
            self._set_state(RECOVERING)
            await self._join_group()
        elif self.loop.time() - self._joined_at >= kirb_setting("HUB_GROUP_REFRESH_SECONDS"):
            await self._join_group()  # before channels_redis' group_expiry forgets us
        if await dbpool.run(moderation.sync_bans_if_redis_lost) is not None:
            lost.append("enforcement")
        await self.fill()
        outages.redis.recovered()
        outages.channel_layer.recovered()
        for what in lost:
            metrics.stream_recoveries_total.labels(lost=what).inc()
        if lost or self.state != LIVE:
            logger.warning("Stream recovered (lost: %s); caught up to event %d", ", ".join(lost) or "nothing", self.next_event_id - 1)
        self._set_state(LIVE)

    async def _join_group(self):
        await self.layer.group_add(events.ALL_CITIES_GROUP, self.channel)
        self._joined_at = self.loop.time()

    async def is_member(self):
        connection = self.layer.connection(self.layer.consistent_hash(events.ALL_CITIES_GROUP))
        return await connection.zscore(self.layer._group_key(events.ALL_CITIES_GROUP), self.channel) is not None

    async def verify(self):
        """For /health: is this hub able to deliver now? Cheap (two Redis reads); a
        problem found wakes the check loop, which repairs it."""
        await self.start()
        connection = self.layer.connection(self.layer.consistent_hash(events.ALL_CITIES_GROUP))
        member, synced = await asyncio.gather(
            self.is_member(), connection.exists(store.key(*moderation.SYNC_MARKER))
        )
        if not (member and synced):
            self._set_state(RECOVERING)
            self._check_now.set()
        return self.state

    def _set_state(self, state):
        if state != self.state:
            self.state = state
            metrics.stream_recovering.set(1 if state == RECOVERING else 0)
            if state == RECOVERING:
                logger.warning("Stream recovering: this instance cannot deliver live events until it re-joins")

    # --- sequencing ----------------------------------------------------------------------

    @property
    def newest_known_id(self):
        """The newest event id this hub has dispatched or holds back for a gap (0 before it starts)."""
        if self.next_event_id is None:
            return 0
        return max(self.next_event_id - 1, max(self._ahead, default=0))

    def take(self, event):
        """``on_event``, a failure logged, not raised: one event that cannot be
        dispatched must stop neither the receive loop nor a publish."""
        try:
            self.on_event(event)
        except Exception:
            logger.exception("Hub could not dispatch an event")

    def on_event(self, event):
        event_id = event.get("event_id")
        if event_id is None or event_id < self.next_event_id:
            return  # already dispatched (read from the log before it arrived)
        if event_id > self.next_event_id:
            self._ahead[event_id] = event
            if self._fill_task is None or self._fill_task.done():
                self._fill_task = asyncio.create_task(self._fill_after_wait(), name="kirb-hub-fill")
            return
        self._dispatch(event)
        self._dispatch_ahead()

    def _dispatch_ahead(self):
        while self.next_event_id in self._ahead:
            self._dispatch(self._ahead.pop(self.next_event_id))

    async def _fill_after_wait(self):
        await asyncio.sleep(kirb_setting("HUB_GAP_WAIT_SECONDS"))
        if self._ahead:
            try:
                await self.fill(max(self._ahead) - 1)
            except Exception as error:
                outages.database.failed(error)
                self._check_now.set()  # the check loop retries the fill

    async def fill(self, upto=None):
        """Dispatch from the log every event up to ``upto`` (default: the newest
        committed) not dispatched yet. Ids missing from the log were purged."""
        async with self._fill_lock:
            if upto is None:
                upto = await dbpool.run(stream.high_water_mark)
            while self.next_event_id <= upto:
                page, read_upto = await dbpool.run(
                    stream.hub_events_between, self.next_event_id, upto, FILL_PAGE
                )
                metrics.stream_events_filled_total.inc(
                    sum(1 for e in page if e["event_id"] >= self.next_event_id and e["event_id"] not in self._ahead)
                )
                for event in page:
                    if event["event_id"] >= self.next_event_id:
                        self._ahead.setdefault(event["event_id"], event)
                # Everything up to read_upto is committed: what is neither in the page
                # nor received was purged (or is a message since deleted): skip it.
                for event_id in sorted(i for i in self._ahead if i <= read_upto):
                    event = self._ahead.pop(event_id)
                    if event_id >= self.next_event_id:
                        self._dispatch(event)
                self.next_event_id = max(self.next_event_id, read_upto + 1)
                self._dispatch_ahead()

    def _dispatch(self, event):
        """Hand ``event`` to each local socket of its feed; the metrics move once per
        event and stream (frames sent, and the time from commit to the last socket),
        not once per socket."""
        self.next_event_id = event["event_id"] + 1
        everywhere = self._feeds.get("")
        city = self._feeds.get(event["city_key"]) if event.get("city_key") else None
        sent = defaultdict(int)  # stream -> frames handed to its sockets
        for targets in (everywhere, city):
            if targets:
                # A copy: a socket closed under its write leaves the hub at once.
                for socket in tuple(targets):
                    if socket.deliver(event):
                        sent[socket.stream] += 1
        for stream_name, count in sent.items():
            metrics.websocket_frames_sent_total.labels(stream=stream_name).inc(count)
            if event["kind"] == events.MESSAGE:
                metrics.broadcast_latency_seconds.observe(max(0.0, time.time() - event["published_at"]))

    # --- drain ---------------------------------------------------------------------------

    async def drain(self):
        """Deliver every event committed before now, then close every socket with 1012.

        The high-water mark of the log is read now and everything up to it is
        dispatched (from the log if the channel layer has not brought it yet), so the
        order of the channel layer, which is by each sender's clock, does not matter.
        """
        if self.channel is not None and self.sockets:
            try:
                await self.fill()
            except Exception:
                logger.warning("Drain could not read the event log; clients resume with since=")
        if self.sockets:
            self._all_closed.clear()
            for socket in list(self.sockets):
                socket.drain()
            await self._all_closed.wait()
        await self.stop()  # leave the group now rather than after its expiry

    async def stop(self):
        events.detach_local_hub(self)
        for task in self._tasks:
            task.cancel()
        if self._fill_task is not None:
            self._fill_task.cancel()
        if self.channel is not None:
            try:
                await self.layer.group_discard(events.ALL_CITIES_GROUP, self.channel)
            except Exception:
                pass


def _is_database_error(error):
    from django.db import DatabaseError

    return isinstance(error, DatabaseError)


_hub = None


async def drain_current():
    """SIGTERM (core.lifecycle): drain this process's hub, if one started."""
    if _hub is not None:
        await _hub.drain()


def get_hub():
    """The process's hub, bound to the running event loop."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop:
        _hub = Hub(loop)
    return _hub


async def stream_state():
    """For /health: ``live``, or ``recovering`` while this instance cannot deliver."""
    hub = get_hub()
    try:
        return await asyncio.wait_for(hub.verify(), kirb_setting("HEALTH_TIMEOUT_SECONDS"))
    except asyncio.CancelledError:
        raise
    except Exception:
        hub._set_state(RECOVERING)
        hub._check_now.set()
        return RECOVERING


def local_socket_count():
    """Open sockets on this process (for /health; safe to call from any thread)."""
    return len(_hub.sockets) if _hub is not None else 0
