"""One design's run, start to finish, and the whole invocation: the orchestration.

For each design in turn, on fresh server processes sharing one Redis and one SQLite
file (devtools.bench.workspace), so that the designs measured in one invocation are
comparable: start ``server_count`` servers (devtools.instances.ServerProcess, or
devtools.bench.bare.BareServerProcess), probe the route, start the client processes
(devtools.bench.clients), then the phases: RSS before and with the sockets, a warm-up
post per server, an idle CPU window, the posting window (posts over HTTP from this
process; the bare design PUBLISHes instead), the drain, and the DesignResult.

What is run comes from devtools.bench.config, the figures from devtools.bench.measure;
the other modes override ``measure_with_clients`` (devtools.bench.scenarios).
"""

import asyncio
import json
import logging
import secrets
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

import psutil

from devtools.bench.clients import (
    PROGRESS_INTERVAL_SECONDS,
    ClientHandle,
    browser_headers,
    probe_socket,
    socket_url,
)
from devtools.bench.config import (
    BARE_PATH,
    BASELINE_PATH,
    MESSAGE_TEMPLATE,
    MESSAGE_TYPE,
    PER_SOCKET_DESIGNS,
    RAISED_LIMITS,
    BenchError,
    Post,
    plan_sockets,
)
from devtools.bench.measure import (
    BYTES_PER_MEBIBYTE,
    MEDIAN,
    PERCENT,
    SECONDS_TO_MS,
    SECONDS_TO_US,
    CpuWindow,
    cpu_percent_over,
    cpu_seconds,
    latency_summary,
    machine_busy_seconds,
    ms,
    peak_rss_bytes,
    percentile,
    redis_cpu_seconds,
    rss_mib,
    rss_per_socket_kib,
)
from devtools.bench.rawhttp import POST_ADDRESS_BLOCK, loopback_address, post_json
from devtools.bench.workspace import Workspace

logger = logging.getLogger(__name__)

# Phases of one design's run
WARMUP_SETTLE_SECONDS = 1.0  # after one post per server: lazy imports, first DB connection
IDLE_WINDOW_SECONDS = 3.0  # CPU with every socket open and nothing posted
DRAIN_TIMEOUT_SECONDS = 30.0  # after the posting window, wait at most this for late frames
DRAIN_QUIET_SECONDS = 5.0  # ... or until no frame arrived for this long
POST_TIMEOUT_SECONDS = 30.0


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

    def __init__(self, config, design, *, workspace, run_id):
        self.config = config
        self.design = design
        self.path = {"bare": BARE_PATH, **dict.fromkeys(PER_SOCKET_DESIGNS, BASELINE_PATH)}.get(design, config.path)
        self.work_dir = workspace.work_dir
        self.run_id = run_id
        self.prefix = f"{workspace.prefix}-{design}"
        self.redis_url = workspace.redis_url
        self.metrics_token = secrets.token_urlsafe(24)
        self.env = {
            **workspace.server_env(self.prefix),
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
        return [rss_mib(process) for process in self.server_processes]

    def cpu_window(self):
        """A CpuWindow over the servers, and the client processes and this one as the bench's others."""
        return CpuWindow(self.server_processes, [client.psutil for client in self.clients] + [psutil.Process()])

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

        idle_cpu = await cpu_percent_over(self.server_processes, IDLE_WINDOW_SECONDS)

        watched = self.server_processes + [client.psutil for client in self.clients] + [psutil.Process()]
        cpu_before = [cpu_seconds(process) for process in watched]
        redis_before = redis_cpu_seconds(self.redis_url)
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
        redis_after = redis_cpu_seconds(self.redis_url)
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
        headers = browser_headers(f"bench-{self.run_id}-{self.design}-{label}")
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
            latency_ms=latency_summary(latencies),
            first_frame_p50_ms=ms(percentile(first_frame, MEDIAN)),
            fanout_spread_ms={"p50": ms(percentile(spread, MEDIAN)), "max": ms(spread[-1] if spread else None)},
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


def run(config, echo=print):
    """Run each design in ``config.designs`` in turn; returns their DesignResults."""
    from devtools.bench.scenarios import RUNS, describe

    run_id = secrets.token_hex(4)
    workspace = Workspace("bench", redis_url=config.redis_url, redis_db=config.redis_db,
                          prefix=f"kirbbench-{run_id}", keep_logs=config.keep_logs, echo=echo)
    with workspace:
        workspace.migrate()
        results = []
        for design in config.designs:
            echo(f"Running {design}: {describe(config)} ...")
            run_class = RUNS.get(config.mode, DesignRun)
            results.append(run_class(config, design, workspace=workspace, run_id=run_id).run())
        return results
