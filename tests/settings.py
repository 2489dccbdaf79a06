"""Settings of the test process, set up so that the suite touches nothing but its own.

- Redis: the configured one (REDIS_URL), one on 127.0.0.1:6379, or an embedded one
  started here; always DB index KIRB_TEST_REDIS_DB (default 13) and a key prefix unique
  to this run, cleaned up afterwards.
- Database: DATABASE_URL (e.g. PostgreSQL in CI) or SQLite; the test database is a file
  so that the server processes the tests start can share it.

The same environment is handed to those server processes (tests/conftest.py).
"""

import atexit
import os
import secrets
import shutil
import tempfile
from urllib.parse import urlsplit, urlunsplit

from devtools.embedded_redis import ensure_redis


def _with_db_index(url, index):
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{index}"))


_redis_url, _embedded = ensure_redis(os.environ.get("REDIS_URL"))
if _embedded is not None:
    atexit.register(_embedded.stop)

TEST_RUN_DIR = tempfile.mkdtemp(prefix="kirb-tests-")
atexit.register(shutil.rmtree, TEST_RUN_DIR, ignore_errors=True)  # after pytest-django's teardown
TEST_ENV = {
    "REDIS_URL": _with_db_index(_redis_url, os.environ.get("KIRB_TEST_REDIS_DB", "13")),
    "REDIS_PREFIX": f"kirbtest-{secrets.token_hex(4)}",
    "SERVER_SECRET": secrets.token_urlsafe(48),
    "DEBUG": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "STATIC_ROOT": os.path.join(TEST_RUN_DIR, "static"),
    "LOG_LEVEL": "WARNING",
    # The test clients play many people from many networks: each sends its own
    # X-Forwarded-For, believed because the tests connect from loopback.
    "TRUSTED_PROXIES": "127.0.0.1/32",
    # A TLS client fingerprint the "load balancer" (the tests) reports for bots.
    "KIRB_TLS_FINGERPRINT_DENYLIST": "e7d705a3286e19ea42f587b344ee6865,deny-ja4-example",
    # Stats answers are fresh in tests (one test checks the cache on a server of its own).
    "KIRB_STATS_CACHE_SECONDS": "0",
}
os.environ.update(TEST_ENV)

from kirb_project.settings import *  # noqa: E402,F403

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(TEST_RUN_DIR, "kirb-test.sqlite3")}  # noqa: F405

# The test process administers databases (CREATE/DROP DATABASE force a checkpoint on a
# shared server) rather than serving requests: no client-side deadline here. The
# servers it starts keep theirs (core.dbdeadline; tests/ops/test_database_faults.py).
DATABASE_QUERY_DEADLINE_SECONDS = 0
