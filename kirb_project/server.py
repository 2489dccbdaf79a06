"""Kirb's daphne: timeouts, body and header limits, and a graceful drain on SIGTERM.

daphne itself does not drain (it cancels applications on shutdown without closing
their sockets), cannot send the RFC 6455 server close codes, reads request bodies of
any size, and gives a client as long as it likes to send its headers. ``serve`` runs
daphne with the adjustments below; ``manage.py serve`` is its command line.
"""

import asyncio
import json
import logging
import resource
import signal

from daphne import server as daphne_server
from daphne.endpoints import build_endpoint_description_strings
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from django.conf import settings
from twisted.internet import reactor

from kirb_project import lifecycle
from kirb_project.conf import kirb_setting
from kirb_project.errors import PayloadTooLarge

logger = logging.getLogger(__name__)

# The sockets and in-flight requests get this share of the drain deadline; the rest is
# for daphne to stop.
DRAIN_SHARE_OF_DEADLINE = 0.8
IN_FLIGHT_POLL_SECONDS = 0.05


class KirbWebSocketProtocol(WebSocketProtocol):
    """daphne's WebSocket protocol, able to send the RFC 6455 server close codes.

    autobahn's ``sendClose`` lets applications use only 1000 and 3000-4999, so daphne
    turns a close with 1003, 1009, 1012 or 1013 into an exception (and the client sees
    1011). ``sendCloseFrame`` is the same call without that check.
    """

    def serverClose(self, code=None):
        self.sendCloseFrame(code=1000 if code is None else code, isReply=False)


class KirbWebRequest(WebRequest):
    """Refuses a body over MAX_REQUEST_BODY_BYTES as soon as it is announced or exceeded,
    instead of buffering all of it first (Django would refuse it too, but only after)."""

    refused = False
    received_bytes = 0

    def gotLength(self, length):
        self.channel.headers_received = True  # see KirbHTTPFactory
        if length is not None and length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            self.refuse_too_large()
            return
        super().gotLength(length)

    def handleContentChunk(self, data):
        if self.refused:
            return
        self.received_bytes += len(data)
        if self.received_bytes > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            self.refuse_too_large()
            return
        super().handleContentChunk(data)

    def process(self):
        if not self.refused:
            super().process()

    def refuse_too_large(self):
        self.refused = True
        body = json.dumps(PayloadTooLarge().as_dict()).encode()
        self.channel.transport.write(
            b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        self.channel.transport.loseConnection()


class KirbHTTPFactory(HTTPFactory):
    """Connections must finish their first request's headers within a deadline (slowloris)."""

    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = KirbWebRequest
        protocol.timeOut = kirb_setting("HTTP_IDLE_TIMEOUT_SECONDS")
        reactor.callLater(kirb_setting("HTTP_HEADER_TIMEOUT_SECONDS"), _drop_if_headers_unfinished, protocol)
        return protocol


def _drop_if_headers_unfinished(protocol):
    """A client trickling its headers a byte at a time holds a socket for free: drop it.

    The idle timeout alone cannot, since every byte resets it.
    """
    # Twisted wraps the HTTPChannel in a protocol that picks HTTP/1.1 or HTTP/2.
    channel = getattr(protocol, "_channel", protocol)
    if not getattr(channel, "headers_received", False) and channel.transport is not None:
        channel.transport.abortConnection()


class KirbServer(daphne_server.Server):
    """daphne's server, keeping its listening ports so a drain can close them."""

    def run(self):
        self.ports = []
        self.listen_failed = False
        super().run()

    def listen_error(self, failure):
        self.listen_failed = True
        super().listen_error(failure)

    def listen_success(self, port):
        self.ports.append(port)
        super().listen_success(port)

    def stop_listening(self):
        for port in self.ports:
            port.stopListening()

    def http_requests_in_flight(self):
        return sum(
            1
            for protocol, details in self.connections.items()
            if isinstance(protocol, WebRequest)
            and details.get("application_instance") is not None
            and not details["application_instance"].done()
        )


def _raise_open_files_limit():
    """Each socket is a file descriptor: allow as many as the system lets us."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def serve(host, port):
    """Serve until drained; returns False if the server could not listen."""
    daphne_server.HTTPFactory = KirbHTTPFactory
    WebSocketFactory.protocol = KirbWebSocketProtocol
    _raise_open_files_limit()
    server = KirbServer(
        application=_application(),
        endpoints=build_endpoint_description_strings(host=host, port=port),
        signal_handlers=False,
        http_timeout=kirb_setting("HTTP_TIMEOUT_SECONDS"),
        websocket_handshake_timeout=kirb_setting("WS_HANDSHAKE_TIMEOUT_SECONDS"),
        websocket_connect_timeout=kirb_setting("WS_HANDSHAKE_TIMEOUT_SECONDS"),
        ping_interval=kirb_setting("WS_PING_INTERVAL_SECONDS"),
        ping_timeout=kirb_setting("WS_PING_TIMEOUT_SECONDS"),
        websocket_max_message_size=kirb_setting("WS_MAX_INCOMING_FRAME_BYTES") * 2,
        websocket_max_frame_size=kirb_setting("WS_MAX_INCOMING_FRAME_BYTES") * 2,
        application_close_timeout=kirb_setting("DRAIN_DEADLINE_SECONDS"),
        server_name="kirb",
    )
    reactor.callWhenRunning(_install_signal_handlers, server)
    server.run()
    return not server.listen_failed


def _application():
    from django.utils.module_loading import import_string

    return import_string(settings.ASGI_APPLICATION)


def _install_signal_handlers(server):
    loop = asyncio.get_event_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, _start_drain, server, signum)


def _start_drain(server, signum):
    if lifecycle.is_draining():
        return
    logger.warning("%s: draining (deadline %s s)", signal.Signals(signum).name, kirb_setting("DRAIN_DEADLINE_SECONDS"))
    asyncio.ensure_future(_drain_then_stop(server))


async def _drain_then_stop(server):
    """Sockets first, then a linger on /health, then HTTP requests still being answered."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + kirb_setting("DRAIN_DEADLINE_SECONDS") * DRAIN_SHARE_OF_DEADLINE
    try:
        await asyncio.wait_for(lifecycle.drain(), timeout=deadline - loop.time())
    except asyncio.TimeoutError:
        logger.warning("Drain deadline reached with sockets still open; stopping anyway")
    except Exception:
        logger.exception("Drain failed; stopping anyway")
    # Keep serving (and /health answering 503) a little longer, so a load balancer that
    # polls it sees the instance leave rather than a refused connection.
    await asyncio.sleep(max(0.0, min(kirb_setting("DRAIN_LINGER_SECONDS"), deadline - loop.time())))
    # Then take no new connections, and let requests already inside Django finish:
    # stopping the reactor under them would cut their answers (a proxy gets a 502).
    server.stop_listening()
    while server.http_requests_in_flight() and loop.time() < deadline:
        await asyncio.sleep(IN_FLIGHT_POLL_SECONDS)
    reactor.stop()
