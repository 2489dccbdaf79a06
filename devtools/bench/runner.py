"""Start two servers, connect many sockets, post at a steady rate, and measure.

One run per design, each on fresh server processes sharing one Redis and one SQLite
file, so that the designs measured in one invocation are comparable:
- ``kirb``: the hub's /ws or /ws/events (core channel layer);
- ``tutorial``: devtools.bench.baseline (one channel-layer member per socket, the Channels
  tutorial's design) on channels_redis' pub/sub layer, the one the tutorial recommends;
- ``bare``: devtools.bench.bare, a ``websockets`` server on Redis pub/sub, the ceiling; the
  runner PUBLISHes its frames (it has no POST path, database or security);
- ``baseline`` (not in ``all``): devtools.bench.baseline on the core layer, issue 2's comparison.

Processes:
- the runner (this process): starts everything, posts over HTTP, samples CPU and RSS;
- ``server_count`` server processes (devtools.instances.ServerProcess, or
  devtools.bench.bare.BareServerProcess);
- client processes (``python -m devtools.bench.runner client CONFIG``), one asyncio loop each
  with the ``websockets`` client, that record when each frame arrives.

Latency is "POST sent (runner) -> frame received (client)": both read CLOCK_MONOTONIC,
which Linux shares between processes. CPU is the psutil cpu_times delta over the
posting window divided by its wall time, in % of one core.
"""

import asyncio
import json
import logging
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import psutil

from devtools.bench.rawhttp import POST_ADDRESS_BLOCK, SOCKET_ADDRESS_BLOCK, loopback_address, post_json

logger = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parents[2]  # the repository

DESIGNS = ("kirb", "tutorial", "bare")  # --design all
EXTRA_DESIGNS = ("baseline",)
KIRB_PATHS = ("/ws", "/ws/events")
BASELINE_PATH = "/ws/baseline"
BARE_PATH = "/ws"
PER_SOCKET_DESIGNS = ("tutorial", "baseline")  # devtools.bench.baseline's consumer
SERVER_COUNT = 2
DEFAULT_REDIS_DB = 14
SERVER_LOG_LEVEL = "WARNING"
NO_LIMIT = 10**9
# The only limit the bench raises; every security check runs. Sockets come from
# loopback addresses SOCKETS_PER_SOURCE_ADDRESS at a time (under
# WS_MAX_CONNECTIONS_PER_IP), posts each from an address of their own (devtools.bench.rawhttp).
RAISED_LIMITS = {
    # The per-instance socket cap (10,000): --sockets-only opens 10,000 on one instance.
    "KIRB_WS_MAX_CONNECTIONS": str(NO_LIMIT),
}
SOCKETS_PER_SOURCE_ADDRESS = 16

# Clients
CONNECT_CONCURRENCY = 32  # handshakes in flight per client process (daphne's listen backlog is 50)
CONNECT_TIMEOUT_SECONDS = 60
CLOSE_TIMEOUT_SECONDS = 2
MAX_FRAME_BYTES = 1 << 20
PROGRESS_INTERVAL_SECONDS = 0.2
CLIENT_START_TIMEOUT_SECONDS = 300
CLIENT_EXIT_TIMEOUT_SECONDS = 60

# Phases of one design's run
WARMUP_SETTLE_SECONDS = 1.0  # after one post per server: lazy imports, first DB connection
IDLE_WINDOW_SECONDS = 3.0  # CPU with every socket open and nothing posted
DRAIN_TIMEOUT_SECONDS = 30.0  # after the posting window, wait at most this for late frames
DRAIN_QUIET_SECONDS = 5.0  # ... or until no frame arrived for this long
POST_TIMEOUT_SECONDS = 30.0
MIGRATE_TIMEOUT_SECONDS = 120
PROBE_TIMEOUT_SECONDS = 10

# What is posted: a realistic ad, unique per post; its own fingerprint per post, since
# posting is rate-limited per (IP, fingerprint). Posts and sockets carry a browser's
# User-Agent: an HTTP library's is flagged as automation, and its posts shadow-throttled.
MESSAGE_TEMPLATE = "Bench post {n}: furnished room in a shared flat, near the metro, rent negotiable, bachelors welcome"
MESSAGE_TYPE = "offered"
FINGERPRINT_HEADER = "X-Browser-Fingerprint"
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
)

