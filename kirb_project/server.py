"""Kirb's adjustments to daphne, applied by ``manage.py serve``."""

from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol


class KirbWebSocketProtocol(WebSocketProtocol):
    """daphne's WebSocket protocol, able to send the RFC 6455 server close codes.

    autobahn's ``sendClose`` lets applications use only 1000 and 3000-4999, so daphne
    turns a close with 1003, 1009, 1012 or 1013 into an exception (and the client sees
    1011). ``sendCloseFrame`` is the same call without that check.
    """

    def serverClose(self, code=None):
        self.sendCloseFrame(code=1000 if code is None else code, isReply=False)


def install():
    WebSocketFactory.protocol = KirbWebSocketProtocol
