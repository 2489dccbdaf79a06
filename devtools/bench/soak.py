"""The soak: two fresh servers under socket churn for minutes; is anything growing?

What a benchmark cannot show: state that is created per socket, per post or per
visitor and never released. The soak keeps about ``sockets`` WebSockets open over 50
cities (on /ws and /ws/events, some resuming with ``since=``), each living a few
seconds, posts over HTTP and loads the page's visitor and stats calls, and samples
every instance's RSS, open file descriptors and sockets, and the Redis keys under the
run's prefix. After a warm-up (one round of the identity pool fills the per-day keys),
it compares the first and the last third of the samples: flat, or a slope.

It also checks delivery: every post answered 200 must reach each socket of its city
(and each all-cities socket) that was open from before the POST until well after its
answer.

Everything runs in this process, one asyncio loop: ~200 sockets do not need the
bench's client processes. The servers, SQLite file and Redis prefix are the run's own
and are removed at the end, whatever happens.
"""

import asyncio
import json
import logging
import random
import re
import secrets
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

import psutil

from devtools.bench.clients import (
    browser_headers,
    connect_like_a_browser,
    frame_message_id,
)
from devtools.bench.config import MESSAGE_TYPE, NO_LIMIT, RAISED_LIMITS, SERVER_COUNT
from devtools.bench.measure import metric_samples, rss_mib
from devtools.bench.workspace import Workspace

logger = logging.getLogger(__name__)

# 50 real cities (chat.cities accepts them; checked at start), as the page spells them.
SOAK_CITIES = (
    "Mumbai", "Delhi", "Bengaluru", "Hyderabad", "Ahmedabad", "Chennai", "Kolkata", "Surat", "Pune", "Jaipur",
    "Lucknow", "Kanpur", "Nagpur", "Indore", "Thane", "Bhopal", "Visakhapatnam", "Patna", "Vadodara", "Ghaziabad",
    "Ludhiana", "Agra", "Nashik", "Faridabad", "Meerut", "Rajkot", "Varanasi", "Srinagar", "Aurangabad", "Dhanbad",
    "Amritsar", "Allahabad", "Ranchi", "Howrah", "Coimbatore", "Jabalpur", "Gwalior", "Vijayawada", "Jodhpur",
    "Madurai", "Raipur", "Kota", "Guwahati", "Chandigarh", "Solapur", "Mysore", "Noida", "Gurgaon", "Kochi",
    "Thiruvananthapuram",
)

DEFAULT_MINUTES = 10.0
DEFAULT_SOCKETS = 200  # open at any time, over both servers
DEFAULT_POST_RATE = 2.0  # posts per second, to random cities and servers
DEFAULT_PAGE_VIEW_RATE = 2.0  # page loads per second (track-visitor, daily and city stats, history)
DEFAULT_SAMPLE_SECONDS = 15.0
# Each identity of the pool loads the page once per IDENTITIES / PAGE_VIEW_RATE seconds
# (100 s): after that round, the per-day keys (visitor, city view) exist for every
# identity and only TTL'd keys come and go. The warm-up covers that round and the
# servers' lazy imports and caches; its samples are shown, not judged.
DEFAULT_WARMUP_SECONDS = 120.0
DEFAULT_IDENTITIES = 200  # fingerprints; a poster's turn comes every 100 s, after its 60 s cooldown
DEFAULT_REDIS_DB = 15  # the tests use 13, the bench 14; keys are counted by prefix anyway

