"""Django settings for Kirb: every value comes from the environment (or a ``.env`` file).

The variables are documented in README.md and .env.example. Defaults are safe for a
laptop (SQLite, local Redis, DEBUG off unless asked for); production mode (``DEBUG``
false) refuses to start without a real ``SERVER_SECRET``.
"""

import datetime
import hashlib
import hmac
import importlib.util
import ipaddress
import socket
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from core.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    with_env_overrides,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# A .env file next to manage.py fills in what the real environment does not set.
load_dotenv(BASE_DIR / ".env", override=False)

DEBUG = env_bool("DEBUG", False)

# --- Secrets -------------------------------------------------------------------------

_DEV_SECRET = "kirb-insecure-development-secret"
_MIN_SECRET_CHARS = 32
SERVER_SECRET = env_str("SERVER_SECRET")
if not SERVER_SECRET:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SERVER_SECRET is not set. In production mode (DEBUG=false) Kirb needs a real "
            "secret of at least 32 characters: generate one with\n"
            "  python -c 'import secrets; print(secrets.token_urlsafe(48))'\n"
            "and put it in the environment or .env. For local development set DEBUG=true."
        )
    SERVER_SECRET = _DEV_SECRET
elif not DEBUG and len(SERVER_SECRET) < _MIN_SECRET_CHARS:
    raise ImproperlyConfigured(
        f"SERVER_SECRET is too short ({len(SERVER_SECRET)} characters); production mode "
        f"needs at least {_MIN_SECRET_CHARS}."
    )

# Django's own signing key is derived from SERVER_SECRET, so that the composite-key
# HMAC and session signing never share a raw key.
SECRET_KEY = hmac.new(SERVER_SECRET.encode(), b"django-secret-key", hashlib.sha256).hexdigest()

# --- Hosts, origins, proxies ---------------------------------------------------------

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

# The one browser origin (scheme://host[:port]) allowed to call the API cross-site and
# to open WebSockets. Empty: same-origin only (the Host must be in ALLOWED_HOSTS).
ALLOWED_ORIGIN = env_str("ALLOWED_ORIGIN").rstrip("/")
CORS_ALLOWED_ORIGINS = [ALLOWED_ORIGIN] if ALLOWED_ORIGIN else []
CORS_ALLOW_HEADERS = ("content-type", "x-browser-fingerprint")
CSRF_TRUSTED_ORIGINS = CORS_ALLOWED_ORIGINS


def _parse_networks(name, default=""):
    networks = []
    for item in env_list(name, default.split(",") if default else ()):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not an IP address or CIDR range.") from None
    return networks


# Peers allowed to tell us the client address with X-Forwarded-For.
TRUSTED_PROXIES = _parse_networks("TRUSTED_PROXIES")
# Cloudflare's edge ranges (https://www.cloudflare.com/ips/): CF-Connecting-IP is
# believed only from a hop in these, never merely from a trusted proxy (an ingress that
# passes client headers through would let any client pick its own address).
CLOUDFLARE_PROXIES = _parse_networks("CLOUDFLARE_PROXIES")

# /metrics: scrapers on these networks (default loopback and private ranges), or
# anyone sending "Authorization: Bearer $METRICS_TOKEN".
METRICS_ALLOWED_CIDRS = _parse_networks(
    "METRICS_ALLOWED_CIDRS",
    default="127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7",
)
METRICS_TOKEN = env_str("METRICS_TOKEN")

# /admin/: only clients on these networks (the client IP as resolved through
# TRUSTED_PROXIES); others get the JSON 404 of an unknown address. Empty: everyone.
ADMIN_ALLOWED_CIDRS = _parse_networks("ADMIN_ALLOWED_CIDRS")

HOST = env_str("HOST", "127.0.0.1")
PORT = env_int("PORT", 8000)
# A stable name for this instance in /health and logs.
INSTANCE_ID = env_str("INSTANCE_ID") or f"{socket.gethostname()}:{PORT}"

# --- Applications --------------------------------------------------------------------

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "corsheaders",
    "channels",
    "django_prometheus",
    "security",
    "chat",
    "kirb_project",  # the wiring's own commands: manage.py serve
]
# Development tooling (manage.py bench and soak): a checkout has it, the production
# image does not (.dockerignore), and nothing the image runs imports it.
if importlib.util.find_spec("devtools") is not None:
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "security.middleware.IdentityMiddleware",
    "security.middleware.AdminAllowlistMiddleware",
    "core.errors.KirbErrorMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kirb_project.urls"
