"""Kirb's daphne: timeouts, body and header limits, and a graceful drain on SIGTERM.

daphne itself does not drain (it cancels applications on shutdown without closing
their sockets), cannot send the RFC 6455 server close codes, reads request bodies of
any size, gives a client as long as it likes to send its headers or its body, and
lets one address open any number of connections. ``serve`` runs daphne with the
adjustments below; ``manage.py serve`` is its command line.
"""

import asyncio
import collections
import ctypes
import functools
import gc
import json
import logging
import resource
import os
import signal
import socket
import sys
import time

from daphne import server as daphne_server
from daphne.endpoints import build_endpoint_description_strings
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from django.conf import settings
from twisted.internet import reactor, tcp
from twisted.internet.protocol import Protocol
from twisted.protocols.policies import ProtocolWrapper

from chat import close_codes
from chat.consumers import WRITER_SCOPE_KEY
from core import lifecycle, metrics
from core.conf import kirb_setting
from core.errors import PayloadTooLarge, RateLimited, RequestTimeout
from security.identity import parse_ip, peer_is_trusted

logger = logging.getLogger(__name__)

# The sockets and in-flight requests get this share of the drain deadline; the rest is
# for daphne to stop.
DRAIN_SHARE_OF_DEADLINE = 0.8
IN_FLIGHT_POLL_SECONDS = 0.05
# A connection over the per-address cap is told to come back after this long (by then
# a browser's idle keep-alive connections have usually closed).
CONNECTION_CAP_RETRY_AFTER_SECONDS = 5
# A refused connection is kept this long at most for the client to read the answer and
# close first (closing on unread request bytes would reset it, losing the answer).
REFUSAL_LINGER_SECONDS = 1
# How often a WebSocket that stopped reading (its application is behind) checks again.
BACKLOG_POLL_SECONDS = 0.01
# RFC 6455 framing of a server's (unmasked, unfragmented) text message.
_FIN_TEXT = 0x81
_LENGTH_7_MAX, _LENGTH_16_MAX = 125, 0xFFFF
_LENGTH_16, _LENGTH_64 = 126, 127


def error_bytes(status_line, error):
    """A complete HTTP/1.1 answer carrying ``error``'s JSON body, closing the connection."""
    body = json.dumps(error.as_dict()).encode()
    retry_after = b"Retry-After: %d\r\n" % error.retry_after_seconds if isinstance(error, RateLimited) else b""
    return (
        b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nConnection: close\r\n%sContent-Length: %d\r\n\r\n%s"
        % (status_line, retry_after, len(body), body)
    )


def frame_text(text):
    """``text`` as one WebSocket text frame, ready for the wire: an event going to many
    sockets is framed once (autobahn would frame it again for each)."""
    payload = text.encode()
    length = len(payload)
    if length <= _LENGTH_7_MAX:
        header = bytes((_FIN_TEXT, length))
    elif length <= _LENGTH_16_MAX:
        header = bytes((_FIN_TEXT, _LENGTH_16)) + length.to_bytes(2, "big")
    else:
        header = bytes((_FIN_TEXT, _LENGTH_64)) + length.to_bytes(8, "big")
    return header + payload