SOCKET_LIFETIME_SECONDS = (2.0, 12.0)  # uniform: "a random few seconds"
EVENTS_SHARE = 0.5  # of sockets on /ws/events, the rest on /ws
SINCE_SHARE = 0.5  # of /ws/events sockets that resume with since=<the newest event id seen>
ALL_CITIES_SHARE = 0.05  # sockets without ?location= (they get every post)
CONNECT_TIMEOUT_SECONDS = 10
HTTP_TIMEOUT_SECONDS = 10
HISTORY_LIMIT = 50  # the page's first history load is bounded too (PAGE_MAX_POSTS)
# A post is owed to a socket open from before the POST was sent until this long after
# its 200: on loopback a frame takes milliseconds, but the machine may be shared.
DELIVERY_GRACE_SECONDS = 5.0
DRAIN_SECONDS = DELIVERY_GRACE_SECONDS  # after the churn, sockets still open stay this long
SAMPLE_CLOCK_SLACK_SECONDS = 0.5  # a sleep may end a hair before the deadline: no second sample there
STOP_SECONDS = 30  # for the churn's tasks to finish after the deadline

# "Flat": the slope between the mean of the first and of the last third of the judged
# samples. At the default churn each instance opens and closes ~12 sockets a second
# (~700 a minute) and handles ~60 posts and ~60 page loads a minute. 0.5 MiB/min per
# instance is under 1 KiB per closed socket: any per-socket object kept (a consumer,
# its scope and queues are several KiB) would exceed it, while allocator noise on a
# ~100 MiB process stays below it. 10 keys/min is less than one key per post, per
# page load or per socket closed: a key left behind by any of them exceeds it, while
# TTL'd keys (cooldowns, windows) average out over a third of the run.
MEMORY_TOLERANCE_MIB_PER_MINUTE = 0.5
KEYS_TOLERANCE_PER_MINUTE = 10.0
MIN_JUDGED_SAMPLES = 3  # one per third

SECONDS_PER_MINUTE = 60
EXIT_OK = 0
EXIT_GROWTH = 3
EXIT_LOSSES = 4  # frames lost or requests failed (takes precedence over growth)

METRICS_SAMPLED = (
    "active_websocket_connections",
    "process_open_fds",
    "kirb_websocket_frames_dropped_total",
    "kirb_ghost_sockets_swept_total",
    "kirb_stream_events_filled_total",
    "kirb_security_rejections_total",
)
_KEY_VOLATILE_PART = re.compile(r"[0-9a-f]{16,}|\d+|![^!:]*|soak-[0-9a-f]+-\d+")


class SoakError(Exception):
    """A soak that cannot go on (an unknown city, a server that does not start...)."""


@dataclass
class SoakConfig:
    minutes: float = DEFAULT_MINUTES
    sockets: int = DEFAULT_SOCKETS
    post_rate: float = DEFAULT_POST_RATE
    page_view_rate: float = DEFAULT_PAGE_VIEW_RATE
    sample_seconds: float = DEFAULT_SAMPLE_SECONDS
    warmup_seconds: float = DEFAULT_WARMUP_SECONDS
    identities: int = DEFAULT_IDENTITIES
    redis_url: str = ""
    redis_db: int = DEFAULT_REDIS_DB
    server_env: dict = field(default_factory=dict)
    keep_logs: bool = False
    seed: int = None


@dataclass
class SocketRecord:
    server: int
    path: str
    city: str  # "" for all cities
    since: str = ""
    opened_at: float = None
    closing_at: float = None  # when we started closing it, or it was closed on us
    server_close: int = None  # the close code if the server closed it first
    replay_complete: bool = False
    received: set = field(default_factory=set)
    duplicates: int = 0


@dataclass
class PostRecord:
    id: str
    city: str
    server: int
    sent_at: float
    answered_at: float


@dataclass
class Sample:
    elapsed: float
    rss_mib: list
    fds: list
    health_connections: list
    metrics: list  # per server: {metric name: value}
    redis_keys: int
    redis_keys_without_ttl: int
    sockets_open: int
    posts: int
    judged: bool = False


# --- Helpers ------------------------------------------------------------------------------


def parse_metrics(text):
    """The METRICS_SAMPLED values in a Prometheus text page, each summed over its labels."""
    values = dict.fromkeys(METRICS_SAMPLED, 0.0)
    for name, _, value in metric_samples(text):
        if name in values:
            values[name] += value
    return values