CPU_COUNT = psutil.cpu_count() or 1
BYTES_PER_KIBIBYTE = 1 << 10  # /proc/<pid>/status counts in kB
BYTES_PER_MEBIBYTE = 1 << 20
SECONDS_TO_MS = 1000
SECONDS_TO_US = 1_000_000
PERCENT = 100
MEDIAN = 0.5
LATENCY_PERCENTILES = (MEDIAN, 0.99)


class BenchError(Exception):
    """A run that cannot go on (a server that does not start, a missing route...)."""


FANOUT, SOCKETS_ONLY, SLOW_READERS, POSTS_ONLY = "fanout", "sockets-only", "slow-readers", "posts-only"


@dataclass
class BenchConfig:
    clients: int = 1000
    rate: float = 5.0
    duration: float = 20.0
    designs: tuple = DESIGNS
    mode: str = FANOUT
    server_count: int = SERVER_COUNT
    health_requests: int = 500  # --sockets-only: sequential GET /health
    slow_readers: int = 0  # --slow-readers: sockets that stop reading
    concurrency: int = 32  # --posts-only: posts in flight
    path: str = "/ws"
    cities: tuple = ("Pune",)
    all_cities_share: float = 0.0
    client_processes: int = SERVER_COUNT
    redis_url: str = ""
    redis_db: int = DEFAULT_REDIS_DB
    server_env: dict = field(default_factory=dict)
    keep_logs: bool = False


@dataclass
class SocketSpec:
    index: int
    server: int
    location: str  # "" for an all-cities socket


@dataclass
class Post:
    id: str
    sent_at: float
    city: str
    server: int
    response_seconds: float


# --- Small helpers ---------------------------------------------------------------------


def raise_open_file_limit():
    """Each socket is a file descriptor: lift the soft limit to the hard one (inherited by children)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an already sorted list; None when empty."""
    if not sorted_values:
        return None
    rank = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def cpu_seconds(process):
    times = process.cpu_times()
    return times.user + times.system


def machine_busy_seconds():
    """CPU time every process on the machine used (all cores), from /proc/stat via psutil."""
    times = psutil.cpu_times()
    busy = ("user", "nice", "system", "irq", "softirq")  # guest time is already in user
    return sum(getattr(times, name, 0.0) for name in busy)


def peak_rss_bytes(pid):
    """The kernel's high-water mark (VmHWM) of a process; its current RSS where there is none."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * BYTES_PER_KIBIBYTE
    except OSError:
        pass
    return psutil.Process(pid).memory_info().rss


def rss_per_socket_kib(before_mib, after_mib, sockets):
    """What the sockets added to the servers' RSS, per socket."""
    if not sockets:
        return None
    return (sum(after_mib) - sum(before_mib)) * BYTES_PER_MEBIBYTE / BYTES_PER_KIBIBYTE / sockets


def _ms(seconds):
    return None if seconds is None else seconds * SECONDS_TO_MS


def with_db_index(url, index):
    return urlunsplit(urlsplit(url)._replace(path=f"/{index}"))


def frame_message_id(frame):
    """The message id in a /ws frame (a message object) or a /ws/events ``message`` envelope."""
    try:
        payload = json.loads(frame)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    if payload.get("type") == "message" and isinstance(payload.get("data"), dict):
        payload = payload["data"]
    message_id = payload.get("id")
    return message_id if isinstance(message_id, str) else None


def location_plan(count, cities, all_cities_share):
    """Locations of ``count`` sockets on one server: all-cities first, then the cities in turn."""
    all_cities = round(count * all_cities_share)
    return [""] * all_cities + [cities[i % len(cities)] for i in range(count - all_cities)]