class KirbWebSocketProtocol(WebSocketProtocol):
    """daphne's WebSocket protocol, able to send the RFC 6455 server close codes,
    reading a socket no faster than its application takes the frames, closing a reader
    that lets more than WS_MAX_UNSENT_BYTES pile up, and writing pre-framed messages
    straight to the socket.

    autobahn's ``sendClose`` lets applications use only 1000 and 3000-4999, so daphne
    turns a close with 1003, 1009, 1012 or 1013 into an exception (and the client sees
    1011). ``sendCloseFrame`` is the same call without that check.

    daphne's ``send`` never waits for the client: what the kernel does not take piles up
    in Twisted's write buffer. Every write here checks that pile, whichever path it takes
    (a consumer's ASGI ``send`` or ``write_frame``), so the bound holds for any application.
    """

    backlog_paused = False
    slow_reader_closed = False
    _descriptor = None  # the Twisted TCP connection whose buffer holds what is unsent
    _direct = None  # that connection when nothing stands between it and us but plain relays
    _max_unsent_bytes = None

    def serverClose(self, code=None):
        self.sendCloseFrame(code=1000 if code is None else code, isReply=False)

    def onMessage(self, payload, isBinary):
        # Once Kirb has closed the socket (a flood closed with 1008, say), autobahn still
        # parses what the client keeps sending until the close handshake ends; daphne
        # would queue each frame, unbounded, for an application that is going away.
        if self.state == self.STATE_CLOSING and getattr(self, "closedByMe", False):
            return
        super().onMessage(payload, isBinary)

    def processData(self):
        """Backpressure on incoming frames: parse no further while a window's worth
        (WS_MAX_INCOMING_FRAMES) waits for the application.

        daphne queues every parsed frame without bound, and the consumer takes one per
        event-loop turn while one 64 KiB read parses thousands: a flood would be queued
        whole (tens of MB) before the consumer's rate limit saw its 21st frame. The
        rest waits unparsed in this read's buffer, and TCP pushes back on the client.
        """
        if self.state == self.STATE_OPEN and self.application_backlog() >= kirb_setting("WS_MAX_INCOMING_FRAMES"):
            if not self.backlog_paused:
                self.backlog_paused = True
                self.transport.pauseProducing()
                reactor.callLater(BACKLOG_POLL_SECONDS, self.resume_when_caught_up)
            return False  # autobahn's "wait for more data": what is buffered stays buffered
        return super().processData()

    def application_backlog(self):
        queue = getattr(self, "application_queue", None)
        return 0 if queue is None else queue.qsize()

    def resume_when_caught_up(self):
        if self.state == self.STATE_CLOSED:
            return
        if self.state == self.STATE_OPEN and self.application_backlog() >= kirb_setting("WS_MAX_INCOMING_FRAMES"):
            reactor.callLater(BACKLOG_POLL_SECONDS, self.resume_when_caught_up)
            return
        self.backlog_paused = False
        self.transport.resumeProducing()
        self.consumeData()

    # --- writing: the consumers' direct path, and the bound on unsent bytes ----------

    prepare_text = staticmethod(frame_text)

    def write_frame(self, frame, bounded=True):
        """Write a frame from ``prepare_text`` now; False if the socket is not open.

        With nothing buffered the frame goes straight to the kernel: Twisted's
        ``write`` would buffer it and register the socket as a writer with the event
        loop, to unregister it once the loop has sent it, for every frame. ``bounded``
        False: a burst the application has bounded itself (a since= replay) is not
        checked against WS_MAX_UNSENT_BYTES; the next write is.
        """
        if self.state != self.STATE_OPEN:
            return False
        direct = self._direct_connection()
        if (
            direct is not None
            and not direct._tempDataLen
            and direct.offset >= len(direct.dataBuffer)
            and not self.send_queue  # autobahn's own delayed writes go first
            and direct.connected
            and not direct.disconnecting
        ):
            sent = direct.writeSomeData(frame)
            if isinstance(sent, int) and sent > 0:
                if sent == len(frame):
                    return True
                frame = frame[sent:]
            # Else the kernel took nothing, or the connection failed: Twisted's write
            # buffers it, and its next attempt reports the failure.
        self.transport.write(frame)
        if bounded:
            self.enforce_unsent_bound()
        return True

    def close_now(self, code):
        """Close with ``code`` after what is already written (the consumers' drain)."""
        if self.state == self.STATE_OPEN:
            self.serverClose(code)

    def connectionMade(self):
        super().connectionMade()
        descriptor = self._buffering_descriptor()
        sock = getattr(descriptor, "socket", None)
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Fixed, not autotuned: Linux grows a socket's send buffer up to tcp_wmem's
            # maximum (4 MiB, at once over loopback), kernel memory that would hold a
            # reader's backlog out of sight of WS_MAX_UNSENT_BYTES.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, kirb_setting("WS_SEND_BUFFER_BYTES"))

    def sendData(self, data, sync=False, chopsize=None):
        super().sendData(data, sync, chopsize)
        self.enforce_unsent_bound()

    def unsent_bytes(self):
        """What Twisted holds for this socket because the kernel would not take it."""
        descriptor = self._buffering_descriptor()
        if descriptor is None or descriptor.dataBuffer is None:
            return 0
        return len(descriptor.dataBuffer) - descriptor.offset + descriptor._tempDataLen

    def enforce_unsent_bound(self):
        if self.slow_reader_closed or self.state == self.STATE_CLOSED:
            return
        if self._max_unsent_bytes is None:
            self._max_unsent_bytes = kirb_setting("WS_MAX_UNSENT_BYTES")
        unsent = self.unsent_bytes()
        if unsent > self._max_unsent_bytes:
            self.close_slow_reader(unsent)

    def close_slow_reader(self, unsent):
        """Close with 4408 (the client resumes with since=) and drop what it never read.

        The close frame waits behind the unread data, so the reader will not see it
        while it is not reading: autobahn's close-handshake timeout (closeHandshakeTimeout,
        1 s) aborts the connection, which frees the buffer; a socket already closing is
        aborted at once. The application gets websocket.disconnect with 4408.
        """
        self.slow_reader_closed = True
        metrics.websocket_slow_consumers_closed_total.labels(bound="unsent_bytes").inc()
        logger.info(
            "Slow WebSocket reader on %s: %d bytes unsent (bound %d), closing with %d",
            getattr(self, "path", b"?").decode("ascii", "replace"), unsent, self._max_unsent_bytes,
            close_codes.SLOW_CONSUMER,
        )
        if self.state == self.STATE_OPEN:
            self.sendCloseFrame(code=close_codes.SLOW_CONSUMER, isReply=False)
        else:
            self.dropConnection(abort=True)

    def onClose(self, wasClean, code, reason):
        if self.slow_reader_closed:
            code = close_codes.SLOW_CONSUMER  # the reader never answered our close
        super().onClose(wasClean, code, reason)

    def connectionLost(self, reason):
        # What was never sent can never be: release it now rather than when daphne
        # reaps this protocol (after its application ends, up to a second later).
        descriptor = self._buffering_descriptor()
        super().connectionLost(reason)
        if descriptor is not None:
            descriptor.dataBuffer, descriptor.offset = b"", 0
            descriptor._tempDataBuffer, descriptor._tempDataLen = [], 0

    def _buffering_descriptor(self):
        """The TCP connection under our relays (and TLS, if any): its buffer is the pile."""
        if self._descriptor is None:
            transport = self.transport
            while isinstance(transport, ProtocolWrapper):
                transport = transport.transport
            if hasattr(transport, "_tempDataLen"):
                self._descriptor = transport
                self._direct = transport if self._relays_only() and isinstance(transport, tcp.Connection) else False
        return self._descriptor

    def _direct_connection(self):
        if self._direct is None:
            self._buffering_descriptor()
        return self._direct or None

    def _relays_only(self):
        """Only wrappers that pass bytes through unchanged (not TLS) between us and TCP."""
        transport = self.transport
        while isinstance(transport, ProtocolWrapper):
            if type(transport) is not _CountedConnection:
                return False
            transport = transport.transport
        return True