def key_pattern(key, prefix):
    """A Redis key with its variable parts (ids, hashes, numbers, cities) as ``*``, for grouping."""
    from chat.cities import city_key

    cities = {city_key(city) for city in SOAK_CITIES}
    segments = key[len(prefix):].split(":")
    return ":".join("*" if segment in cities else _KEY_VOLATILE_PART.sub("*", segment) for segment in segments)


def redis_key_census(client, prefix):
    """Keys under ``prefix``: (count, count without a TTL, Counter of the patterns of all
    keys, Counter of the patterns of those without a TTL)."""
    keys = [key.decode() for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
    pipeline = client.pipeline(transaction=False)
    for key in keys:
        pipeline.ttl(key)
    patterns, without_ttl = Counter(), Counter()
    for key, ttl in zip(keys, pipeline.execute()):
        patterns[key_pattern(key, prefix)] += 1
        if ttl == -1:
            without_ttl[key_pattern(key, prefix)] += 1
    return len(keys), sum(without_ttl.values()), patterns, without_ttl


def slope_per_minute(samples, value):
    """(mean of the last third - mean of the first third) / minutes between their middles."""
    third = len(samples) // 3
    if third < 1:
        return None
    first, last = samples[:third], samples[-third:]
    mean = lambda group, fn: sum(fn(s) for s in group) / len(group)  # noqa: E731
    minutes = (mean(last, lambda s: s.elapsed) - mean(first, lambda s: s.elapsed)) / SECONDS_PER_MINUTE
    return (mean(last, value) - mean(first, value)) / minutes if minutes > 0 else None


def check_cities(cities):
    from chat.cities import is_known

    unknown = [city for city in cities if not is_known(city)]
    if unknown:
        raise SoakError(f"Not cities Kirb knows: {', '.join(unknown)}")


# --- The run ------------------------------------------------------------------------------


class Soak:
    def __init__(self, config, echo=print):
        self.config = config
        self.echo = echo
        self.random = random.Random(config.seed)
        self.run_id = secrets.token_hex(4)
        self.prefix = f"kirbsoak-{self.run_id}"
        self.work_dir = None
        self.servers = []
        self.redis_url = None
        self.sockets = []
        self.posts = []
        self.http_failures = Counter()  # "POST /messages 503"
        self.connect_failures = Counter()
        self.samples = []
        self.newest_event_id = None
        self.started = None
        self.deadline = None
        self.stopping = False
        self.post_turn = 0
        self.view_turn = 0
        self.key_patterns = Counter()
        self.no_ttl_patterns = Counter()

    # -- Setup and teardown

    def run(self):
        """Run the soak; returns the report (a SoakReport)."""
        check_cities(SOAK_CITIES)
        workspace = Workspace("soak", redis_url=self.config.redis_url, redis_db=self.config.redis_db,
                              prefix=self.prefix, keep_logs=self.config.keep_logs, echo=self.echo)
        with workspace:
            self.work_dir, self.redis_url = workspace.work_dir, workspace.redis_url
            env = self.server_env(workspace)
            workspace.migrate(env)
            try:
                self.start_servers(env)
                asyncio.run(self.soak())
                return SoakReport(self)
            finally:
                self.stop_servers()

    def server_env(self, workspace):
        return {
            **workspace.server_env(),
            # Every client of the soak is on loopback: lift the per-IP and per-network
            # limits, and the per-instance socket cap as the bench does.
            **RAISED_LIMITS,
            "KIRB_WS_MAX_CONNECTIONS_PER_IP": str(NO_LIMIT),
            "KIRB_HTTP_MAX_CONNECTIONS_PER_IP": str(NO_LIMIT),
            "KIRB_IP_WRITE_LIMIT": str(NO_LIMIT),
            "KIRB_NETWORK_POST_LIMIT": str(NO_LIMIT),
            **self.config.server_env,
        }

    def start_servers(self, env):
        from devtools.instances import ServerProcess

        for number in range(SERVER_COUNT):
            self.servers.append(ServerProcess(env, log_path=self.work_dir / f"server-{number}.log").launch())
        for server in self.servers:
            server.wait_ready()
        self.server_processes = [psutil.Process(server.pid) for server in self.servers]

    def stop_servers(self):
        for server in self.servers:
            if server.process is not None:
                server.stop()

    def check_servers_alive(self):
        for number, server in enumerate(self.servers):
            if server.process.poll() is not None:
                raise SoakError(f"Server {number} ({server.url}) exited with {server.process.returncode}; see its log.")

    # -- The churn

    def fingerprint(self, n):
        return f"soak-{self.run_id}-{n % self.config.identities}"

    async def soak(self):
        import httpx

        config = self.config
        self.started = time.monotonic()
        self.deadline = self.started + config.minutes * SECONDS_PER_MINUTE
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS, limits=limits) as http:
            self.http = http
            tasks = [asyncio.create_task(self.socket_slot(n)) for n in range(config.sockets)]
            tasks.append(asyncio.create_task(self.at_rate(config.post_rate, self.post)))
            tasks.append(asyncio.create_task(self.at_rate(config.page_view_rate, self.page_view)))
            try:
                await self.sample_until_deadline()
                self.stopping = True
                done, pending = await asyncio.wait(tasks, timeout=STOP_SECONDS + DRAIN_SECONDS)
                for task in done:
                    if task.exception() is not None:
                        raise task.exception()
                if pending:
                    logger.warning("%d churn tasks did not finish in time", len(pending))
                await self.sample(after_churn=True)  # what is left once every socket closed
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def sample_until_deadline(self):
        await self.sample()
        while (left := self.deadline - time.monotonic()) > SAMPLE_CLOCK_SLACK_SECONDS:
            await asyncio.sleep(min(self.config.sample_seconds, left))
            self.check_servers_alive()
            await self.sample()

    async def at_rate(self, rate, action):
        """Call ``action`` (as a task) ``rate`` times a second until the deadline."""
        pending = set()
        n = 0
        while True:
            at = self.started + n / rate
            if at >= self.deadline:
                break
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            task = asyncio.create_task(action(n))
            pending.add(task)
            task.add_done_callback(pending.discard)
            n += 1
        await asyncio.gather(*pending)

    async def socket_slot(self, slot):
        """One of the ``sockets`` slots: open a socket, keep it a few seconds, close, again."""
        # Spread the first opens and closes so that the slots do not move in step.
        await asyncio.sleep(self.random.uniform(0, SOCKET_LIFETIME_SECONDS[0]))
        while not self.stopping and time.monotonic() < self.deadline:
            await self.socket_life(self.random.uniform(*SOCKET_LIFETIME_SECONDS))

    async def socket_life(self, lifetime):
        from websockets.exceptions import ConnectionClosed

        rnd = self.random
        events = rnd.random() < EVENTS_SHARE
        record = SocketRecord(
            server=rnd.randrange(SERVER_COUNT),
            path="/ws/events" if events else "/ws",
            city="" if rnd.random() < ALL_CITIES_SHARE else rnd.choice(SOAK_CITIES),
        )
        query = {"fp": self.fingerprint(rnd.randrange(self.config.identities))}
        if record.city:
            query["location"] = record.city
        if events and self.newest_event_id is not None and rnd.random() < SINCE_SHARE:
            record.since = query["since"] = str(self.newest_event_id)
        url = f"{self.servers[record.server].ws_url}{record.path}?{urlencode(query)}"
        try:
            connection = await connect_like_a_browser(url, CONNECT_TIMEOUT_SECONDS)
        except Exception as error:
            self.connect_failures[f"{type(error).__name__}: {error}"] += 1
            await asyncio.sleep(1)  # do not spin on a server that refuses
            return
        record.opened_at = time.monotonic()
        self.sockets.append(record)
        reader = asyncio.create_task(self.read(connection, record))
        until = record.opened_at + lifetime
        if self.stopping or until > self.deadline:
            until = max(self.deadline, time.monotonic()) + DRAIN_SECONDS
        try:
            await asyncio.wait_for(asyncio.shield(reader), max(0.0, until - time.monotonic()))
        except asyncio.TimeoutError:
            pass
        if record.closing_at is None:
            record.closing_at = time.monotonic()
        try:
            await connection.close()
        except ConnectionClosed:
            pass
        await asyncio.gather(reader, return_exceptions=True)

    async def read(self, connection, record):
        from websockets.exceptions import ConnectionClosed

        try:
            async for frame in connection:
                message_id = frame_message_id(frame)
                if message_id is None:
                    payload = json.loads(frame)
                    if payload.get("type") == "notice" and payload["data"].get("code") == "replay_complete":
                        record.replay_complete = True
                    continue
                if message_id in record.received:
                    record.duplicates += 1
                record.received.add(message_id)
                if record.path == "/ws/events":
                    event_id = json.loads(frame).get("event_id")
                    if isinstance(event_id, int) and (self.newest_event_id is None or event_id > self.newest_event_id):
                        self.newest_event_id = event_id
        except ConnectionClosed:
            pass
        if record.closing_at is None:  # closed by the server, not by us
            record.closing_at = time.monotonic()
            record.server_close = connection.close_code

    async def request(self, label, method, url, n, **kwargs):
        try:
            response = await self.http.request(method, url, headers=browser_headers(self.fingerprint(n)), **kwargs)
        except Exception as error:
            self.http_failures[f"{label} {type(error).__name__}"] += 1
            return None
        if response.status_code != 200:
            self.http_failures[f"{label} {response.status_code} {response.text[:80]}"] += 1
            return None
        return response

    async def post(self, n):
        server = self.random.randrange(SERVER_COUNT)
        city = self.random.choice(SOAK_CITIES)
        body = {
            "message": f"Soak post {n}: furnished room in a shared flat near the metro, rent negotiable",
            "message_type": MESSAGE_TYPE,
            "location": city,
        }
        sent_at = time.monotonic()
        response = await self.request("POST /messages", "POST", f"{self.servers[server].url}/messages", n, json=body)
        if response is not None:
            self.posts.append(PostRecord(response.json()["id"], city, server, sent_at, time.monotonic()))

    async def page_view(self, n):
        """What the page fires on load, for identity ``n`` in its home city."""
        url = self.servers[self.random.randrange(SERVER_COUNT)].url
        city = SOAK_CITIES[n % self.config.identities % len(SOAK_CITIES)]
        await asyncio.gather(
            self.request("POST /api/track-visitor", "POST", f"{url}/api/track-visitor", n, json={"location": city}),
            self.request("GET /api/stats/daily", "GET", f"{url}/api/stats/daily", n),
            self.request("GET /api/stats/cities", "GET", f"{url}/api/stats/cities", n, params={"current_city": city}),
            self.request("GET /messages", "GET", f"{url}/messages", n, params={"location": city, "limit": HISTORY_LIMIT}),
        )

    # -- Sampling

    async def sample(self, after_churn=False):
        """One row of the table; ``after_churn``: once every socket closed, shown but not judged."""
        rss, fds, health, metrics = [], [], [], []
        for server, process in zip(self.servers, self.server_processes):
            try:
                rss.append(rss_mib(process))
                fds.append(process.num_fds())
            except psutil.Error:
                rss.append(None)
                fds.append(None)
            try:
                answer = await self.http.get(f"{server.url}/health")
                health.append(answer.json().get("active_connections"))
            except Exception:
                health.append(None)
            try:
                metrics.append(parse_metrics((await self.http.get(f"{server.url}/metrics")).text))
            except Exception:
                metrics.append({})
        keys, without_ttl, self.key_patterns, self.no_ttl_patterns = await asyncio.to_thread(self.census)
        now = time.monotonic()
        open_now = sum(1 for s in self.sockets if s.closing_at is None)
        elapsed = now - self.started
        self.samples.append(Sample(
            elapsed=elapsed, rss_mib=rss, fds=fds, health_connections=health, metrics=metrics,
            redis_keys=keys, redis_keys_without_ttl=without_ttl, sockets_open=open_now, posts=len(self.posts),
            judged=not after_churn and elapsed >= self.config.warmup_seconds,
        ))
        memory = " + ".join("-" if value is None else f"{value:.1f}" for value in rss)
        self.echo(f"  {elapsed:5.0f} s: RSS {memory} MiB, {open_now} sockets open, {keys} Redis keys, {len(self.posts)} posts")

    def census(self):
        import redis

        client = redis.Redis.from_url(self.redis_url)
        try:
            return redis_key_census(client, self.prefix)
        finally:
            client.close()


