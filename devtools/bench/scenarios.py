"""The bench's other scenarios, each a DesignRun with its own measuring phase.

- ``--sockets-only``: N idle sockets, then RSS per socket and /health latency;
- ``--slow-readers N``: sockets that stop reading while posts flow; server RSS over
  time and how (and when) each was closed;
- ``--posts-only``: POST /messages throughput with every security check on, each post
  from its own loopback address and fingerprint; then, as its ceilings, the same loop
  on /health/live (daphne alone) and /api/cooldown (Django's request cycle).
"""

import asyncio
import base64
import logging
import os
import re
import socket
import struct
import time
from collections import Counter
from dataclasses import dataclass

from devtools.bench import rawhttp
from devtools.bench.clients import BROWSER_USER_AGENT, browser_headers
from devtools.bench.config import (
    MESSAGE_TYPE,
    POSTS_ONLY,
    SLOW_READERS,
    SOCKETS_ONLY,
    BenchError,
)
from devtools.bench.measure import latency_summary, metric_samples, rss_per_socket_kib
from devtools.bench.runner import DesignRun

logger = logging.getLogger(__name__)

SETTLE_SECONDS = 2.0  # after the last socket opened, before RSS is read
HEALTH_TIMEOUT_SECONDS = 5.0
SAMPLE_INTERVAL_SECONDS = 1.0

# Slow readers: a kernel receive buffer this small fills after a few frames.
SLOW_READER_RCVBUF_BYTES = 4096
SLOW_READER_ADDRESS_BLOCK = 30
HANDSHAKE_TIMEOUT_SECONDS = 10.0
FINAL_READ_TIMEOUT_SECONDS = 2.0
READ_CHUNK_BYTES = 1 << 16
HANDSHAKE_END = b"\r\n\r\n"
WS_GUID_KEY_BYTES = 16
CLOSE_OPCODE = 0x8
# Linux tcp_states.h: what TCP_INFO's first byte says.
TCP_ESTABLISHED = 1
TCP_STATE_NAMES = {1: "established", 7: "closed", 8: "close-wait (server closed)"}
# A long, varied ad (about 450 characters): more bytes per frame fill a reader's buffers sooner.
LONG_MESSAGE = (
    "Bench post {n}: spacious furnished room in a quiet three-bedroom flat on the fourth floor, "
    "five minutes from the metro station and the central bus depot, with a balcony facing the park, "
    "attached bathroom, modular kitchen shared with two working professionals, washing machine, "
    "refrigerator, high-speed fibre internet, covered parking for one scooter, daily housekeeping, "
    "water purifier, power backup; deposit two months, available from next week"
)
WATCHED_METRIC = re.compile(r"kirb_websocket_\w+|\w*slow\w*|\w*unsent\w*")

def describe(config):
    servers = f"{config.server_count} instance{'s' * (config.server_count != 1)}"
    if config.mode == SOCKETS_ONLY:
        return f"{config.clients:,} idle sockets on {servers}, then {config.health_requests} GET /health"
    if config.mode == SLOW_READERS:
        return (f"{config.slow_readers} slow readers and {config.clients} reading sockets on {servers}, "
                f"{config.rate:g} posts/s for {config.duration:g} s")
    if config.mode == POSTS_ONLY:
        return f"POST /messages, {config.concurrency} in flight, for {config.duration:g} s on {servers}"
    return f"{config.clients:,} sockets on {servers}, {config.rate:g} posts/s for {config.duration:g} s"


# --- --sockets-only --------------------------------------------------------------------------


@dataclass
class SocketsResult:
    design: str
    server_count: int
    clients: int
    connected: int
    connect_failures: dict
    connect_seconds: float
    closed_by_server: int
    rss_before_sockets_mib: list
    rss_with_sockets_mib: list
    rss_per_socket_kib: float
    health_ms: dict  # p50, p99, max over config.health_requests sequential GETs
    health_statuses: dict
    idle_server_cpu_percent: list
    machine_cpu_percent: float
    not_bench_cpu_percent: float


