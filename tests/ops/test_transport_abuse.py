"""Transport abuse on loopback: slow request bodies, connections hoarded by one address,
and a WebSocket frame flood. Distinct clients use distinct loopback source addresses
(all of 127.0.0.0/8 reaches the server); only 127.0.0.1 is a trusted proxy in the tests.
"""

import json
import socket
import struct
import threading
import time

import httpx
import psutil
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from chat.frame_limits import IncomingFrameLimit
from tests.clients import Browser, wait_for
from tests.conftest import ServerPool
from tests.ops.test_metrics import moved, scrape

pytestmark = pytest.mark.django_db(transaction=True)

TRUSTED_PROXY = "127.0.0.1"  # TRUSTED_PROXIES in tests/settings.py
BODY_TIMEOUT_SECONDS = 2
MAX_CONNECTIONS_PER_IP = 5
MAX_FRAMES, WINDOW_SECONDS, MAX_ERROR_REPLIES = 20, 10, 5


@pytest.fixture(scope="module")
def server(server_env, tmp_path_factory):
    """One instance with small limits for the whole module (each test uses its own
    source addresses or sockets, so they do not meet each other's limits)."""
    pool = ServerPool(server_env, tmp_path_factory.mktemp("transport-abuse"))
    yield pool.start(
        KIRB_HTTP_BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT_SECONDS),
        KIRB_HTTP_MAX_CONNECTIONS_PER_IP=str(MAX_CONNECTIONS_PER_IP),
        KIRB_WS_MAX_INCOMING_FRAMES=str(MAX_FRAMES),
        KIRB_WS_INCOMING_FRAME_WINDOW_SECONDS=str(WINDOW_SECONDS),
        KIRB_WS_MAX_ERROR_REPLIES=str(MAX_ERROR_REPLIES),
    )
    pool.stop_all()


def connect_from(address, server, timeout=5):
    conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    conn.settimeout(timeout)
    conn.bind((address, 0))
    conn.connect(("127.0.0.1", server.port))
    return conn


def read_until_closed(conn, deadline_seconds=5):
    """Everything the server sends until it closes the connection."""
    answer = bytearray()
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        conn.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = conn.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            break
        if not data:
            return bytes(answer)
        answer += data
    raise AssertionError(f"the server did not close the connection; it sent {bytes(answer[:200])!r}")


def error_code(answer):
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]


# --- slow bodies -------------------------------------------------------------------------