# What `manage.py serve` runs; the bench's servers run devtools.bench.asgi.application.
ASGI_APPLICATION = env_str("KIRB_ASGI_APPLICATION", "kirb_project.asgi.application")
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# django-prometheus' wrappers of the same backends count queries and their latency;
# for PostgreSQL, core.dbdeadline adds client-side deadlines to its wrapper.
_INSTRUMENTED_ENGINES = {
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
    "django.db.backends.postgresql": "core.dbdeadline",
}
# Bounded waits (issue 11): a hung or locked database must answer 503 in about a
# second or two, well under HTTP_TIMEOUT_SECONDS, not hold a request (and the thread
# serving it) for as long as the database hangs. 0 turns a bound off (e.g. for a
# one-off migration of a large table: DATABASE_STATEMENT_TIMEOUT_SECONDS=0).
DATABASE_CONNECT_TIMEOUT_SECONDS = env_int("DATABASE_CONNECT_TIMEOUT_SECONDS", 2)  # libpq's minimum is 2
DATABASE_STATEMENT_TIMEOUT_SECONDS = env_float("DATABASE_STATEMENT_TIMEOUT_SECONDS", 2.0)
DATABASE_BUSY_TIMEOUT_SECONDS = env_float("DATABASE_BUSY_TIMEOUT_SECONDS", 3.0)
# PostgreSQL, enforced by Kirb itself (kirb_project/dbdeadline): the longest a connect
# or a query waits for the server. A frozen server enforces no statement_timeout, and
# connect_timeout cannot go below 2 s; this must leave the rest of a request room
# within the 2 s answer budget. Then requests are refused at once until a probe, every
# DATABASE_PROBE_INTERVAL_SECONDS, gets an answer.
DATABASE_QUERY_DEADLINE_SECONDS = env_float("DATABASE_QUERY_DEADLINE_SECONDS", 1.5)
DATABASE_PROBE_INTERVAL_SECONDS = env_float("DATABASE_PROBE_INTERVAL_SECONDS", 0.25)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several server processes share one SQLite file in development and tests: WAL lets
    # readers go on during a write, IMMEDIATE transactions plus a busy timeout make
    # concurrent writers queue instead of failing with "database is locked" (up to
    # the busy timeout: then "locked", a 503). Connections persist as on PostgreSQL:
    # each HTTP and database thread (kirb_project/wsgi_bridge.py, core.dbpool) keeps one.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": DATABASE_BUSY_TIMEOUT_SECONDS,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    if DATABASE_CONNECT_TIMEOUT_SECONDS:
        _pg_options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT_SECONDS)
    if DATABASE_STATEMENT_TIMEOUT_SECONDS:
        # Enforced by the server: covers slow queries and waits on locks.
        _pg_options["options"] = (
            _pg_options.get("options", "") + f" -c statement_timeout={int(DATABASE_STATEMENT_TIMEOUT_SECONDS * 1000)}"
        ).strip()
DATABASES["default"]["ENGINE"] = _INSTRUMENTED_ENGINES.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache (security state) and channel layer (broadcast) -----------------------

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# Every key Kirb writes starts with this prefix, so several deployments (or the test
# suite) can share one Redis without touching each other's data.
REDIS_PREFIX = env_str("REDIS_PREFIX", "kirb")
REDIS_TIMEOUT_SECONDS = env_float("REDIS_TIMEOUT_SECONDS", 2.0)
# After Redis restarts, pooled connections are dead: retry a command once on a fresh
# connection instead of failing the first request (only for connection errors, so a
# hung Redis still costs one timeout, not two).
_redis_retry = {
    "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
}
_async_redis_retry = {
    "retry": AsyncRetry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
}

CACHES = {
    "default": {
        "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",  # django-redis, counted
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_PREFIX,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT_SECONDS,
            "SOCKET_TIMEOUT": REDIS_TIMEOUT_SECONDS,
            "CONNECTION_POOL_KWARGS": _redis_retry,
        },
    }
}