class SocketsOnlyRun(DesignRun):
    async def measure_with_clients(self, specs):
        rss_before = self.server_rss_mib()
        connected, failures, connect_seconds = await self.connect_clients()
        await asyncio.sleep(SETTLE_SECONDS)
        rss_with = self.server_rss_mib()
        latencies, statuses = [], Counter()
        with self.cpu_window() as cpu:
            clients = [rawhttp.KeepAliveClient("127.0.0.1", server.port, HEALTH_TIMEOUT_SECONDS) for server in self.servers]
            try:
                for n in range(self.config.health_requests):
                    response = await clients[n % len(clients)].get("/health")
                    latencies.append(response.seconds)
                    statuses[str(response.status)] += 1
            finally:
                for client in clients:
                    await client.close()
        self.check_servers_alive()
        results = [await client.stop() for client in self.clients]
        return SocketsResult(
            design=self.design, server_count=len(self.servers), clients=len(specs), connected=len(connected),
            connect_failures=dict(failures), connect_seconds=connect_seconds,
            closed_by_server=sum(sum(r["closed"].values()) for r in results if r),
            rss_before_sockets_mib=rss_before, rss_with_sockets_mib=rss_with,
            rss_per_socket_kib=rss_per_socket_kib(rss_before, rss_with, len(connected)),
            health_ms=latency_summary(latencies), health_statuses=dict(statuses),
            idle_server_cpu_percent=cpu.server_percent, machine_cpu_percent=cpu.machine_percent,
            not_bench_cpu_percent=cpu.machine_percent - cpu.bench_percent,
        )


# --- --slow-readers ----------------------------------------------------------------------------


class SlowReader:
    """A raw TCP client that completes the WebSocket handshake and then never reads.

    A ``websockets`` client would keep reading into its own buffers; this one leaves
    everything in a small kernel receive buffer, so the server's writes back up.
    """

    def __init__(self, index, url_path, port, source_address):
        self.index = index
        self.path = url_path
        self.port = port
        self.source_address = source_address
        self.sock = None
        self.closed_at = None  # seconds into the window when the server closed it
        self.outcome = None
        self.received = b""

    def open(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_READER_RCVBUF_BYTES)  # before connect
        sock.bind((self.source_address, 0))
        sock.settimeout(HANDSHAKE_TIMEOUT_SECONDS)
        sock.connect(("127.0.0.1", self.port))
        key = base64.b64encode(os.urandom(WS_GUID_KEY_BYTES)).decode()
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"User-Agent: {BROWSER_USER_AGENT}\r\n\r\n"
        )
        sock.sendall(request.encode())
        head = b""
        while HANDSHAKE_END not in head:
            chunk = sock.recv(READ_CHUNK_BYTES)
            if not chunk:
                raise BenchError(f"Slow reader {self.index}: connection closed during the handshake")
            head += chunk
        head, _, rest = head.partition(HANDSHAKE_END)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise BenchError(f"Slow reader {self.index}: handshake refused: {head[:200]!r}")
        self.received = rest
        self.sock = sock

    def tcp_state(self):
        return self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]

    def finish(self):
        """Read whatever is left; the outcome is the close code found, or what the socket did."""
        self.sock.settimeout(FINAL_READ_TIMEOUT_SECONDS)
        ending = "still open"
        try:
            while True:
                chunk = self.sock.recv(READ_CHUNK_BYTES)
                if not chunk:
                    ending = "EOF without a close frame"
                    break
                self.received += chunk
        except ConnectionResetError:
            ending = "reset (buffered frames discarded)"
        except socket.timeout:
            pass
        finally:
            self.sock.close()
        code = close_code(self.received)
        self.outcome = f"close frame {code}" if code is not None else ending


def close_code(data):
    """The code of the first close frame in a server-to-client byte stream, or None."""
    offset = 0
    while offset + 2 <= len(data):
        opcode, length = data[offset] & 0x0F, data[offset + 1] & 0x7F
        offset += 2
        if length == 126:
            if offset + 2 > len(data):
                return None
            (length,) = struct.unpack_from("!H", data, offset)
            offset += 2
        elif length == 127:
            if offset + 8 > len(data):
                return None
            (length,) = struct.unpack_from("!Q", data, offset)
            offset += 8
        if opcode == CLOSE_OPCODE:
            return struct.unpack_from("!H", data, offset)[0] if length >= 2 and offset + 2 <= len(data) else None
        offset += length
    return None


@dataclass
class SlowReadersResult:
    design: str
    server_count: int
    slow_readers: int
    readers: int  # ordinary sockets, reading all along
    posts: int
    post_failures: int
    readers_delivered: int
    readers_expected: int
    timeline: list  # [seconds into the window, server RSS MiB (sum), slow readers still open]
    outcomes: dict  # outcome -> how many slow readers
    closed_at_seconds: list  # per slow reader closed during the run, sorted
    server_metrics: dict  # the kirb_websocket_* (and any *slow*) counters from /metrics
    rss_before_sockets_mib: list
    peak_rss_mib: list