def test_a_body_sent_a_byte_at_a_time_gets_408_at_the_deadline_and_the_connection_closed(server):
    slow = []
    for _ in range(30):
        conn = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        conn.sendall(
            b"POST /messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 16000\r\n\r\n{"
        )
        slow.append(conn)
    # A request that pauses but arrives whole in time is served, and so is the next
    # request on its connection (each request has a deadline of its own).
    prompt = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    prompt_body = b'{"city": "Pune"}'
    prompt.sendall(b"POST /api/track-visitor HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % len(prompt_body))
    # Its body (and a second request) after a quarter of the deadline, on a timer of its
    # own so that a slow loop below cannot make it late.
    finish_prompt = threading.Timer(
        BODY_TIMEOUT_SECONDS / 4,
        prompt.sendall,
        [prompt_body + b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"],
    )
    finish_prompt.start()
    started = time.monotonic()
    answers, closed_after = {}, {}
    try:
        # One byte per connection every 200 ms (the idle timeout never fires), until the
        # server has answered and closed every one of them, or for 10 s at most.
        while len(closed_after) < len(slow) and time.monotonic() - started < 10:
            for index, conn in enumerate(slow):
                if index in closed_after:
                    continue
                try:
                    conn.send(b" ")
                except OSError:
                    pass
                conn.settimeout(0.005)
                try:
                    while data := conn.recv(4096):
                        answers[index] = answers.get(index, b"") + data
                    closed_after[index] = time.monotonic() - started
                except TimeoutError:
                    pass
                except ConnectionResetError:
                    closed_after[index] = time.monotonic() - started
            # Meanwhile a normal request is answered at once.
            assert Browser(server).get("/health/live").status_code == 200
            time.sleep(0.2)
        finish_prompt.join()
        prompt_answer = read_until_closed(prompt)
    finally:
        finish_prompt.cancel()
        for conn in slow + [prompt]:
            conn.close()
    assert len(closed_after) == len(slow), f"{len(slow) - len(closed_after)} slow bodies still open after 10 s"
    for index in range(len(slow)):
        assert answers[index].startswith(b"HTTP/1.1 408"), answers.get(index)
        assert error_code(answers[index]) == "request_timeout"
        # At the deadline: not before, not long after.
        assert BODY_TIMEOUT_SECONDS * 0.75 < closed_after[index] < BODY_TIMEOUT_SECONDS + 4
    assert prompt_answer.count(b"HTTP/1.1 ") == 2 and b" 408 " not in prompt_answer, prompt_answer[:300]
    assert prompt_answer.startswith(b"HTTP/1.1 200")


# --- connections per address ---------------------------------------------------------------


def http_status_from(address, server):
    conn = connect_from(address, server)
    try:
        conn.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return read_until_closed(conn)
    finally:
        conn.close()


def wait_until_served_from(address, server, timeout=5):
    """The server frees a slot when it sees a close: poll until it has."""
    deadline = time.monotonic() + timeout
    while True:
        answer = http_status_from(address, server)
        if answer.startswith(b"HTTP/1.1 200"):
            return
        assert answer.startswith(b"HTTP/1.1 429"), answer[:200]
        assert time.monotonic() < deadline, "the slot of a closed connection was never freed"
        time.sleep(0.05)


def websocket_from(address, server):
    return connect(f"{server.ws_url}/ws/events", sock=connect_from(address, server), open_timeout=5, close_timeout=1)


def test_open_connections_per_address_are_capped_but_not_for_a_trusted_proxy(server):
    hoarder = "127.0.0.7"
    held = [connect_from(hoarder, server) for _ in range(MAX_CONNECTIONS_PER_IP)]  # idle: no request yet
    try:
        refused = connect_from(hoarder, server)
        answer = read_until_closed(refused)  # answered at once, before it sends anything
        refused.close()
        assert answer.startswith(b"HTTP/1.1 429") and error_code(answer) == "too_many_connections"
        assert b"Retry-After: " in answer

        # Another address is not affected.
        assert http_status_from("127.0.0.8", server).startswith(b"HTTP/1.1 200")
        # Behind a proxy every client shares the proxy's address: a trusted proxy is not capped.
        proxied = [connect_from(TRUSTED_PROXY, server) for _ in range(12)]
        for conn in proxied:
            conn.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        for conn in proxied:
            assert read_until_closed(conn).startswith(b"HTTP/1.1 200")
            conn.close()

        # A closed connection gives its slot back.
        held.pop().close()
        wait_until_served_from(hoarder, server)
    finally:
        for conn in held:
            conn.close()

    # Upgraded (WebSocket) connections count too, and give their slot back when closed.
    sockets = [websocket_from("127.0.0.9", server) for _ in range(MAX_CONNECTIONS_PER_IP)]
    try:
        assert httpx.get(server.url + "/health").json()["active_connections"] == MAX_CONNECTIONS_PER_IP
        over = connect_from("127.0.0.9", server)
        assert read_until_closed(over).startswith(b"HTTP/1.1 429")
        over.close()
        sockets.pop().close()
        wait_until_served_from("127.0.0.9", server)
    finally:
        for ws in sockets:
            ws.close()


# --- WebSocket frame flood ----------------------------------------------------------------

INVALID_FRAME = b"\x81\x87\x00\x00\x00\x00garbage"  # masked (all-zero key) 7-byte text frame
CLIENT_CLOSE = b"\x88\x82\x00\x00\x00\x00" + struct.pack("!H", 1000)
FLOOD_FRAMES = 100_000


def open_raw_websocket(server, path):
    conn = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    conn.sendall(
        b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" % path.encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += conn.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head
    return conn, head.split(b"\r\n\r\n", 1)[1]


def server_frames(buffer):
    """Complete (opcode, payload) frames at the start of ``buffer``, and the bytes used."""
    frames, offset = [], 0
    while len(buffer) - offset >= 2:
        opcode, length = buffer[offset] & 0x0F, buffer[offset + 1] & 0x7F
        start = offset + 2
        if length == 126:
            if len(buffer) - start < 2:
                break
            length, start = struct.unpack("!H", buffer[start : start + 2])[0], start + 2
        elif length == 127:
            if len(buffer) - start < 8:
                break
            length, start = struct.unpack("!Q", buffer[start : start + 8])[0], start + 8
        if len(buffer) - start < length:
            break
        frames.append((opcode, bytes(buffer[start : start + length])))
        offset = start + length
    return frames, offset


class Flood:
    """Send ``count`` invalid frames as fast as the socket takes them, while reading what
    the server answers, until it closes the socket (or 20 s pass)."""

    def __init__(self, server, count, path="/ws/events?fp=flood-fingerprint"):
        conn, pending = open_raw_websocket(server, path)
        stop = threading.Event()

        def send():
            chunk = INVALID_FRAME * 1000
            try:
                for _ in range(count // 1000):
                    if stop.is_set():
                        return
                    conn.sendall(chunk)
            except OSError:
                pass  # the server closed the socket

        sender = threading.Thread(target=send)
        sender.start()
        self.texts, self.close_code, self.received_bytes = [], None, len(pending)
        buffer = bytearray(pending)
        deadline = time.monotonic() + 20
        try:
            while self.close_code is None and time.monotonic() < deadline:
                frames, used = server_frames(buffer)
                del buffer[:used]
                for opcode, payload in frames:
                    if opcode == 0x1:
                        self.texts.append(json.loads(payload))
                    elif opcode == 0x8:
                        self.close_code = struct.unpack("!H", payload[:2])[0] if payload else 1005
                if self.close_code is not None:
                    break
                conn.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    data = conn.recv(65536)
                except (TimeoutError, ConnectionResetError):
                    break
                if not data:
                    break
                self.received_bytes += len(data)
                buffer += data
        finally:
            stop.set()
            sender.join()
        if self.close_code is not None:
            try:
                conn.sendall(CLIENT_CLOSE)
            except OSError:
                pass
        conn.close()


def wait_for_no_sockets(server):
    wait_for(
        lambda: not httpx.get(server.url + "/health").json()["active_connections"],
        message="the server to stop counting the flooding socket",
    )


def test_a_frame_flood_is_closed_with_1008_after_few_replies_and_costs_no_memory(server):
    process = psutil.Process(server.pid)
    Flood(server, 1000)  # the same code paths once, so what follows measures only the flood
    wait_for_no_sockets(server)
    rss_before = process.memory_info().rss
    metrics_before = scrape(server)

    flood = Flood(server, FLOOD_FRAMES)
    wait_for_no_sockets(server)
    rss_after = process.memory_info().rss
    metrics_after = scrape(server)

    assert flood.close_code == 1008
    errors = [frame for frame in flood.texts if frame["type"] == "error"]
    assert 1 <= len(errors) <= MAX_ERROR_REPLIES
    assert all(frame["data"]["error"] == "invalid_frame" for frame in errors)
    assert flood.received_bytes < 4096  # a handful of replies and a close frame, not megabytes
    # Closed early: the consumer handled the frames of one window, not 100,000 of them.
    assert moved(metrics_before, metrics_after, "kirb_websocket_frames_rejected_total", reason="invalid") <= MAX_FRAMES
    assert moved(metrics_before, metrics_after, "kirb_websocket_frames_rejected_total", reason="rate_limited") == 1
    grown = rss_after - rss_before
    assert grown < 4 * 1024 * 1024, f"RSS grew by {grown / 2**20:.1f} MiB"


@pytest.mark.parametrize("path", ["/ws?fp=quiet-flood", "/ws/events?fp=ping-flood"])
def test_frames_over_the_rate_close_the_socket_even_when_valid(server, path):
    """Pings (and the krib stream's ignored frames) count too: the limit is on frames.
    A pong is not an error reply: every ping within the rate is answered."""
    ws = connect(f"{server.ws_url}{path}", open_timeout=5, close_timeout=1)
    for _ in range(MAX_FRAMES):
        ws.send('{"type": "ping"}')
        if "events" in path:
            assert json.loads(ws.recv(timeout=5))["data"]["code"] == "pong"
    ws.send('{"type": "ping"}')
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=5)
    assert closed.value.rcvd.code == 1008


def test_the_frame_window_slides_so_a_steady_client_is_never_closed(settings):
    settings.KIRB = {**settings.KIRB, "WS_MAX_INCOMING_FRAMES": 3, "WS_INCOMING_FRAME_WINDOW_SECONDS": 10}
    now = [1000.0]
    limit = IncomingFrameLimit(clock=lambda: now[0])
    for _ in range(60):  # a ping every 4 s for four minutes: never more than 3 in 10 s
        assert limit.allow_frame()
        now[0] += 4
    # A burst: the frames of t=232 and t=236 are still within 10 s of t=240.
    assert [limit.allow_frame() for _ in range(2)] == [True, False]
    assert limit.exceeded