# --- The verdict --------------------------------------------------------------------------


class SoakReport:
    """Delivery, the samples and the slopes of one soak, and its exit code."""

    def __init__(self, soak):
        self.config = soak.config
        self.samples = soak.samples
        self.sockets = soak.sockets
        self.http_failures = soak.http_failures
        self.connect_failures = soak.connect_failures
        self.no_ttl_patterns = soak.no_ttl_patterns
        self.key_patterns = soak.key_patterns
        self.posts = len(soak.posts)
        self.check_delivery(soak.posts)
        judged = [sample for sample in self.samples if sample.judged]
        self.judged = len(judged)
        self.memory_slopes = [
            slope_per_minute(judged, lambda s, i=i: s.rss_mib[i]) for i in range(SERVER_COUNT)
        ] if self.judged >= MIN_JUDGED_SAMPLES else [None] * SERVER_COUNT
        self.key_slope = slope_per_minute(judged, lambda s: s.redis_keys) if self.judged >= MIN_JUDGED_SAMPLES else None
        self.no_ttl_slope = (
            slope_per_minute(judged, lambda s: s.redis_keys_without_ttl) if self.judged >= MIN_JUDGED_SAMPLES else None
        )
        self.server_closes = Counter(str(s.server_close) for s in self.sockets if s.server_close is not None)
        since_sockets = [s for s in self.sockets if s.since]
        self.since_sockets = len(since_sockets)
        self.since_without_replay_complete = sum(1 for s in since_sockets if not s.replay_complete)
        self.duplicates = sum(s.duplicates for s in self.sockets)

    def check_delivery(self, posts):
        """Every post owed to a socket open throughout (see DELIVERY_GRACE_SECONDS) reached it."""
        by_city = defaultdict(list)
        for socket in self.sockets:
            by_city[socket.city].append(socket)
        self.expected = self.delivered = 0
        self.lost = []  # (post id, socket path, city)
        for post in posts:
            for socket in by_city[post.city] + by_city[""]:
                if socket.opened_at < post.sent_at and socket.closing_at > post.answered_at + DELIVERY_GRACE_SECONDS:
                    self.expected += 1
                    if post.id in socket.received:
                        self.delivered += 1
                    else:
                        self.lost.append((post.id, socket.path, socket.city or "(all)"))

    @property
    def memory_flat(self):
        return all(slope is not None and slope <= MEMORY_TOLERANCE_MIB_PER_MINUTE for slope in self.memory_slopes)

    @property
    def keys_flat(self):
        return self.key_slope is not None and self.key_slope <= KEYS_TOLERANCE_PER_MINUTE

    @property
    def failures(self):
        return len(self.lost) + self.duplicates + sum(self.http_failures.values()) + self.since_without_replay_complete

    @property
    def exit_code(self):
        if self.failures:
            return EXIT_LOSSES
        return EXIT_OK if self.memory_flat and self.keys_flat else EXIT_GROWTH

    def format(self):
        config = self.config
        lines = [
            f"Soak: {config.minutes:g} min on {SERVER_COUNT} servers, ~{config.sockets} sockets open over "
            f"{len(SOAK_CITIES)} cities (lifetime {SOCKET_LIFETIME_SECONDS[0]:g}-{SOCKET_LIFETIME_SECONDS[1]:g} s), "
            f"{config.post_rate:g} posts/s, {config.page_view_rate:g} page loads/s, {config.identities} identities; "
            f"warm-up {config.warmup_seconds:g} s (samples marked '-' are not judged).",
            "",
            f"{'t s':>6} {'':1} {'RSS MiB a':>9} {'RSS MiB b':>9} {'fds a':>6} {'fds b':>6} {'ws a':>5} {'ws b':>5} "
            f"{'open':>5} {'keys':>6} {'no-TTL':>6} {'posts':>6} {'dropped':>7} {'swept':>5} {'filled':>6} {'refused':>7}",
        ]
        for s in self.samples:
            metric = lambda name: sum(m.get(name, 0) for m in s.metrics)  # noqa: E731
            cells = [
                f"{s.elapsed:6.0f}", "*" if s.judged else "-",
                *(f"{'-' if v is None else f'{v:.1f}':>9}" for v in s.rss_mib),
                *(f"{'-' if v is None else v:>6}" for v in s.fds),
                *(f"{'-' if v is None else v:>5}" for v in s.health_connections),
                f"{s.sockets_open:>5}", f"{s.redis_keys:>6}", f"{s.redis_keys_without_ttl:>6}", f"{s.posts:>6}",
                f"{metric('kirb_websocket_frames_dropped_total'):>7.0f}",
                f"{metric('kirb_ghost_sockets_swept_total'):>5.0f}",
                f"{metric('kirb_stream_events_filled_total'):>6.0f}",
                f"{metric('kirb_security_rejections_total'):>7.0f}",
            ]
            lines.append(" ".join(cells))
        opened = len(self.sockets)
        lines += [
            "",
            f"sockets opened: {opened} ({sum(1 for s in self.sockets if s.path == '/ws/events')} on /ws/events, "
            f"{self.since_sockets} with since=); connect failures: {sum(self.connect_failures.values())}"
            + (f" {dict(self.connect_failures)}" if self.connect_failures else ""),
            f"server closes: {dict(self.server_closes) or 0}; since= sockets without replay_complete: "
            f"{self.since_without_replay_complete}",
            f"posts answered 200: {self.posts}; HTTP failures: {sum(self.http_failures.values())}"
            + (f" {dict(self.http_failures)}" if self.http_failures else ""),
            f"delivery: {self.delivered} / {self.expected} owed frames arrived; lost: {len(self.lost)}; "
            f"duplicates: {self.duplicates}",
        ]
        for post_id, path, city in self.lost[:10]:
            lines.append(f"  lost: post {post_id} on a {path} socket of {city}")
        if self.key_patterns:
            lines.append("Redis keys at the end, by pattern: " + ", ".join(
                f"{pattern} x{count}" for pattern, count in self.key_patterns.most_common(12)
            ))
        if self.no_ttl_patterns:
            lines.append("Redis keys without a TTL at the end: " + ", ".join(
                f"{pattern} x{count}" for pattern, count in self.no_ttl_patterns.most_common(10)
            ))
        lines.append("")
        if self.judged < MIN_JUDGED_SAMPLES:
            lines.append(
                f"verdict: too short to judge ({self.judged} samples after the warm-up, {MIN_JUDGED_SAMPLES} needed)"
            )
        else:
            memory = ", ".join(f"{slope:+.2f}" for slope in self.memory_slopes)
            lines.append(
                f"memory slope (first vs last third of {self.judged} samples): {memory} MiB/min per server "
                f"(tolerance {MEMORY_TOLERANCE_MIB_PER_MINUTE:g}): {'flat' if self.memory_flat else 'GROWING'}"
            )
            lines.append(
                f"Redis key slope: {self.key_slope:+.1f} keys/min (without TTL: {self.no_ttl_slope:+.1f}; tolerance "
                f"{KEYS_TOLERANCE_PER_MINUTE:g}): {'flat' if self.keys_flat else 'GROWING'}"
            )
        verdict = "FAILED (losses or errors)" if self.failures else (
            "flat" if self.exit_code == EXIT_OK else "NOT FLAT"
        )
        lines.append(f"verdict: {verdict} (exit {self.exit_code})")
        return "\n".join(lines)