class SlowReadersRun(DesignRun):
    async def measure_with_clients(self, specs):
        config = self.config
        rss_before = self.server_rss_mib()
        connected, _, _ = await self.connect_clients()
        readers = []
        for n in range(config.slow_readers):
            server = self.servers[n % len(self.servers)]
            path = f"{self.path}?location={config.cities[0]}&fp=bench-{self.run_id}-slow-{n}"
            readers.append(SlowReader(n, path, server.port, rawhttp.loopback_address(SLOW_READER_ADDRESS_BLOCK, n)))
        await asyncio.gather(*(asyncio.to_thread(reader.open) for reader in readers))

        posts, timeline = [], []
        window_start = time.monotonic()
        post_count = round(config.rate * config.duration)
        tasks, next_sample = [], window_start
        for n in range(post_count + 1):
            now = time.monotonic()
            if now >= next_sample:
                timeline.append(self.sample(readers, now - window_start))
                next_sample += SAMPLE_INTERVAL_SECONDS
            if n == post_count:
                break
            await asyncio.sleep(max(0.0, window_start + n / config.rate - time.monotonic()))
            message = LONG_MESSAGE.format(n=n)
            tasks.append(asyncio.create_task(self.post(f"slow-{n}", n % len(self.servers), config.cities[0], message)))
        posts = [post for post in await asyncio.gather(*tasks) if post is not None]
        expected = len(posts) * len(connected)
        await self.drain(expected)
        timeline.append(self.sample(readers, time.monotonic() - window_start))
        self.check_servers_alive()
        server_metrics = await self.scrape_metrics()
        peak = self.server_rss_mib()
        await asyncio.gather(*(asyncio.to_thread(reader.finish) for reader in readers))
        results = [await client.stop() for client in self.clients]
        ids = {post.id for post in posts}
        delivered = sum(len(times) for r in results if r for message_id, times in r["arrivals"].items() if message_id in ids)
        return SlowReadersResult(
            design=self.design, server_count=len(self.servers), slow_readers=len(readers), readers=len(connected),
            posts=len(posts), post_failures=post_count - len(posts),
            readers_delivered=delivered, readers_expected=expected, timeline=timeline,
            outcomes=dict(Counter(reader.outcome for reader in readers)),
            closed_at_seconds=sorted(reader.closed_at for reader in readers if reader.closed_at is not None),
            server_metrics=server_metrics, rss_before_sockets_mib=rss_before, peak_rss_mib=peak,
        )

    def sample(self, readers, seconds):
        still_open = 0
        for reader in readers:
            if reader.closed_at is None and reader.tcp_state() != TCP_ESTABLISHED:
                reader.closed_at = seconds
            still_open += reader.closed_at is None
        return [round(seconds, 1), round(sum(self.server_rss_mib()), 1), still_open]

    async def scrape_metrics(self):
        """Sum each counter over the servers (Kirb's /metrics, with the bench's token)."""
        if self.design == "bare":
            return {}
        totals = Counter()
        for server in self.servers:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            try:
                writer.write(rawhttp.request_bytes(
                    "GET", f"127.0.0.1:{server.port}", "/metrics", {"Authorization": f"Bearer {self.metrics_token}"}
                ))
                _, body, _ = await asyncio.wait_for(rawhttp.read_response(reader), HEALTH_TIMEOUT_SECONDS)
            finally:
                writer.close()
            for name, labels, value in metric_samples(body.decode()):
                if WATCHED_METRIC.fullmatch(name) and not name.endswith("_created"):
                    totals[name + labels] += value
        return dict(totals)


# --- --posts-only -------------------------------------------------------------------------------


# What the same closed loop gets from two cheaper requests on the same servers, beside
# the post: the ceilings of the stack it runs on. /health/live is answered by daphne
# before Django with nothing checked (the floor of any request: accepting a connection,
# parsing, answering; /health itself asks Redis, the database and the hub);
# /api/cooldown goes through Django's whole request cycle (every middleware, the
# identity, the block check) and one Redis read, without the post's writes.
CEILING_REQUESTS = (
    ("daphne alone (GET /health/live)", "/health/live"),
    ("Django's request cycle (GET /api/cooldown)", "/api/cooldown"),
)