class KirbWebRequest(WebRequest):
    """Refuses a body over MAX_REQUEST_BODY_BYTES as soon as it is announced or exceeded,
    instead of buffering all of it first (Django would refuse it too, but only after),
    and a request that has not arrived whole within HTTP_BODY_TIMEOUT_SECONDS."""

    refused = False
    received_bytes = 0
    arrival_deadline = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # From the request's first line. The idle timeout cannot do this (every byte
        # resets it), and the header deadline covers a connection's first headers only.
        self.arrival_deadline = reactor.callLater(kirb_setting("HTTP_BODY_TIMEOUT_SECONDS"), self.refuse_too_slow)

    def cancel_arrival_deadline(self):
        if self.arrival_deadline is not None and self.arrival_deadline.active():
            self.arrival_deadline.cancel()
        self.arrival_deadline = None

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
        self.cancel_arrival_deadline()  # arrived whole: from here HTTP_TIMEOUT_SECONDS applies
        if not self.refused:
            super().process()

    def connectionLost(self, reason):
        self.cancel_arrival_deadline()
        super().connectionLost(reason)

    def refuse_too_large(self):
        self.refuse(b"413 Payload Too Large", PayloadTooLarge())

    def refuse_too_slow(self):
        self.arrival_deadline = None
        if not self.refused and self.channel is not None and self.channel.transport is not None:
            metrics.transport_rejections_total.labels(limit="body_timeout").inc()
            self.refuse(b"408 Request Timeout", RequestTimeout())

    def refuse(self, status_line, error):
        self.refused = True
        self.cancel_arrival_deadline()
        self.channel.transport.write(error_bytes(status_line, error))
        self.channel.transport.loseConnection()


