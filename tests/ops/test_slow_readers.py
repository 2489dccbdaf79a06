"""Readers that stop reading: closed with 4408 once WS_MAX_UNSENT_BYTES pile up for
them, and the server's memory stops growing however many posts follow (issue 12).

Real processes and real sockets: the slow readers are raw TCP clients with a small
receive buffer that do the WebSocket handshake and then never read, so what the
server writes piles up in its own buffers, as for a phone that went to sleep.
"""

import random
import socket
import struct
import threading
import time
import uuid

import httpx
import psutil
import pytest
from websockets.exceptions import ConnectionClosed

from tests.clients import BROWSER_USER_AGENT, Browser, Socket, new_ip, wait_for
from tests.ops.test_metrics import moved, scrape
from tests.ops.test_transport_abuse import server_frames

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_READERS = 100  # half on /ws, half on /ws/events
NORMAL_READERS = 5
# A quarter of the default WS_MAX_UNSENT_BYTES, so that a few posts reach it (each
# post takes the server ~1 s to check and fan out at this size on a shared machine).
UNSENT_BOUND = 256 * 1024
MESSAGE_CHARS = 60_000
CLIENT_RECEIVE_BUFFER = 4096  # what the kernel may hold for a slow reader (it doubles it)
MORE_POSTS = 20  # posted after the slow readers are gone: the memory must not grow
# RSS moves by allocator noise (arenas, the posts' own request handling) even when
# nothing is held (+0.8 MiB measured over 40 such posts). Slow readers still piling
# up would add MORE_POSTS x 60 KB = 1.2 MB each were the frames shared between
# sockets, 100 x that as autobahn frames them (one copy per socket).
RSS_NOISE_BYTES = 4 * 1024 * 1024
CLOSE_TIMEOUT_SECONDS = 45


VOCABULARY = (
    "room flat house bedroom kitchen balcony garden parking metro station market school office "
    "quiet sunny furnished spacious family student shared single double window terrace lift water "
    "power backup security deposit rent monthly available immediately nearby park temple hospital "
    "college bakery pharmacy grocery tiles wardrobe geyser fridge washing machine airy bright clean "
    "friendly owner tenant lease agreement visit evening morning weekend road lane corner view"
).split()


def post_text(rng):
    """A long post the content filter accepts: ordinary words, none repeated much."""
    words = []
    while sum(len(word) + 1 for word in words) < MESSAGE_CHARS - 40:
        words.append(rng.choice(VOCABULARY))
    return "Room near the station " + " ".join(words)


