"""Start two Kirb servers, connect many sockets, post at a steady rate, and measure.

One run per design (``kirb``: the hub's /ws or /ws/events; ``baseline``: bench.baseline,
one layer member per socket), each on fresh server processes sharing one Redis and one
SQLite file, so that two designs measured in one invocation are comparable.

Processes:
- the runner (this process): starts everything, posts over HTTP, samples CPU and RSS;
- two ``manage.py serve`` processes (kirb_project.instances.ServerProcess);
- client processes (``python -m bench.runner client CONFIG``), one asyncio loop each
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

logger = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parent.parent

DESIGNS = ("kirb", "baseline")
KIRB_PATHS = ("/ws", "/ws/events")
BASELINE_PATH = "/ws/baseline"
SERVER_COUNT = 2
DEFAULT_REDIS_DB = 14
SERVER_LOG_LEVEL = "WARNING"
NO_LIMIT = 10**9  # for the per-IP and per-instance caps a bench from loopback would hit

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


@dataclass
class BenchConfig:
    clients: int = 1000
    rate: float = 5.0
    duration: float = 20.0
    designs: tuple = DESIGNS
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
    per_server = [config.clients // SERVER_COUNT + (s < config.clients % SERVER_COUNT) for s in range(SERVER_COUNT)]
    plans = [location_plan(count, config.cities, config.all_cities_share) for count in per_server]
    specs = []
    for k in range(max(per_server)):
        for server in range(SERVER_COUNT):
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
        self.sockets = config["sockets"]  # [[index, url], ...]
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

        async def open_one(index, url):
            async with limit:
                try:
                    connection = await connect(
                        url,
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

        await asyncio.gather(*(open_one(index, url) for index, url in self.sockets))
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
                {"sockets": [[spec.index, url] for spec, url in self.sockets], "result_path": str(self.result_path)},
                config,
            )
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.runner", "client", str(self.config_path),
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
        self.path = BASELINE_PATH if design == "baseline" else config.path
        self.work_dir = work_dir
        self.run_id = run_id
        self.prefix = f"kirbbench-{run_id}-{design}"
        self.env = {
            "SERVER_SECRET": secrets.token_urlsafe(48),
            "DEBUG": "false",
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": self.prefix,
            "DATABASE_URL": database_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": SERVER_LOG_LEVEL,
            "STATIC_ROOT": str(work_dir / "static"),
            # The same for both designs, so that only the consumer differs.
            "KIRB_BENCH_BASELINE_ROUTE": "true",
            # Every socket and post of the bench comes from loopback: lift the per-IP
            # limits (the baseline has none), and the per-instance socket cap.
            "KIRB_WS_MAX_CONNECTIONS_PER_IP": str(NO_LIMIT),
            "KIRB_HTTP_MAX_CONNECTIONS_PER_IP": str(NO_LIMIT),
            "KIRB_WS_MAX_CONNECTIONS": str(NO_LIMIT),
            "KIRB_IP_WRITE_LIMIT": str(NO_LIMIT),
            "KIRB_NETWORK_POST_LIMIT": str(NO_LIMIT),
            **config.server_env,
        }
        self.servers = []
        self.clients = []

    def start_servers(self):
        from kirb_project.instances import ServerProcess

        for number in range(SERVER_COUNT):
            log_path = self.work_dir / f"{self.design}-server-{number}.log"
            self.servers.append(ServerProcess(self.env, log_path=log_path))
            self.servers[-1].start()
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
        import httpx

        config = self.config
        specs = plan_sockets(config)
        if self.design == "baseline":
            try:
                await probe_socket(socket_url(self.servers[0], self.path, specs[0], self.run_id))
            except Exception as error:
                raise BenchError(
                    f"Could not open {self.path} ({type(error).__name__}: {error}). Is the baseline route "
                    "in chat/routing.py (enabled by KIRB_BENCH_BASELINE_ROUTE)? See docs/BENCHMARKS.md."
                ) from error
        by_process = defaultdict(list)
        for spec in specs:
            url = socket_url(self.servers[spec.server], self.path, spec, self.run_id)
            by_process[spec.index % config.client_processes].append((spec, url))
        self.clients = [ClientHandle(number, sockets, self.work_dir) for number, sockets in sorted(by_process.items())]
        try:
            async with httpx.AsyncClient(timeout=POST_TIMEOUT_SECONDS) as http:
                return await self.measure_with_clients(http, specs)
        finally:
            for client in self.clients:
                await client.kill()

    async def measure_with_clients(self, http, specs):
        config = self.config
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
        interested = Counter(specs[index].location for index in connected)
        logger.info("%s: %d of %d sockets connected in %.1f s", self.design, len(connected), len(specs), connect_seconds)

        def expected_for(city):
            return interested[""] + (interested[city] if city else 0)

        # Warm-up: one post through each server, not measured.
        warmup = await asyncio.gather(
            *(self.post(http, f"warmup-{n}", n, config.cities[0]) for n in range(SERVER_COUNT))
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
            city = config.cities[(n // SERVER_COUNT) % len(config.cities)]
            post_tasks.append(asyncio.create_task(self.post(http, f"post-{n}", n % SERVER_COUNT, city)))
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
            peak_rss=peak_rss,
        )

    async def post(self, http, label, server_number, city):
        """One POST /messages through server ``server_number``; None if it failed."""
        server = self.servers[server_number]
        body = {"message": MESSAGE_TEMPLATE.format(n=label), "message_type": MESSAGE_TYPE, "location": city}
        headers = {FINGERPRINT_HEADER: f"bench-{self.run_id}-{self.design}-{label}", "User-Agent": BROWSER_USER_AGENT}
        sent_at = time.monotonic()
        try:
            response = await http.post(f"{server.url}/messages", json=body, headers=headers)
            response.raise_for_status()
            message_id = response.json()["id"]
        except Exception as error:
            logger.warning("Post %s to %s failed: %s", label, server.url, error)
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
               redis_cpu, machine_cpu, peak_rss):
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
    from kirb_project.embedded_redis import ensure_redis

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
        for design in config.designs:
            echo(f"Running {design}: {config.clients} sockets, {config.rate:g} posts/s for {config.duration:g} s ...")
            results.append(
                DesignRun(config, design, redis_url=redis_url, database_url=database_url,
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


# --- Report ----------------------------------------------------------------------------------


def _number(value, digits=1):
    return "-" if value is None else f"{value:,.{digits}f}"


def _per_process(values, digits=1):
    return " + ".join(_number(value, digits) for value in values)


def format_report(config, results):
    """A plain-text table, one column per design, and the kirb/baseline ratios."""
    rows = [
        ("socket path", lambda r: r.path),
        ("sockets connected", lambda r: f"{r.connected} / {r.clients} ({_number(r.connect_seconds)} s)"),
        ("posts (failed)", lambda r: f"{r.posts} ({r.post_failures})"),
        ("delivered / expected", lambda r: f"{r.delivered:,} / {r.expected:,}"),
        ("duplicates, server closes", lambda r: f"{r.duplicates}, {r.closed_by_server}"),
        ("latency p50 ms", lambda r: _number(r.latency_ms.get("p50"))),
        ("latency p99 ms", lambda r: _number(r.latency_ms.get("p99"))),
        ("latency max ms", lambda r: _number(r.latency_ms.get("max"))),
        ("first socket p50 ms", lambda r: _number(r.first_frame_p50_ms)),
        ("fan-out spread p50 / max ms", lambda r: f"{_number(r.fanout_spread_ms['p50'])} / {_number(r.fanout_spread_ms['max'])}"),
        ("POST response p50 ms", lambda r: _number(r.post_response_p50_ms)),
        ("deliveries / s", lambda r: _number(r.deliveries_per_second, 0)),
        ("last frame after window s", lambda r: _number(r.late_seconds)),
        ("server CPU % (a + b)", lambda r: _per_process(r.server_cpu_percent)),
        ("server CPU % total", lambda r: _number(r.server_cpu_total)),
        ("server CPU µs per frame", lambda r: _number(r.server_cpu_us_per_frame, 0)),
        ("idle server CPU % (a + b)", lambda r: _per_process(r.idle_cpu_percent)),
        ("peak RSS MiB (a, b)", lambda r: ", ".join(_number(value) for value in r.peak_rss_mib)),
        ("client CPU % (per process)", lambda r: _per_process(r.client_cpu_percent)),
        ("runner (poster) CPU %", lambda r: _number(r.runner_cpu_percent)),
        ("redis CPU % (shared)", lambda r: _number(r.redis_cpu_percent)),
        (f"machine CPU % (of {CPU_COUNT * PERCENT})", lambda r: _number(r.machine_cpu_percent)),
        ("  of which not this bench", lambda r: _number(r.machine_cpu_percent - r.bench_cpu_total)),
    ]
    width = max(len(label) for label, _ in rows)
    columns = [max(len(result.design), *(len(str(cell(result))) for _, cell in rows)) for result in results]
    lines = [
        f"{config.clients} sockets over {SERVER_COUNT} servers, cities {', '.join(config.cities)} "
        f"(all-cities share {config.all_cities_share:g}), {config.rate:g} posts/s for {config.duration:g} s; "
        "CPU in % of one core over the posting window.",
        "",
        "  ".join([" " * width, *(result.design.rjust(col) for result, col in zip(results, columns))]),
    ]
    for label, cell in rows:
        lines.append("  ".join([label.ljust(width), *(str(cell(result)).rjust(col) for result, col in zip(results, columns))]))
    by_design = {result.design: result for result in results}
    if {"kirb", "baseline"} <= by_design.keys():
        kirb, baseline = by_design["kirb"], by_design["baseline"]
        lines.append("")
        if kirb.server_cpu_total:
            lines.append(f"baseline / kirb server CPU % in the window: {baseline.server_cpu_total / kirb.server_cpu_total:.2f}x")
        if kirb.server_cpu_us_per_frame and baseline.server_cpu_us_per_frame:
            ratio = baseline.server_cpu_us_per_frame / kirb.server_cpu_us_per_frame
            lines.append(f"baseline / kirb server CPU per frame: {ratio:.2f}x")
        if kirb.latency_ms.get("p99") and baseline.latency_ms.get("p99"):
            lines.append(f"baseline / kirb p99 latency: {baseline.latency_ms['p99'] / kirb.latency_ms['p99']:.2f}x")
    return "\n".join(lines)


def results_as_json(config, results):
    return json.dumps(
        {"config": asdict(config), "results": [asdict(result) for result in results]}, indent=2, default=str
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "client":
        client_main(sys.argv[2])
    else:
        sys.exit("usage: python -m bench.runner client CONFIG_PATH (started by manage.py bench)")
