"""This process's lifecycle: serving, then draining on SIGTERM; and the one place the
server and /health learn about live sockets without knowing which app holds them.

Draining: /health answers 503 at once (the load balancer stops routing here), new
WebSocket handshakes are refused with 1012, and every open socket gets what was
published before the signal, a ``draining`` notice, then close code 1012 (service
restart), so its client reconnects elsewhere with ``since=``.

The app that serves sockets (chat, from its AppConfig.ready) registers a ``LiveSockets``
provider; like a Django signal receiver, it is looked up at call time, so this base
module imports no app.
"""

from dataclasses import dataclass
from typing import Awaitable, Callable

@dataclass(frozen=True)
class LiveSockets:
    count: Callable[[], int]  # open sockets in this process (any thread)
    stream_state: Callable[[], Awaitable[str]]  # "live", or "recovering" when it cannot deliver
    drain: Callable[[], Awaitable[None]]  # flush and close every socket


async def _always_live():
    return "live"


async def _nothing_to_drain():
    pass


_live_sockets = LiveSockets(count=lambda: 0, stream_state=_always_live, drain=_nothing_to_drain)
_draining = False


def provide_live_sockets(provider):
    global _live_sockets
    _live_sockets = provider


def live_sockets():
    return _live_sockets


def is_draining():
    return _draining


async def drain():
    global _draining
    _draining = True
    await _live_sockets.drain()