CHANNEL_LAYERS = {
    "default": {
        # channels_redis' core layer, its group_send in one round trip (core/channel_layer.py).
        "BACKEND": "core.channel_layer.KirbChannelLayer",
        "CONFIG": {
            # redis-py 8 times socket reads out after 5 s by default, exactly the
            # channels_redis BZPOPMIN timeout: an idle hub would see spurious timeouts.
            "hosts": [{"address": REDIS_URL, "socket_timeout": 5 + REDIS_TIMEOUT_SECONDS, **_async_redis_retry}],
            "prefix": f"{REDIS_PREFIX}:layer",
            # One hub channel per process receives every event for its sockets, so
            # its queue must absorb a burst while the hub is busy (default is 100).
            "capacity": env_int("CHANNEL_LAYER_CAPACITY", 2000),
            "expiry": env_int("CHANNEL_LAYER_EXPIRY_SECONDS", 60),
            # A hub re-joins every HUB_GROUP_REFRESH_SECONDS; one that died without
            # leaving (kill -9) is forgotten after this (channels_redis' default: a day).
            "group_expiry": env_int("CHANNEL_LAYER_GROUP_EXPIRY_SECONDS", 300),
        },
    }
}
# `manage.py bench` only: KIRB_BENCH_CHANNEL_LAYER=pubsub runs the servers of its
# "tutorial" design on channels_redis' pub/sub layer, the one the Channels tutorial
# recommends (docs/BENCHMARKS.md). Kirb's hub needs the core layer; never set it in production.
if env_str("KIRB_BENCH_CHANNEL_LAYER", "core") == "pubsub":
    CHANNEL_LAYERS["default"] = {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": CHANNEL_LAYERS["default"]["CONFIG"]["hosts"], "prefix": f"{REDIS_PREFIX}:layer"},
    }

# --- Kirb tunables: one structure, each key overridable as KIRB_<KEY> ----------------

