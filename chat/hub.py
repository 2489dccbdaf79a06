"""One channel-layer member per process, fanning events out to the local sockets.

With one layer member per socket, a server spends 2.5-3.5x the CPU per frame (see
docs/BENCHMARKS.md): every event becomes a channel-layer receive and a Channels
dispatch (with a thread hop to close old database connections) per socket.
Here the hub joins each group its sockets need once (reference-counted: the first
local socket joins, the last one leaves), receives each event once, and hands the
already-encoded text to every interested socket, which queues it in its own bounded
outbox. The hub never awaits a socket, so a slow reader cannot stall the others.
"""

import asyncio
import logging
from collections import defaultdict

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from kirb_project import lifecycle, metrics
from kirb_project.conf import kirb_setting
from kirb_project.errors import RateLimited, ServiceUnavailable
from security import moderation

logger = logging.getLogger(__name__)

DRAIN_MARKER = "hub.drain_marker"


class Hub:
    def __init__(self, loop):
        self.loop = loop
        self.layer = get_channel_layer()
        self.channel = None
        self.sockets = set()
        self.sockets_per_ip = defaultdict(int)
        self._drain_marker = None
        self._all_closed = asyncio.Event()
        self._members = defaultdict(set)  # group -> local sockets in it
        self._joined = set()  # groups the hub is a layer member of
        self._locks = defaultdict(asyncio.Lock)  # serialise join/leave per group
        self._start_lock = asyncio.Lock()
        self._tasks = []

    async def _start(self):
        async with self._start_lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel(prefix="kirb-hub.")
                self._tasks = [
                    asyncio.create_task(self._receive_loop(), name="kirb-hub-receive"),
                    asyncio.create_task(self._refresh_loop(), name="kirb-hub-refresh"),
                ]

    def refusal_for(self, ip):
        """Why a new socket from ``ip`` may not open now, or None."""
        if lifecycle.is_draining():
            return ServiceUnavailable("This server is restarting; reconnect.", code="draining")
        if len(self.sockets) >= kirb_setting("WS_MAX_CONNECTIONS"):
            return ServiceUnavailable("This server is full; try again shortly.", code="server_full")
        if self.sockets_per_ip[ip] >= kirb_setting("WS_MAX_CONNECTIONS_PER_IP"):
            return RateLimited("Too many open connections from your network.", code="too_many_connections", retry_after_seconds=kirb_setting("HUB_RETRY_SECONDS"))
        return None

    async def join(self, socket, groups):
        """Register ``socket`` for ``groups``; returns once the hub receives their events.

        Waiting for the group join (also when another socket started it) is what makes
        since= replay gap-free: the hub is in the group before the database is read.
        """
        refusal = self.refusal_for(socket.identity.ip)
        if refusal is not None:
            raise refusal
        self.sockets.add(socket)
        self.sockets_per_ip[socket.identity.ip] += 1
        metrics.active_websocket_connections.inc()
        await self._start()
        for group in groups:
            self._members[group].add(socket)
        for group in groups:
            await self._sync_membership(group)

    async def leave(self, socket):
        if socket not in self.sockets:
            return
        self.sockets.discard(socket)
        self.sockets_per_ip[socket.identity.ip] -= 1
        if not self.sockets_per_ip[socket.identity.ip]:
            del self.sockets_per_ip[socket.identity.ip]
        if not self.sockets:
            self._all_closed.set()
        metrics.active_websocket_connections.dec()
        groups = [group for group, members in self._members.items() if socket in members]
        for group in groups:
            self._members[group].discard(socket)
        for group in groups:
            await self._sync_membership(group)

    async def _sync_membership(self, group):
        """Make the layer membership match whether any local socket wants ``group``."""
        async with self._locks[group]:
            wanted = bool(self._members.get(group))
            if wanted and group not in self._joined:
                await self.layer.group_add(group, self.channel)
                self._joined.add(group)
            elif not wanted and group in self._joined:
                self._joined.discard(group)
                self._members.pop(group, None)
                await self.layer.group_discard(group, self.channel)

    def dispatch(self, event):
        if event["type"] == DRAIN_MARKER:
            self._drain_marker.set_result(None)
            return
        for socket in list(self._members.get(event["group"], ())):
            socket.deliver(event)

    async def drain(self):
        """Deliver what was published before now, then close every socket with 1012.

        Events published before the drain began are in this hub's channel ahead of a
        marker sent now (the channel is FIFO), so they reach the sockets first.
        """
        if self.channel is not None and self.sockets:
            self._drain_marker = asyncio.get_running_loop().create_future()
            await self.layer.send(self.channel, {"type": DRAIN_MARKER})
            await self._drain_marker
        if self.sockets:
            self._all_closed.clear()
            for socket in list(self.sockets):
                socket.drain()
            await self._all_closed.wait()

    async def _receive_loop(self):
        while True:
            try:
                event = await self.layer.receive(self.channel)
                self.dispatch(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Hub could not receive from the channel layer; retrying")
                await asyncio.sleep(kirb_setting("HUB_RETRY_SECONDS"))
                await self._recover()

    async def _refresh_loop(self):
        """Re-join every group before channels_redis' group_expiry forgets the hub."""
        while True:
            await asyncio.sleep(kirb_setting("HUB_GROUP_REFRESH_SECONDS"))
            await self._rejoin_groups()

    async def _recover(self):
        """Redis may have come back empty (it keeps nothing on disk): re-join our groups
        and, if no instance did yet, rebuild the bans and blocks from the database."""
        await self._rejoin_groups()
        try:
            await database_sync_to_async(moderation.sync_bans_if_redis_lost)()
        except Exception:
            logger.warning("Could not check the enforcement state in Redis; will retry")

    async def _rejoin_groups(self):
        for group in list(self._joined):
            try:
                await self.layer.group_add(group, self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("Hub could not re-join group %s; will retry", group)


_hub = None


def current_hub():
    return _hub


def get_hub():
    """The process's hub, bound to the running event loop."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop:
        _hub = Hub(loop)
    return _hub


def local_socket_count():
    """Open sockets on this process (for /health; safe to call from any thread)."""
    return len(_hub.sockets) if _hub is not None else 0