class KirbHTTPFactory(HTTPFactory):
    """Connections must finish their first request's headers within a deadline
    (slowloris), and one peer address may hold only HTTP_MAX_CONNECTIONS_PER_IP.

    The cap sees only the TCP peer: behind a proxy every client shares the proxy's
    address, so peers in TRUSTED_PROXIES are not capped (the proxy must limit
    connections per client itself; the limits keyed on the real client IP apply
    further in).
    """

    def __init__(self, server):
        super().__init__(server)
        self.open_per_peer = collections.Counter()

    def buildProtocol(self, addr):
        peer = _capped_peer(addr)
        if peer is not None and self.open_per_peer[peer] >= kirb_setting("HTTP_MAX_CONNECTIONS_PER_IP"):
            metrics.transport_rejections_total.labels(limit="connections_per_ip").inc()
            logger.debug("Refused a connection: %s already has its maximum open", peer)
            return _Refusal(
                b"429 Too Many Requests",
                RateLimited(
                    "Too many open connections from this address.",
                    code="too_many_connections",
                    retry_after_seconds=CONNECTION_CAP_RETRY_AFTER_SECONDS,
                ),
            )
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = KirbWebRequest
        protocol.timeOut = kirb_setting("HTTP_IDLE_TIMEOUT_SECONDS")
        reactor.callLater(kirb_setting("HTTP_HEADER_TIMEOUT_SECONDS"), _drop_if_headers_unfinished, protocol)
        if peer is None:
            return protocol
        return _CountedConnection(self, peer, protocol)

    # Called by _CountedConnection (twisted's ProtocolWrapper) as the connection opens and closes.

    def registerProtocol(self, connection):
        self.open_per_peer[connection.peer] += 1

    def unregisterProtocol(self, connection):
        self.open_per_peer[connection.peer] -= 1
        if self.open_per_peer[connection.peer] <= 0:
            del self.open_per_peer[connection.peer]


def _capped_peer(addr):
    """The peer address the per-address cap counts, or None (a trusted proxy, a UNIX socket)."""
    address = parse_ip(getattr(addr, "host", "") or "")
    if address is None or peer_is_trusted(str(address)):
        return None
    return str(address)


class _CountedConnection(ProtocolWrapper):
    """A connection from a capped peer, counted for as long as the TCP connection lives.

    A wrapper, because daphne hands an upgraded connection to its WebSocket protocol
    (replacing the HTTP channel as the transport's protocol): it keeps a ProtocolWrapper
    and swaps what it wraps, so the slot is given back when the socket closes too.
    """

    def __init__(self, factory, peer, wrapped):
        super().__init__(factory, wrapped)
        self.peer = peer


class _Refusal(Protocol):
    """Answers at once, then closes: after the client has closed its side, or after
    REFUSAL_LINGER_SECONDS (closing on unread request bytes would reset the connection
    and lose the answer)."""

    def __init__(self, status_line, error):
        self.answer = error_bytes(status_line, error)
        self.linger = None

    def connectionMade(self):
        self.transport.write(self.answer)
        self.transport.loseWriteConnection()
        self.linger = reactor.callLater(REFUSAL_LINGER_SECONDS, self.transport.abortConnection)

    def dataReceived(self, data):
        """Read and dropped: the answer does not depend on it."""

    def connectionLost(self, reason):
        if self.linger is not None and self.linger.active():
            self.linger.cancel()


def _drop_if_headers_unfinished(protocol):
    """A client trickling its headers a byte at a time holds a socket for free: drop it.

    The idle timeout alone cannot, since every byte resets it.
    """
    # Twisted wraps the HTTPChannel in a protocol that picks HTTP/1.1 or HTTP/2.
    channel = getattr(protocol, "_channel", protocol)
    if not getattr(channel, "headers_received", False) and channel.transport is not None:
        channel.transport.abortConnection()