KIRB_DEFAULTS = {
    # Messages
    "MESSAGE_MAX_CHARS": 500,
    "PHONE_MIN_DIGITS": 10,
    "PHONE_MAX_DIGITS": 15,
    "CITY_MAX_CHARS": 64,
    "FINGERPRINT_MAX_CHARS": 128,
    # History: a page (``limit``) is at most this long; without ``limit``, everything
    # within retention (krib's client never pages), up to HISTORY_MAX_MESSAGES.
    "HISTORY_MAX_LIMIT": 500,
    "HISTORY_MAX_MESSAGES": 5000,
    # Cities (chat.cities): GeoNames' cities of these countries (comma-separated ISO
    # codes) with at least this population (15000, 5000, 1000 or 500), plus
    # chat/data/cities_extra.txt and EXTRA_CITIES (comma-separated spellings).
    "CITY_COUNTRY_CODES": "IN",
    "CITY_MIN_POPULATION": 15000,
    "EXTRA_CITIES": "",
    # How much a reconnecting /ws/events client may catch up on before it should
    # reload history instead (one page of history).
    "REPLAY_MAX_MESSAGES": 500,
    # The web page keeps at most this many posts in its DOM (a phone left open on a
    # busy city); older ones are loaded again on demand.
    "PAGE_MAX_POSTS": 300,
    "STATS_WINDOW_DAYS": 7,
    "STATS_RETENTION_DAYS": 30,
    "BOT_DETECTION_RETENTION_DAYS": 90,
    # /api/stats/cities lists these (spelled as the krib client spells them) even with
    # no views, then this many other cities, busiest first.
    "STATS_MAJOR_CITIES": "Bengaluru,Hyderabad,Pune,Chennai,Kolkata,Thiruvananthapuram,Delhi,Noida,Gurgaon",
    "STATS_MAX_OTHER_CITIES": 10,
    # Stats answers are reused for this long by each instance and by browsers.
    "STATS_CACHE_SECONDS": 30,
    # WebSockets: a socket's queue of frames not yet written. A reader this far behind
    # is disconnected (and told to resume with since=) rather than grow memory.
    "WS_OUTBOX_MAX_FRAMES": 256,
    # Bytes a socket may leave unsent (the kernel would not take them: the client stopped
    # reading) before it is closed with 4408 and its buffer dropped; it resumes with
    # since=. The real bound under manage.py serve (the outbox above applies under
    # other servers). Above a full since= replay (REPLAY_MAX_MESSAGES frames) in practice.
    "WS_MAX_UNSENT_BYTES": 1024 * 1024,
    # The kernel's share of a socket's unsent bytes (SO_SNDBUF; Linux doubles it),
    # fixed so that it cannot autotune to megabytes per slow reader. Ample for a feed:
    # what does not fit waits in the server, within WS_MAX_UNSENT_BYTES.
    "WS_SEND_BUFFER_BYTES": 64 * 1024,
    # Clients have nothing large to send; anything bigger is abuse.
    "WS_MAX_INCOMING_FRAME_BYTES": 4096,
    # Frames a client may send per window on one socket (the page pings every 30 s);
    # more and the socket is closed with 1008. The server also stops reading a socket
    # while that many frames wait for its consumer: a flood costs one window's frames.
    "WS_MAX_INCOMING_FRAMES": 20,
    "WS_INCOMING_FRAME_WINDOW_SECONDS": 10,
    # Error replies (invalid_frame) one socket gets in all; later bad frames are only
    # counted, so a flood of junk cannot make the server write megabytes back.
    "WS_MAX_ERROR_REPLIES": 5,
    # channels_redis forgets group members after CHANNEL_LAYER_GROUP_EXPIRY_SECONDS; the
    # hub re-joins well before that (so a kill -9'ed hub drops out within that expiry).
    "HUB_GROUP_REFRESH_SECONDS": 60,
    # After losing Redis, how long the hub waits before receiving (and re-joining) again.
    "HUB_RETRY_SECONDS": 1.0,
    # How often each hub verifies its channel-layer membership and the enforcement
    # state in Redis (a FLUSHALL drops both silently) and catches up from the event
    # log: the longest a silent Redis data loss goes unnoticed (issue: <= 15 s).
    "HUB_CHECK_SECONDS": 5.0,
    # An event arriving before the ones below it waits this long for them, then they
    # are read from the event log: covers senders' clock skew in the channel layer.
    "HUB_GAP_WAIT_SECONDS": 0.25,
    # Threads for the WebSocket consumers' and hubs' database work (replays, block
    # checks, catch-up): a slow query holds one of them, not every handshake.
    "WS_DB_THREADS": 8,
    # During a dependency outage: one log line when it starts, then a reminder at most
    # this often, and one when it ends (core/outages.py).
    "OUTAGE_REMINDER_SECONDS": 60,
    # /health gives each dependency this long to answer before calling it down.
    "HEALTH_TIMEOUT_SECONDS": 1.0,
    # Open sockets this instance accepts in all, and from one IP (a household or an
    # office shares one; a scraper opening hundreds does not get them).
    "WS_MAX_CONNECTIONS": 10000,
    "WS_MAX_CONNECTIONS_PER_IP": 20,
    # --- Server (manage.py serve) ---
    # A request the application has not answered by then gets a 503.
    "HTTP_TIMEOUT_SECONDS": 30,
    # A new connection must have sent its request headers by then (slowloris), and a
    # keep-alive connection is closed after this long idle.
    "HTTP_HEADER_TIMEOUT_SECONDS": 10,
    "HTTP_IDLE_TIMEOUT_SECONDS": 60,
    # A request must have arrived whole (first line to last body byte) by then, or it
    # gets 408 and the connection is closed: every byte resets the idle timeout, so a
    # body trickled a byte at a time would otherwise hold the socket for ever. Bodies
    # are at most 16 KiB: seconds even on a slow phone network.
    "HTTP_BODY_TIMEOUT_SECONDS": 15,
    # Open TCP connections (HTTP and WebSocket) from one peer address; more are answered
    # 429 and closed. Not applied to TRUSTED_PROXIES peers: behind a proxy every client
    # shares its address, so the proxy must cap connections per client itself.
    "HTTP_MAX_CONNECTIONS_PER_IP": 50,
    # Threads Django's HTTP requests run on (kirb_project/wsgi_bridge.py); more queue.
    # Every request is short and they share the GIL: more threads add contention, not
    # throughput (docs/BENCHMARKS.md), but a slow query holds one of them.
    "HTTP_THREADS": 4,
    "WS_HANDSHAKE_TIMEOUT_SECONDS": 5,
    # Keepalive: a ping after this long without traffic; no pong within the timeout
    # and the peer is dead (phones vanish without closing).
    "WS_PING_INTERVAL_SECONDS": 20,
    "WS_PING_TIMEOUT_SECONDS": 30,
    # SIGTERM to exit: Kubernetes' terminationGracePeriodSeconds must be longer.
    "DRAIN_DEADLINE_SECONDS": 10,
    # After SIGTERM, /health answers 503 for at least this long before the process
    # exits (a load balancer polling every second or two sees it go).
    "DRAIN_LINGER_SECONDS": 2.0,
    # glibc malloc arenas of `manage.py serve` (0: glibc's default, 8 per core). Many
    # threads with many arenas fragment memory: RSS crept up for as long as the server
    # ran; with 2 it stays flat (docs/OPERATIONS.md, Soak).
    "MALLOC_ARENAS": 2,
    # Python's garbage collector thresholds in `manage.py serve` (gc.set_threshold).
    # Every open socket holds ~120 objects the collector tracks, and a full collection
    # scans them all: 0.4-0.5 s with 5,000 sockets, every socket's frames held up
    # meanwhile. 50000,20,20 made full collections rare and cut the server's CPU by a
    # fifth at 5,000 sockets, but let cyclic garbage pile up between them: RSS grew
    # 5-8 MiB/min in `manage.py soak`, flat with Python's default, kept here
    # (docs/BENCHMARKS.md, "The garbage collector").
    "GC_THRESHOLDS": (700, 10, 10),
    # Once a full collection takes GC_FREEZE_AFTER_PAUSE_MS (thousands of sockets),
    # what survives it and every later one is frozen (gc.freeze): full collections scan
    # only what is newer, instead of stopping every socket for 0.4-0.5 s. Every
    # GC_THAW_SECONDS from then on it is thawed and collected once, so cyclic garbage
    # among it (what closed sockets leave) lives at most that long. With 200 sockets
    # full collections take 15-75 ms; at 50 ms `manage.py soak` found one instance's
    # RSS growing 0.6 MiB/min, so only a server several times bigger freezes.
    # GC_THAW_SECONDS=0: Python's own behaviour (docs/BENCHMARKS.md, "The 5,000-socket
    # tail").
    "GC_FREEZE_AFTER_PAUSE_MS": 200,
    "GC_THAW_SECONDS": 120,
    # --- Abuse defence (security app). Windows and durations in seconds. ---
    # Posting: one post per cooldown per composite key; the cooldown grows with the
    # poster IP's risk level (below).
    "POST_COOLDOWN_SECONDS": 60,
    # Reveals: distinct phone numbers per composite key per window.
    "REVEAL_LIMIT": 5,
    "REVEAL_WINDOW_SECONDS": 3600,
    # Burst: more write requests than this from one composite key in the window is a
    # script, not a person: 429 and that composite key cooled down for BURST_BLOCK_SECONDS.
    "BURST_LIMIT": 20,
    "BURST_WINDOW_SECONDS": 2,
    "BURST_BLOCK_SECONDS": 1800,
    # Per-network ceiling on write requests (an IPv4 address or IPv6 /64), whatever
    # fingerprints it claims: a household or office shares one, hence far above one
    # person's needs.
    "IP_WRITE_LIMIT": 60,
    "IP_WRITE_WINDOW_SECONDS": 60,
    # Per-network ceilings a fingerprint cannot reset: posts, phone reveals and reports
    # per window. A household never reaches them; a scraper rotating fingerprints does.
    "NETWORK_POST_LIMIT": 3,
    "NETWORK_POST_WINDOW_SECONDS": 600,
    "NETWORK_REVEAL_LIMIT": 20,
    "NETWORK_REVEAL_WINDOW_SECONDS": 3600,
    "NETWORK_REPORT_LIMIT": 10,
    "NETWORK_REPORT_WINDOW_SECONDS": 3600,
    # Burst profiler: this many distinct action endpoints (a reveal, post or report of
    # a given message) in the window is a scraper; a page load fires none of them.
    # The composite key is shadowbanned and cooled down; the network is blocked only
    # when NETWORK_OFFENDERS_TO_BLOCK distinct keys on it trip the profiler or the
    # burst limit within NETWORK_OFFENDERS_WINDOW_SECONDS (carrier NAT: one offender
    # must not lock out thousands sharing the address).
    "PROFILER_DISTINCT_ENDPOINTS": 5,
    "PROFILER_WINDOW_MS": 500,
    "PROFILER_SHADOWBAN_SECONDS": 86400,
    "PROFILER_BLOCK_SECONDS": 1800,
    "NETWORK_OFFENDERS_TO_BLOCK": 3,
    "NETWORK_OFFENDERS_WINDOW_SECONDS": 3600,
    # Content filter: violations within the window before a shadowban.
    "FILTER_VIOLATION_LIMIT": 3,
    "FILTER_VIOLATION_WINDOW_SECONDS": 86400,
    "FILTER_SHADOWBAN_SECONDS": 86400,
    # Posts the filter passes but is unsure of (ContentFilter.review) wait for a
    # moderator in the admin's review queue, seen by their author only. Off publishes
    # them at once: for a board that has nobody to review them.
    "HOLD_FOR_REVIEW": True,
    # Content filter thresholds (security.content_filter.FilterConfig). Share of capital
    # letters above which a post is "shouting": real posts are full of short capitals
    # (2BHK, PG, HSR, "NO BROKER"); the clean posts in tests/data peak at 0.33, shouting
    # posts are at 0.9 and above.
    "FILTER_MAX_CAPS_RATIO": 0.7,
    # ...only in texts with at least this many letters: "URGENT 1BHK HSR" is a headline.
    "FILTER_MIN_LETTERS_FOR_CAPS": 20,
    # "!!!!!!!!!" or "heyyyyyyyy" beyond this run; people stretch a word a little
    # ("pleaseee", "!!!"). Digits and layout runs ("₹10000000", "......") never count.
    "FILTER_MAX_REPEATED_CHAR_RUN": 5,
    # One word making up more than this share of the words (no word makes up more than
    # 0.29 of a clean post in tests/data; "cheap cheap cheap cheap flat available" 0.67)...
    "FILTER_MAX_REPEATED_WORD_SHARE": 0.4,
    # ...in texts with at least this many words: "Room room available" is a typo.
    "FILTER_MIN_WORDS_FOR_REPETITION": 5,
    # A run of digits this long is a phone number: Indian mobiles have 10 digits,
    # landlines 10-11 with the STD code; pincodes (6), flat numbers, rents and years
    # are shorter.
    "FILTER_MIN_PHONE_DIGITS": 10,
    # The score at which the evidence of an advance-fee scam across a post is a scam
    # (security/data/scam_phrases.txt lists the evidence and its weights).
    "FILTER_SCAM_SCORE_THRESHOLD": 4,
    # A post with no housing word is off-topic spam with one [offer] word of
    # security/data/topic_words.txt, or this many [promotion] words (a percentage counts
    # as one). Lower catches more spam, and refuses more tenants who name their jobs in a
    # post with no housing word.
    "FILTER_OFF_TOPIC_MIN_PROMOTIONS": 2,
    # Round 9, the review tier (ContentFilter.review; docs/CONTENT_FILTER.md, "Round 9"):
    # posts check() passes are held for a moderator when the spam model
    # (security/data/spam_model.json, written by manage.py filter_train) scores them above
    # these thresholds: one for posts mostly in Latin letters, one for the others (posts
    # in Indic scripts score higher, being rarer in the tuning corpora). filter_train
    # prints the values its leave-one-corpus-out run suggests; the target is a clean-held
    # rate of at most 5% (round 10: 1.5% of the clean posts in either group of scripts).
    # Lower holds more spam and more honest posts.
    "FILTER_REVIEW_MODEL_THRESHOLD": -2.94,
    "FILTER_REVIEW_MODEL_THRESHOLD_NON_LATIN": 0.03,
    # ...asked only of posts with at least this many words: on "Madhapur" or "shell" the
    # model has too little to go on (short spam is what the rules catch: a number, a
    # link, an abusive word).
    "FILTER_REVIEW_MODEL_MIN_WORDS": 8,
    # A post (of FILTER_MIN_WORDS_FOR_REPETITION words or more) in which one word of four
    # letters or more comes three times and makes up this share of the words is held,
    # below what the repetition rule refuses (FILTER_MAX_REPEATED_WORD_SHARE).
    "FILTER_REVIEW_REPEATED_WORD_SHARE": 0.25,
    # Reports: distinct reporter *networks* (IPv4 /24, IPv6 /48) on one fingerprint;
    # reporters that are shadowbanned, blocked or automated are not counted. The
    # shadowban lasts REPORTS_REVIEW_SECONDS and opens a moderation case; a moderator
    # upholds it (permanent) or dismisses it (lifted, posts restored).
    "REPORTS_SHADOWBAN_THRESHOLD": 3,
    "REPORTS_DELETE_THRESHOLD": 5,
    "REPORTS_REVIEW_SECONDS": 72 * 3600,
    # IP reputation: distinct reporter networks of messages posted from a network
    # (IPv4 address, IPv6 /64) within the window raise its risk level. Levels 1-3 lengthen the post cooldown (level 0 is
    # POST_COOLDOWN_SECONDS), level 4 shadow-throttles (posts visible from that IP
    # only), level 5 shadowbans every post from it.
    "IP_RISK_WINDOW_SECONDS": 7 * 86400,
    "IP_RISK_REPORT_THRESHOLDS": (2, 4, 6, 8, 10),
    "IP_RISK_POST_COOLDOWNS_SECONDS": (300, 900, 7200),
    # Automation: a TLS fingerprint header set by a trusted load balancer, and its deny
    # list (comma-separated hashes); user agents are matched against
    # security/data/automation_user_agents.txt.
    "TLS_FINGERPRINT_HEADER": "X-JA3-Hash",
    "TLS_FINGERPRINT_DENYLIST": "",
    # Admin login (django-axes): wrong passwords from one client IP for one username
    # before that pair is locked out, and for how long (each try meanwhile restarts it).
    "ADMIN_LOGIN_FAILURE_LIMIT": 5,
    "ADMIN_LOGIN_COOLOFF_SECONDS": 900,
}
KIRB = with_env_overrides(KIRB_DEFAULTS, "KIRB_")
if len(KIRB["GC_THRESHOLDS"]) != 3:
    raise ImproperlyConfigured("KIRB_GC_THRESHOLDS needs 3 numbers (see gc.set_threshold).")
