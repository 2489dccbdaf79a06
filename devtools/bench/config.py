"""What a bench invocation runs: the designs, the modes, the limits raised, what is posted,
and where each socket goes.

Everything here is data and planning, no process or socket: the command builds a
BenchConfig from its options, the runner and the scenarios read it, the report prints it.

The designs:
- ``kirb``: the hub's /ws or /ws/events (core channel layer);
- ``tutorial``: devtools.bench.baseline (one channel-layer member per socket, the Channels
  tutorial's design) on channels_redis' pub/sub layer, the one the tutorial recommends;
- ``bare``: devtools.bench.bare, a ``websockets`` server on Redis pub/sub, the ceiling; the
  runner PUBLISHes its frames (it has no POST path, database or security);
- ``baseline`` (not in ``all``): devtools.bench.baseline on the core layer, issue 2's comparison.
"""

from dataclasses import dataclass, field

DESIGNS = ("kirb", "tutorial", "bare")  # --design all
EXTRA_DESIGNS = ("baseline",)
KIRB_PATHS = ("/ws", "/ws/events")
BASELINE_PATH = "/ws/baseline"
BARE_PATH = "/ws"
PER_SOCKET_DESIGNS = ("tutorial", "baseline")  # devtools.bench.baseline's consumer
SERVER_COUNT = 2
DEFAULT_REDIS_DB = 14
NO_LIMIT = 10**9
# The only limit the bench raises; every security check runs. Sockets come from
# loopback addresses SOCKETS_PER_SOURCE_ADDRESS at a time (devtools.bench.clients, under
# WS_MAX_CONNECTIONS_PER_IP), posts each from an address of their own (devtools.bench.rawhttp).
RAISED_LIMITS = {
    # The per-instance socket cap (10,000): --sockets-only opens 10,000 on one instance.
    "KIRB_WS_MAX_CONNECTIONS": str(NO_LIMIT),
}

# What is posted: a realistic ad, unique per post; its own fingerprint per post, since
# posting is rate-limited per (IP, fingerprint) (devtools.bench.clients.browser_headers).
MESSAGE_TEMPLATE = "Bench post {n}: furnished room in a shared flat, near the metro, rent negotiable, bachelors welcome"
MESSAGE_TYPE = "offered"

FANOUT, SOCKETS_ONLY, SLOW_READERS, POSTS_ONLY = "fanout", "sockets-only", "slow-readers", "posts-only"


class BenchError(Exception):
    """A run that cannot go on (a server that does not start, a missing route...)."""


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


_DEFAULTS = BenchConfig()
KIRB_ONLY = ("kirb",)
# Defaults the command applies per mode when an option is not given.
MODE_DEFAULTS = {
    FANOUT: {"clients": _DEFAULTS.clients, "server_count": _DEFAULTS.server_count, "rate": _DEFAULTS.rate,
             "duration": _DEFAULTS.duration, "designs": DESIGNS},
    SOCKETS_ONLY: {"clients": 10000, "server_count": 1, "rate": 0.0, "duration": 0.0, "designs": DESIGNS},
    SLOW_READERS: {"clients": 20, "server_count": 1, "rate": 50.0, "duration": 30.0, "designs": KIRB_ONLY},
    POSTS_ONLY: {"clients": 0, "server_count": 1, "rate": 0.0, "duration": 20.0, "designs": KIRB_ONLY},
}


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