@dataclass
class PostsResult:
    design: str
    server_count: int
    concurrency: int
    window_seconds: float
    statuses: dict
    accepted: int
    accepted_per_second: float
    accepted_per_second_per_instance: float
    response_ms: dict
    server_cpu_percent: list
    server_cpu_ms_per_post: float
    runner_and_machine_cpu_percent: list  # [this process, the whole machine]
    not_bench_cpu_percent: float
    ceilings: list  # one dict per CEILING_REQUESTS entry: name, per_second, server_cpu_ms, p50_ms, statuses


@dataclass
class ClosedLoop:
    statuses: Counter
    latencies: list  # seconds, of the 2xx answers
    cpu: object  # the CpuWindow

    @property
    def per_second(self):
        return len(self.latencies) / self.cpu.seconds

    @property
    def server_cpu_ms(self):
        """Server CPU per answered request, over all the servers."""
        answered = len(self.latencies)
        return sum(self.cpu.server_percent) / 100 * self.cpu.seconds * 1000 / answered if answered else None


class PostsOnlyRun(DesignRun):
    """Closed loop: ``concurrency`` posters, each posting again as soon as answered."""

    async def measure(self):
        if self.design == "bare":
            raise BenchError("--posts-only measures Kirb's POST path; the bare design has none.")
        config = self.config
        await asyncio.gather(*(self.post(f"warmup-{n}", n, config.cities[0]) for n in range(len(self.servers))))

        def post(n, server):
            body = {"message": LONG_MESSAGE.format(n=n), "message_type": MESSAGE_TYPE,
                    "location": config.cities[n % len(config.cities)]}
            headers = browser_headers(f"bench-{self.run_id}-post-{n}")
            return rawhttp.post_json("127.0.0.1", server.port, "/messages", body, headers,
                                     self.next_source_address(), HEALTH_TIMEOUT_SECONDS * 6)

        posts = await self.closed_loop(post)
        ceilings = []
        for name, path in CEILING_REQUESTS:
            loop = await self.closed_loop(
                lambda n, server, path=path: rawhttp.request(
                    "127.0.0.1", server.port, "GET", path, browser_headers(f"bench-{self.run_id}-get-{n}"),
                    self.next_source_address(), HEALTH_TIMEOUT_SECONDS * 6,
                )
            )
            ceilings.append({"name": name, "per_second": loop.per_second, "server_cpu_ms": loop.server_cpu_ms,
                             "p50_ms": latency_summary(loop.latencies).get("p50"), "statuses": dict(loop.statuses)})
        self.check_servers_alive()
        cpu = posts.cpu
        return PostsResult(
            design=self.design, server_count=len(self.servers), concurrency=config.concurrency,
            window_seconds=cpu.seconds, statuses=dict(posts.statuses), accepted=len(posts.latencies),
            accepted_per_second=posts.per_second, accepted_per_second_per_instance=posts.per_second / len(self.servers),
            response_ms=latency_summary(posts.latencies), server_cpu_percent=cpu.server_percent,
            server_cpu_ms_per_post=posts.server_cpu_ms,
            runner_and_machine_cpu_percent=[cpu.bench_percent - sum(cpu.server_percent), cpu.machine_percent],
            not_bench_cpu_percent=cpu.machine_percent - cpu.bench_percent, ceilings=ceilings,
        )

    async def closed_loop(self, send):
        """``config.concurrency`` senders for ``config.duration`` seconds, each sending
        ``send(n, server)`` again as soon as it is answered (servers in turn)."""
        config = self.config
        statuses, latencies = Counter(), []
        counter = iter(range(1 << 62))
        deadline = time.monotonic() + config.duration

        async def sender():
            while time.monotonic() < deadline:
                n = next(counter)
                try:
                    response = await send(n, self.servers[n % len(self.servers)])
                except Exception as error:
                    statuses[type(error).__name__] += 1
                    continue
                statuses[str(response.status)] += 1
                if response.status < 300:
                    latencies.append(response.seconds)

        with self.cpu_window() as cpu:
            await asyncio.gather(*(sender() for _ in range(config.concurrency)))
        return ClosedLoop(statuses, latencies, cpu)


RUNS = {SOCKETS_ONLY: SocketsOnlyRun, SLOW_READERS: SlowReadersRun, POSTS_ONLY: PostsOnlyRun}