if len(KIRB["IP_RISK_REPORT_THRESHOLDS"]) != 5 or len(KIRB["IP_RISK_POST_COOLDOWNS_SECONDS"]) != 3:
    raise ImproperlyConfigured(
        "KIRB_IP_RISK_REPORT_THRESHOLDS needs 5 numbers (levels 1-5) and "
        "KIRB_IP_RISK_POST_COOLDOWNS_SECONDS 3 (levels 1-3)."
    )
# Retention has its own, shorter variable name, as operators of the old server used it.
KIRB["MESSAGE_RETENTION_HOURS"] = env_int("MESSAGE_RETENTION_HOURS", 48)

# Also publish every event to its city's channel-layer group, where one member per
# socket listens: the Channels tutorial's design, which `manage.py bench` compares the
# hub with. Kirb's own hubs listen only to the all-cities group.
PUBLISH_CITY_GROUPS = env_bool("KIRB_PUBLISH_CITY_GROUPS", False)

# Request bodies are small JSON documents; anything larger is refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BODY_BYTES", 16 * 1024)

# --- Static files (served by WhiteNoise, since daphne serves none) ---------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "kirb_project.storage.KirbStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security headers (production mode passes `manage.py check --deploy`) -------------

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG and not SECURE_SSL_REDIRECT:
    # TLS is terminated by the load balancer in front of Kirb, which redirects to HTTPS.
    SILENCED_SYSTEM_CHECKS = ["security.W008"]

# --- Locale, auth, logging -----------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Admin login throttling (django-axes): after ADMIN_LOGIN_FAILURE_LIMIT wrong passwords
# from one client IP for one username, that pair is locked out for the cool-off (each
# further try restarts it) and gets a JSON 429. The axes backend comes first, so a
# locked-out attempt never reaches the password hasher (~0.3 s of CPU per try).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_FAILURE_LIMIT = KIRB["ADMIN_LOGIN_FAILURE_LIMIT"]
AXES_COOLOFF_TIME = datetime.timedelta(seconds=KIRB["ADMIN_LOGIN_COOLOFF_SECONDS"])
AXES_RESET_ON_SUCCESS = True
# The client IP Kirb's limits use (X-Forwarded-For believed only from TRUSTED_PROXIES).
AXES_CLIENT_IP_CALLABLE = "security.admin_login.client_ip"
AXES_LOCKOUT_CALLABLE = "security.admin_login.lockout_response"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [" + INSTANCE_ID + "] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "daphne": {"level": "WARNING"},
    },
}