def plan_sockets(config):
    """Sockets spread evenly over the servers, each server with the same mix of locations.

    The list is interleaved (server 0, 1, 0, 1...), so socket i % client_processes picks
    its client process and, with one client process per server, each serves one server.
    """
    servers = config.server_count
    per_server = [config.clients // servers + (s < config.clients % servers) for s in range(servers)]
    plans = [location_plan(count, config.cities, config.all_cities_share) for count in per_server]
    specs = []
    for k in range(max(per_server)):
        for server in range(servers):
            if k < per_server[server]:
                specs.append(SocketSpec(index=len(specs), server=server, location=plans[server][k]))
    return specs


# --- Client process ----------------------------------------------------------------------


class ClientProcess:
    """Runs in its own process: opens its sockets, records arrivals, reports on stdout.

    Protocol: JSON lines on stdout (``connected``, then ``progress`` every
    PROGRESS_INTERVAL_SECONDS); a line ``stop`` (or EOF) on stdin closes the sockets and
    writes ``{"arrivals": {id: [monotonic times]}, ...}`` to the result file.
    """

    def __init__(self, config):
        self.sockets = config["sockets"]  # [[index, url, source address], ...]
        self.result_path = config["result_path"]
        self.connections = {}
        self.failed = []
        self.errors = Counter()
        self.arrivals = defaultdict(list)
        self.frames = 0
        self.other_frames = 0
        self.duplicates = 0
        self.closed = Counter()  # close codes of sockets the server closed during the run
        self.stopping = False

    @staticmethod
    def emit(event, **fields):
        print(json.dumps({"event": event, **fields}), flush=True)

    async def run(self):
        from websockets.asyncio.client import connect

        limit = asyncio.Semaphore(CONNECT_CONCURRENCY)
        readers = []

        async def open_one(index, url, source_address):
            async with limit:
                try:
                    connection = await connect(
                        url,
                        local_addr=(source_address, 0),
                        compression=None,  # daphne does not negotiate permessage-deflate
                        ping_interval=None,  # browsers do not ping either
                        open_timeout=CONNECT_TIMEOUT_SECONDS,
                        close_timeout=CLOSE_TIMEOUT_SECONDS,
                        max_size=MAX_FRAME_BYTES,
                        user_agent_header=BROWSER_USER_AGENT,
                    )
                except Exception as error:
                    self.failed.append(index)
                    self.errors[f"{type(error).__name__}: {error}"] += 1
                    return
            self.connections[index] = connection
            readers.append(asyncio.create_task(self.read(connection)))

        await asyncio.gather(*(open_one(*socket) for socket in self.sockets))
        self.emit("connected", connected=sorted(self.connections), failed=self.failed, errors=dict(self.errors))
        progress = asyncio.create_task(self.report_progress())
        await asyncio.to_thread(self.wait_for_stop)
        self.stopping = True
        progress.cancel()
        await asyncio.gather(*(connection.close() for connection in self.connections.values()), return_exceptions=True)
        await asyncio.gather(*readers, return_exceptions=True)
        with open(self.result_path, "w") as result:
            json.dump(
                {
                    "arrivals": self.arrivals,
                    "frames": self.frames,
                    "other_frames": self.other_frames,
                    "duplicates": self.duplicates,
                    "closed": dict(self.closed),
                },
                result,
            )

    @staticmethod
    def wait_for_stop():
        for line in sys.stdin:
            if line.strip() == "stop":
                return

    async def read(self, connection):
        from websockets.exceptions import ConnectionClosed

        seen = set()
        try:
            async for frame in connection:
                arrived = time.monotonic()
                message_id = frame_message_id(frame)
                if message_id is None:
                    self.other_frames += 1
                elif message_id in seen:
                    self.duplicates += 1
                else:
                    seen.add(message_id)
                    self.arrivals[message_id].append(arrived)
                    self.frames += 1
        except ConnectionClosed:
            pass
        if not self.stopping:
            self.closed[str(connection.close_code)] += 1

    async def report_progress(self):
        while True:
            self.emit("progress", frames=self.frames, closed=sum(self.closed.values()))
            await asyncio.sleep(PROGRESS_INTERVAL_SECONDS)


def client_main(config_path):
    raise_open_file_limit()
    with open(config_path) as config_file:
        config = json.load(config_file)
    asyncio.run(ClientProcess(config).run())


# --- Runner side ---------------------------------------------------------------------------


class ClientHandle:
    """The runner's end of one client process."""

    def __init__(self, number, sockets, work_dir):
        self.number = number
        self.sockets = sockets  # [(SocketSpec, url)]
        self.config_path = work_dir / f"client-{number}.json"
        self.result_path = work_dir / f"client-{number}-result.json"
        self.process = None
        self.psutil = None
        self.frames = 0
        self.closed = 0
        self.connected_event = asyncio.Event()
        self.connected = []
        self.failed = []
        self.errors = {}
        self.reader = None

    async def start(self):
        with open(self.config_path, "w") as config:
            json.dump(
                {
                    "sockets": [[spec.index, url, socket_source_address(spec)] for spec, url in self.sockets],
                    "result_path": str(self.result_path),
                },
                config,
            )
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "devtools.bench.runner", "client", str(self.config_path),
            cwd=BASE_DIR, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        self.psutil = psutil.Process(self.process.pid)
        self.reader = asyncio.create_task(self.read_reports())

    async def read_reports(self):
        async for line in self.process.stdout:
            report = json.loads(line)
            if report["event"] == "connected":
                self.connected, self.failed, self.errors = report["connected"], report["failed"], report["errors"]
                self.connected_event.set()
            elif report["event"] == "progress":
                self.frames, self.closed = report["frames"], report["closed"]
        self.connected_event.set()  # the process ended; wait_connected notices

    async def wait_connected(self):
        await asyncio.wait_for(self.connected_event.wait(), CLIENT_START_TIMEOUT_SECONDS)
        if self.process.returncode is not None and not self.connected:
            raise BenchError(f"Client process {self.number} exited with {self.process.returncode}.")

    async def stop(self):
        """Ask for the result; returns it (None if the process is gone)."""
        if self.process is None or self.process.returncode is not None:
            return None
        self.process.stdin.write(b"stop\n")
        await self.process.stdin.drain()
        await asyncio.wait_for(self.process.wait(), CLIENT_EXIT_TIMEOUT_SECONDS)
        await self.reader
        with open(self.result_path) as result:
            return json.load(result)

    async def kill(self):
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


def socket_source_address(spec):
    """Sockets share loopback addresses SOCKETS_PER_SOURCE_ADDRESS at a time: under the
    per-IP caps, and far from running out of ephemeral ports."""
    return loopback_address(SOCKET_ADDRESS_BLOCK, spec.index // SOCKETS_PER_SOURCE_ADDRESS)


def socket_url(server, path, spec, run_id):
    query = {"fp": f"bench-{run_id}-socket-{spec.index}"}
    if spec.location:
        query["location"] = spec.location
    return f"{server.ws_url}{path}?{urlencode(query)}"


async def probe_socket(url):
    """Opening one socket before a thousand: a missing route fails here with a clear message."""
    from websockets.asyncio.client import connect

    async with connect(
        url, open_timeout=PROBE_TIMEOUT_SECONDS, compression=None, ping_interval=None,
        user_agent_header=BROWSER_USER_AGENT,
    ):
        pass


@dataclass
class DesignResult:
    design: str
    path: str
    clients: int
    connected: int
    connect_failures: dict
    connect_seconds: float
    posts: int
    post_failures: int
    expected: int
    delivered: int
    duplicates: int
    closed_by_server: int
    latency_ms: dict  # "p50", "p99", "max"
    first_frame_p50_ms: float  # per post: sent -> the first socket had it
    fanout_spread_ms: dict  # per post: first socket -> last socket, "p50" and "max"
    post_response_p50_ms: float
    window_seconds: float
    delivery_seconds: float  # first post sent -> last frame received
    deliveries_per_second: float
    late_seconds: float  # how long after the posting window the last frame arrived
    idle_cpu_percent: list  # per server
    server_cpu_percent: list  # per server, over the posting window
    server_cpu_us_per_frame: float  # both servers' CPU from the first post to the last frame, per frame
    client_cpu_percent: list  # per client process
    runner_cpu_percent: float
    redis_cpu_percent: float
    machine_cpu_percent: float  # every process on the machine (the limit is 100 x cores)
    peak_rss_mib: list  # per server
    rss_before_sockets_mib: list  # per server, before the clients connected
    rss_with_sockets_mib: list  # per server, every socket open, before the first post
    rss_per_socket_kib: float  # (sum with - sum before) / sockets connected

    @property
    def lost(self):
        return self.expected - self.delivered

    @property
    def server_cpu_total(self):
        return sum(self.server_cpu_percent)

    @property
    def bench_cpu_total(self):
        """Servers, clients, runner and Redis: what this bench itself used."""
        return (
            self.server_cpu_total + sum(self.client_cpu_percent) + self.runner_cpu_percent
            + (self.redis_cpu_percent or 0.0)
        )


class DesignRun:
    """One design, start to finish, on fresh servers; ``run()`` returns a DesignResult."""

    def __init__(self, config, design, *, redis_url, database_url, work_dir, run_id):
        self.config = config
        self.design = design
        self.path = {"bare": BARE_PATH, **dict.fromkeys(PER_SOCKET_DESIGNS, BASELINE_PATH)}.get(design, config.path)
        self.work_dir = work_dir
        self.run_id = run_id
        self.prefix = f"kirbbench-{run_id}-{design}"
        self.redis_url = redis_url
        self.metrics_token = secrets.token_urlsafe(24)
        self.env = {
            "SERVER_SECRET": secrets.token_urlsafe(48),
            "DEBUG": "false",
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": self.prefix,
            "DATABASE_URL": database_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": SERVER_LOG_LEVEL,
            "STATIC_ROOT": str(work_dir / "static"),
            "METRICS_TOKEN": self.metrics_token,
            # The same for kirb and the per-socket designs, so that only the consumer differs.
            "KIRB_ASGI_APPLICATION": "devtools.bench.asgi.application",
            "KIRB_PUBLISH_CITY_GROUPS": "true",
            **({"KIRB_BENCH_CHANNEL_LAYER": "pubsub"} if design == "tutorial" else {}),
            **RAISED_LIMITS,
            **config.server_env,
        }
        self.servers = []
        self.clients = []
        self.post_counter = 0
        self.publisher = None

    def start_servers(self):
        from devtools.bench.bare import BareServerProcess
        from devtools.instances import ServerProcess

        for number in range(self.config.server_count):
            log_path = self.work_dir / f"{self.design}-server-{number}.log"
            if self.design == "bare":
                server = BareServerProcess(self.redis_url, channel=f"{self.prefix}:bare", log_path=log_path)
            else:
                # On the pub/sub layer Kirb's hub cannot check its membership (it reads
                # the core layer's keys), so /health says "recovering": wait for any
                # answer. The hub serves no socket in that design.
                server = ServerProcess(self.env, log_path=log_path, require_healthy=self.design != "tutorial")
            self.servers.append(server)
            server.start()
        self.server_processes = [psutil.Process(server.pid) for server in self.servers]

    def check_servers_alive(self):
        """A server that exited mid-run would turn the numbers into nonsense: stop instead."""
        for number, server in enumerate(self.servers):
            if server.process.poll() is not None:
                raise BenchError(
                    f"Server {number} ({server.url}) exited with {server.process.returncode} during the "
                    f"{self.design} run; see its log."
                )

    def stop_servers(self):
        for server in self.servers:
            if server.process is not None:
                server.stop()

    def run(self):
        try:
            self.start_servers()
            return asyncio.run(self.measure())
        finally:
            self.stop_servers()

    async def measure(self):
        config = self.config
        specs = plan_sockets(config)
        # One socket opened and closed on each server first: a missing route fails here
        # with a clear message, and what the first socket initialises (the hub, imports)
        # is not counted in the RSS per socket.
        for server in self.servers:
            try:
                await probe_socket(socket_url(server, self.path, specs[0], self.run_id))
            except Exception as error:
                hint = (" Do the servers run devtools.bench.asgi.application (KIRB_ASGI_APPLICATION)? "
                        "See docs/BENCHMARKS.md.") if self.design in PER_SOCKET_DESIGNS else ""
                raise BenchError(f"Could not open {self.path} ({type(error).__name__}: {error}).{hint}") from error
        by_process = defaultdict(list)
        for spec in specs:
            url = socket_url(self.servers[spec.server], self.path, spec, self.run_id)
            by_process[spec.index % config.client_processes].append((spec, url))
        self.clients = [ClientHandle(number, sockets, self.work_dir) for number, sockets in sorted(by_process.items())]
        try:
            return await self.measure_with_clients(specs)
        finally:
            for client in self.clients:
                await client.kill()
            if self.publisher is not None:
                await self.publisher.aclose()

    def server_rss_mib(self):
        return [process.memory_info().rss / BYTES_PER_MEBIBYTE for process in self.server_processes]

    async def connect_clients(self):
        """Start the client processes and wait until every socket is open or failed."""
        started = time.monotonic()
        for client in self.clients:
            await client.start()
        for client in self.clients:
            await client.wait_connected()
        connect_seconds = time.monotonic() - started
        connected = {index for client in self.clients for index in client.connected}
        if not connected:
            raise BenchError(f"No socket could connect: {self.clients[0].errors}")
        connect_failures = Counter()
        for client in self.clients:
            connect_failures.update(client.errors)
        logger.info("%s: %d sockets connected in %.1f s", self.design, len(connected), connect_seconds)
        return connected, connect_failures, connect_seconds

    async def measure_with_clients(self, specs):
        config = self.config
        rss_before = self.server_rss_mib()
        connected, connect_failures, connect_seconds = await self.connect_clients()
        rss_with_sockets = self.server_rss_mib()
        interested = Counter(specs[index].location for index in connected)

        def expected_for(city):
            return interested[""] + (interested[city] if city else 0)

        # Warm-up: one post through each server, not measured.
        warmup = await asyncio.gather(
            *(self.post(f"warmup-{n}", n, config.cities[0]) for n in range(config.server_count))
        )
        await asyncio.sleep(WARMUP_SETTLE_SECONDS)
        self.check_servers_alive()

        idle_cpu = await self.sample_cpu(self.server_processes, IDLE_WINDOW_SECONDS)

        watched = self.server_processes + [client.psutil for client in self.clients] + [psutil.Process()]
        cpu_before = [cpu_seconds(process) for process in watched]
        redis_before = self.redis_cpu_seconds()
        machine_before = machine_busy_seconds()
        window_start = time.monotonic()
        post_count = round(config.rate * config.duration)
        post_tasks = []
        for n in range(post_count):
            await asyncio.sleep(max(0.0, window_start + n / config.rate - time.monotonic()))
            city = config.cities[(n // config.server_count) % len(config.cities)]
            post_tasks.append(asyncio.create_task(self.post(f"post-{n}", n % config.server_count, city)))
        await asyncio.sleep(max(0.0, window_start + config.duration - time.monotonic()))
        window_seconds = time.monotonic() - window_start
        cpu_after = [cpu_seconds(process) for process in watched]
        redis_after = self.redis_cpu_seconds()
        machine_after = machine_busy_seconds()
        window_cpu = [PERCENT * (after - before) / window_seconds for before, after in zip(cpu_before, cpu_after)]

        results = await asyncio.gather(*post_tasks)
        self.check_servers_alive()
        posts = [post for post in results if post is not None]
        expected = sum(expected_for(post.city) for post in posts)
        all_expected = expected + sum(expected_for(post.city) for post in warmup if post is not None)
        await self.drain(all_expected)
        self.check_servers_alive()
        # CPU until the last frame: a design that falls behind works on after the window.
        server_cpu_until_drained = sum(
            cpu_seconds(process) - before for process, before in zip(self.server_processes, cpu_before)
        )
        peak_rss = [peak_rss_bytes(server.pid) / BYTES_PER_MEBIBYTE for server in self.servers]
        client_results = [await client.stop() for client in self.clients]
        return self.result(
            specs=specs, connected=connected, connect_failures=connect_failures, connect_seconds=connect_seconds,
            posts=posts, post_count=post_count, expected=expected, client_results=client_results,
            window_start=window_start, window_seconds=window_seconds, window_cpu=window_cpu, idle_cpu=idle_cpu,
            server_cpu_until_drained=server_cpu_until_drained,
            redis_cpu=(PERCENT * (redis_after - redis_before) / window_seconds) if redis_before is not None else None,
            machine_cpu=PERCENT * (machine_after - machine_before) / window_seconds,
            peak_rss=peak_rss, rss_before=rss_before, rss_with_sockets=rss_with_sockets,
        )

    def next_source_address(self):
        """Each post from a loopback address of its own: a distinct network to the server."""
        self.post_counter += 1
        return loopback_address(POST_ADDRESS_BLOCK, self.post_counter)

    async def post(self, label, server_number, city, message=None):
        """One POST /messages through server ``server_number`` (for ``bare``, one
        PUBLISH of the frame Kirb would send); None if it failed."""
        if self.design == "bare":
            return await self.publish(label, server_number, city, message)
        server = self.servers[server_number]
        body = {"message": message or MESSAGE_TEMPLATE.format(n=label), "message_type": MESSAGE_TYPE, "location": city}
        headers = {FINGERPRINT_HEADER: f"bench-{self.run_id}-{self.design}-{label}", "User-Agent": BROWSER_USER_AGENT}
        sent_at = time.monotonic()
        try:
            response = await post_json(
                "127.0.0.1", server.port, "/messages", body, headers, self.next_source_address(), POST_TIMEOUT_SECONDS
            )
            if response.status >= 300:
                raise BenchError(f"HTTP {response.status}: {response.body[:200]!r}")
            message_id = response.json()["id"]
        except Exception as error:
            logger.warning("Post %s to %s failed: %r", label, server.url, error)
            return None
        return Post(id=message_id, sent_at=sent_at, city=city, server=server_number,
                    response_seconds=time.monotonic() - sent_at)

    async def publish(self, label, server_number, city, message):
        """The bare design's "post": the frame Kirb's /ws would carry, PUBLISHed once."""
        import uuid

        import redis.asyncio

        from devtools.bench.bare import payload

        if self.publisher is None:
            self.publisher = redis.asyncio.Redis.from_url(self.redis_url)
        message_id = str(uuid.uuid4())
        frame = json.dumps({
            "id": message_id, "browser_id": secrets.token_hex(12), "message": message or MESSAGE_TEMPLATE.format(n=label),
            "message_type": MESSAGE_TYPE, "timestamp": int(time.time() * SECONDS_TO_MS), "location": city,
            "has_phone": False,
        }, ensure_ascii=False, separators=(",", ":"))
        sent_at = time.monotonic()
        try:
            await self.publisher.publish(f"{self.prefix}:bare", payload(city, frame))
        except Exception as error:
            logger.warning("Publish %s failed: %s", label, error)
            return None
        return Post(id=message_id, sent_at=sent_at, city=city, server=server_number,
                    response_seconds=time.monotonic() - sent_at)

    async def sample_cpu(self, processes, seconds):
        before = [cpu_seconds(process) for process in processes]
        started = time.monotonic()
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - started
        return [PERCENT * (cpu_seconds(process) - b) / elapsed for process, b in zip(processes, before)]

    async def drain(self, expected_frames):
        """Wait for the frames still on their way, until all came or none comes any more."""
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        last_count, last_change = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = sum(client.frames for client in self.clients)
            if count >= expected_frames:
                return
            if count != last_count:
                last_count, last_change = count, time.monotonic()
            elif time.monotonic() - last_change > DRAIN_QUIET_SECONDS:
                break
            await asyncio.sleep(PROGRESS_INTERVAL_SECONDS)
        logger.warning("%s: %d of %d frames arrived; not waiting any longer", self.design, last_count, expected_frames)

    def redis_cpu_seconds(self):
        """Redis' own CPU (INFO cpu), if it answers: it is shared, so other users add to it."""
        import redis

        try:
            info = redis.Redis.from_url(self.env["REDIS_URL"]).info("cpu")
        except redis.RedisError:
            return None
        return info["used_cpu_user"] + info["used_cpu_sys"]

    def result(self, *, specs, connected, connect_failures, connect_seconds, posts, post_count, expected,
               client_results, window_start, window_seconds, window_cpu, idle_cpu, server_cpu_until_drained,
               redis_cpu, machine_cpu, peak_rss, rss_before, rss_with_sockets):
        sent_at = {post.id: post.sent_at for post in posts}
        latencies = []
        per_message = defaultdict(list)
        duplicates = closed = 0
        for client_result in client_results:
            if client_result is None:
                continue
            duplicates += client_result["duplicates"]
            closed += sum(client_result["closed"].values())
            for message_id, arrivals in client_result["arrivals"].items():
                if message_id in sent_at:
                    latencies.extend(arrival - sent_at[message_id] for arrival in arrivals)
                    per_message[message_id].extend(arrivals)
        latencies.sort()
        last_arrival = max((max(arrivals) for arrivals in per_message.values()), default=None)
        # Per post: how long until the first socket had it (POST handling and publish),
        # and from the first socket to the last (the fan-out).
        first_frame = sorted(min(arrivals) - sent_at[message_id] for message_id, arrivals in per_message.items())
        spread = sorted(max(arrivals) - min(arrivals) for arrivals in per_message.values())
        first_sent = min(sent_at.values(), default=None)
        delivery_seconds = (last_arrival - first_sent) if latencies else 0.0
        server_count = len(self.servers)
        client_count = len(self.clients)
        return DesignResult(
            design=self.design,
            path=self.path,
            clients=len(specs),
            connected=len(connected),
            connect_failures=dict(connect_failures),
            connect_seconds=connect_seconds,
            posts=len(posts),
            post_failures=post_count - len(posts),
            expected=expected,
            delivered=len(latencies),
            duplicates=duplicates,
            closed_by_server=closed,
            latency_ms={
                **{f"p{round(fraction * PERCENT)}": percentile(latencies, fraction) * SECONDS_TO_MS
                   for fraction in LATENCY_PERCENTILES if latencies},
                "max": latencies[-1] * SECONDS_TO_MS if latencies else None,
            },
            first_frame_p50_ms=_ms(percentile(first_frame, MEDIAN)),
            fanout_spread_ms={"p50": _ms(percentile(spread, MEDIAN)), "max": _ms(spread[-1] if spread else None)},
            post_response_p50_ms=(percentile(sorted(post.response_seconds for post in posts), MEDIAN) or 0.0) * SECONDS_TO_MS,
            window_seconds=window_seconds,
            delivery_seconds=delivery_seconds,
            late_seconds=max(0.0, last_arrival - window_start - window_seconds) if latencies else 0.0,
            server_cpu_us_per_frame=(server_cpu_until_drained / len(latencies) * SECONDS_TO_US) if latencies else None,
            deliveries_per_second=len(latencies) / delivery_seconds if delivery_seconds else 0.0,
            idle_cpu_percent=idle_cpu,
            server_cpu_percent=window_cpu[:server_count],
            client_cpu_percent=window_cpu[server_count:server_count + client_count],
            runner_cpu_percent=window_cpu[server_count + client_count],
            redis_cpu_percent=redis_cpu,
            machine_cpu_percent=machine_cpu,
            peak_rss_mib=peak_rss,
            rss_before_sockets_mib=rss_before,
            rss_with_sockets_mib=rss_with_sockets,
            rss_per_socket_kib=rss_per_socket_kib(rss_before, rss_with_sockets, len(connected)),
        )


# --- Whole invocation ----------------------------------------------------------------------


def migrate(env, log_path):
    with open(log_path, "ab") as log:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=BASE_DIR, env=dict(os.environ, **env), stdout=log, stderr=subprocess.STDOUT,
            check=True, timeout=MIGRATE_TIMEOUT_SECONDS,
        )


def delete_redis_keys(redis_url, prefix):
    """Everything the servers wrote (cache and channel layer) starts with ``prefix``."""
    import redis

    client = redis.Redis.from_url(redis_url)
    deleted = 0
    for key in client.scan_iter(match=f"{prefix}*"):
        deleted += client.delete(key)
    return deleted


def run(config, echo=print):
    """Run each design in ``config.designs`` in turn; returns their DesignResults."""
    from devtools.embedded_redis import ensure_redis

    raise_open_file_limit()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per post otherwise
    run_id = secrets.token_hex(4)
    work_dir = Path(tempfile.mkdtemp(prefix="kirb-bench-"))
    (work_dir / "static").mkdir()  # STATIC_ROOT: WhiteNoise warns when it is missing
    base_url, embedded = ensure_redis(config.redis_url or None)
    redis_url = with_db_index(base_url, config.redis_db)
    database_url = f"sqlite:///{work_dir / 'bench.sqlite3'}"
    results = []
    try:
        migrate(
            {"DATABASE_URL": database_url, "DEBUG": "false", "SERVER_SECRET": secrets.token_urlsafe(48),
             "REDIS_URL": redis_url, "REDIS_PREFIX": f"kirbbench-{run_id}", "STATIC_ROOT": str(work_dir / "static")},
            work_dir / "migrate.log",
        )
        from devtools.bench.scenarios import RUNS, describe

        for design in config.designs:
            echo(f"Running {design}: {describe(config)} ...")
            run_class = RUNS.get(config.mode, DesignRun)
            results.append(
                run_class(config, design, redis_url=redis_url, database_url=database_url,
                          work_dir=work_dir, run_id=run_id).run()
            )
        return results
    except Exception:
        config.keep_logs = True  # the server logs say what went wrong (not kept on Ctrl-C)
        raise
    finally:
        try:
            delete_redis_keys(redis_url, f"kirbbench-{run_id}")
        except Exception:
            logger.exception("Could not delete the bench's Redis keys (prefix kirbbench-%s)", run_id)
        if embedded is not None:
            embedded.stop()
        if config.keep_logs:
            echo(f"Logs: {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "client":
        client_main(sys.argv[2])
    else:
        sys.exit("usage: python -m devtools.bench.runner client CONFIG_PATH (started by manage.py bench)")