class SlowReader:
    """A WebSocket client that completes the handshake and never reads again."""

    def __init__(self, server, path):
        self.conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_RECEIVE_BUFFER)
        self.conn.settimeout(10)
        self.conn.connect(("127.0.0.1", server.port))
        self.conn.sendall(
            b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            b"User-Agent: %s\r\nX-Forwarded-For: %s\r\n\r\n"
            % (path.encode(), BROWSER_USER_AGENT.encode(), new_ip().encode())
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.conn.recv(1)  # byte by byte: leave every frame unread
        assert head.startswith(b"HTTP/1.1 101"), head

    def read_to_the_end(self):
        """Read again: the close code the server sent, or "reset" if it aborted."""
        buffer = bytearray()
        self.conn.settimeout(10)
        try:
            while True:
                data = self.conn.recv(65536)
                if not data:
                    break
                buffer += data
                frames, used = server_frames(buffer)
                del buffer[:used]
                for opcode, payload in frames:
                    if opcode == 0x8:
                        return struct.unpack("!H", payload[:2])[0]
        except ConnectionResetError:
            return "reset"
        finally:
            self.conn.close()
        return None


class NormalReader(threading.Thread):
    def __init__(self, server, path):
        super().__init__(daemon=True)
        self.path = path
        self.socket = Socket(server, path, location="Pune")
        self.ids = []

    def run(self):
        try:
            while True:
                frame = self.socket.recv(timeout=CLOSE_TIMEOUT_SECONDS * 2)
                if frame.get("type", "message") == "message":  # not a notice (the drain's, at the end)
                    self.ids.append(frame["data"]["id"] if "data" in frame else frame["id"])
        except (ConnectionClosed, TimeoutError):
            pass


def active_connections(server):
    return httpx.get(server.url + "/health").json()["active_connections"]


def test_readers_that_stop_reading_are_closed_and_memory_stops_growing(start_server):
    server = start_server(
        KIRB_MESSAGE_MAX_CHARS=str(MESSAGE_CHARS),
        MAX_REQUEST_BODY_BYTES=str(MESSAGE_CHARS * 2),
        KIRB_WS_MAX_UNSENT_BYTES=str(UNSENT_BOUND),
        KIRB_WS_MAX_CONNECTIONS_PER_IP="1000",
        # Pings unanswered for WS_PING_TIMEOUT_SECONDS close a silent socket too: not
        # within this test, so that only the bound can close the slow readers.
        KIRB_WS_PING_INTERVAL_SECONDS="600",
    )
    process = psutil.Process(server.pid)
    rng = random.Random(12)
    posted = []

    def post():
        posted.append(Browser(server).post_ok(post_text(rng), location="Pune")["id"])

    # Warm up the code paths (a post, a socket of each stream), so what follows
    # measures the readers rather than first-time imports and caches.
    warm = [Socket(server, path, location="Pune") for path in ("/ws", "/ws/events")]
    post()
    for ws in warm:
        ws.recv()
        ws.close()
    wait_for(lambda: active_connections(server) == 0, message="the warm-up sockets to close")

    readers = [NormalReader(server, ("/ws", "/ws/events")[i % 2]) for i in range(NORMAL_READERS)]
    for reader in readers:
        reader.start()
    slow = [SlowReader(server, f"{('/ws', '/ws/events')[i % 2]}?location=Pune&fp=slow-{uuid.uuid4().hex[:8]}")
            for i in range(SLOW_READERS)]
    wait_for(lambda: active_connections(server) == NORMAL_READERS + SLOW_READERS, message="every socket to open")
    metrics_before = scrape(server)
    rss_before = process.memory_info().rss
    first_live = len(posted)

    # Post until the server has closed every slow reader.
    deadline = time.monotonic() + CLOSE_TIMEOUT_SECONDS
    while active_connections(server) > NORMAL_READERS:
        assert time.monotonic() < deadline, (
            f"{active_connections(server) - NORMAL_READERS} slow readers still open after {len(posted)} posts"
        )
        post()
    posts_to_close_them = len(posted) - first_live
    rss_closed = process.memory_info().rss
    metrics_closed = scrape(server)

    # Then the memory must not grow with more posts: nothing is held for them.
    for _ in range(MORE_POSTS):
        post()
    live_ids = posted[first_live:]
    wait_for(lambda: all(reader.ids[-1:] == live_ids[-1:] for reader in readers), timeout=20,
             message="the normal readers to get the last post")
    rss_after = process.memory_info().rss

    assert moved(metrics_before, metrics_closed, "kirb_websocket_slow_consumers_closed_total", bound="unsent_bytes") == SLOW_READERS
    grown = rss_after - rss_closed
    assert grown < RSS_NOISE_BYTES, (
        f"RSS grew by {grown / 2**20:.1f} MiB over {MORE_POSTS} posts after the slow readers were closed"
    )
    # While they were open, the pile is bounded per reader; the frames are shared by
    # every socket of a stream, so 100 readers cost far less than 100 bounds.
    held = rss_closed - rss_before
    assert held < SLOW_READERS * UNSENT_BOUND / 4, f"RSS grew by {held / 2**20:.1f} MiB closing {SLOW_READERS} slow readers"
    for reader in readers:
        assert reader.ids == live_ids, f"a normal reader on {reader.path} missed posts"
    outcomes = [reader.read_to_the_end() for reader in slow]
    assert set(outcomes) <= {4408, "reset"}, outcomes
    assert active_connections(server) == NORMAL_READERS
    for reader in readers:
        reader.socket.close()
    wait_for(lambda: active_connections(server) == 0, message="the normal readers to close")
    print(f"{posts_to_close_them} posts closed {SLOW_READERS} slow readers; RSS +{held / 2**20:.1f} MiB "
          f"meanwhile, then {grown / 2**20:+.1f} MiB over {MORE_POSTS} more posts")
