"""This process's lifecycle: serving, then draining on SIGTERM.

Draining: /health answers 503 at once (the load balancer stops routing here), new
WebSocket handshakes are refused with 1012, and every open socket gets what was
published before the signal, a ``draining`` notice, then close code 1012 (service
restart), so its client reconnects elsewhere with ``since=``.
"""

_draining = False


def is_draining():
    return _draining


async def drain():
    global _draining
    _draining = True
    from chat.hub import current_hub

    hub = current_hub()
    if hub is not None:
        await hub.drain()