class ApplicationInbox:
    """What daphne puts an application's incoming messages in: one per connection.

    daphne uses an ``asyncio.Queue``: four deques and an Event, about 2.4 KiB held by
    each of 10,000 idle sockets. One reader (the application) and one writer (the
    protocol: ``put_nowait``, and ``qsize`` for its backlog check) need only a list
    and a future to wake the reader. As in a Queue, a message stays in the list until
    read: a reader cancelled just after being woken loses nothing.
    """

    __slots__ = ("_unread", "_waiter")

    def __init__(self):
        self._unread = []
        self._waiter = None

    def put_nowait(self, message):
        self._unread.append(message)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def qsize(self):
        return len(self._unread)

    async def get(self):
        while not self._unread:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._unread.pop(0)


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

    def create_application(self, protocol, scope):
        """daphne's, with a lean input queue (``ApplicationInbox``)."""
        assert "application_instance" not in self.connections[protocol]
        if isinstance(protocol, KirbWebSocketProtocol):
            scope[WRITER_SCOPE_KEY] = protocol  # chat.consumers writes through it
        inbox = ApplicationInbox()
        scope.setdefault("asgi", {"version": "3.0"})
        application_instance = self.application(
            scope=scope, receive=inbox.get, send=functools.partial(self.handle_reply, protocol)
        )
        if protocol not in self.connections:
            return None
        self.connections[protocol]["application_instance"] = asyncio.ensure_future(
            application_instance, loop=asyncio.get_event_loop()
        )
        return inbox

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


# glibc's mallopt() parameter for the most arenas malloc may create (malloc.h).
_M_ARENA_MAX = -8


def _limit_malloc_arenas():
    """glibc gives threads up to 8 arenas per core, whose freed memory it seldom
    returns: with a thread per request (Django's ASGI handler, before
    kirb_project.wsgi_bridge) a server's RSS crept up for as long as it ran (`manage.py
    soak`: +0.6 MiB/min per instance; flat with 2 arenas, docs/OPERATIONS.md).
    MALLOC_ARENA_MAX in the environment, read by glibc itself, takes precedence."""
    arenas = kirb_setting("MALLOC_ARENAS")
    if not arenas or "MALLOC_ARENA_MAX" in os.environ or not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no C library with mallopt: nothing to tune
        return
    mallopt(_M_ARENA_MAX, arenas)


def _tune_garbage_collector():
    """What the process holds once set up (modules, Django, the middleware and URL
    stacks) lives as long as it does: it is left out of collections from now on. And
    GC_THRESHOLDS, and the freezing of slow full collections' survivors."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*kirb_setting("GC_THRESHOLDS"))
    if kirb_setting("GC_THAW_SECONDS"):
        gc.callbacks.append(SlowCollectionFreezer().on_collection)


class SlowCollectionFreezer:
    """An open socket holds ~120 objects the collector tracks, and a full collection
    scans them all, holding up every socket's frames: 0.4-0.5 s at 5,000 sockets,
    every 10-20 s while posts flow. Once a full collection takes GC_FREEZE_AFTER_PAUSE_MS,
    what survives it and every later one is frozen (gc.freeze), so each scans only what
    is newer. Every GC_THAW_SECONDS from then on it is thawed and collected once, so
    cyclic garbage among it (what closed sockets leave) lives at most that long. A
    server that never gets that big never freezes more than its startup objects."""

    def __init__(self):
        self.freeze_after_seconds = kirb_setting("GC_FREEZE_AFTER_PAUSE_MS") / 1000
        self.thaw_seconds = kirb_setting("GC_THAW_SECONDS")
        self.started_at = None
        self.thawing = False

    def on_collection(self, phase, info):
        if info["generation"] != 2:
            return
        if phase == "start":
            self.started_at = time.perf_counter()
            return
        if not self.thawing:
            if self.started_at is None or time.perf_counter() - self.started_at < self.freeze_after_seconds:
                return
            self.thawing = True
            reactor.callLater(self.thaw_seconds, self.thaw)
        # From the first slow one on, after every full collection. Python starts the
        # next one once a quarter as many objects as this one kept have survived since;
        # frozen, the kept ones are not scanned again, so full collections stay small.
        gc.freeze()

    def thaw(self):
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        reactor.callLater(self.thaw_seconds, self.thaw)


def serve(host, port):
    """Serve until drained; returns False if the server could not listen."""
    daphne_server.HTTPFactory = KirbHTTPFactory
    WebSocketFactory.protocol = KirbWebSocketProtocol
    _raise_open_files_limit()
    _limit_malloc_arenas()
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
    _tune_garbage_collector()
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
