"""What a bench or soak run stands on, set up and torn down in one place.

Both commands start fresh ``manage.py serve`` processes on a SQLite file, a static root
and a Redis key prefix of their own; whatever happens, the keys are deleted, an
embedded Redis is stopped and the temp dir removed (or kept and named, when the run
failed or ``--keep-logs`` asks for it).
"""

import logging
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from devtools.embedded_redis import ensure_redis
from devtools.instances import BASE_DIR

logger = logging.getLogger(__name__)

SERVER_LOG_LEVEL = "WARNING"
MIGRATE_TIMEOUT_SECONDS = 120


def raise_open_file_limit():
    """Each socket is a file descriptor: lift the soft limit to the hard one (inherited by children)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def with_db_index(url, index):
    return urlunsplit(urlsplit(url)._replace(path=f"/{index}"))


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


class Workspace:
    """``with Workspace("bench", ...) as workspace``: a temp dir, a Redis DB and a key prefix.

    ``name`` names the temp dir (``kirb-<name>-...``) and the SQLite file in it;
    ``prefix`` is what every key the run's servers write starts with.
    """

    def __init__(self, name, *, redis_url, redis_db, prefix, keep_logs=False, echo=print):
        self.name = name
        self.requested_redis_url = redis_url
        self.redis_db = redis_db
        self.prefix = prefix
        self.keep_logs = keep_logs
        self.echo = echo
        self.work_dir = None
        self.redis_url = None
        self.database_url = None
        self.embedded = None

    def __enter__(self):
        raise_open_file_limit()
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
        self.work_dir = Path(tempfile.mkdtemp(prefix=f"kirb-{self.name}-"))
        (self.work_dir / "static").mkdir()  # STATIC_ROOT: WhiteNoise warns when it is missing
        self.database_url = f"sqlite:///{self.work_dir / f'{self.name}.sqlite3'}"
        try:
            base_url, self.embedded = ensure_redis(self.requested_redis_url or None)
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        self.redis_url = with_db_index(base_url, self.redis_db)
        return self

    def server_env(self, prefix=None):
        """The environment every server of the run gets (``prefix``: a sub-prefix of the run's)."""
        return {
            "SERVER_SECRET": secrets.token_urlsafe(48),
            "DEBUG": "false",
            "REDIS_URL": self.redis_url,
            "REDIS_PREFIX": prefix or self.prefix,
            "DATABASE_URL": self.database_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": SERVER_LOG_LEVEL,
            "STATIC_ROOT": str(self.work_dir / "static"),
        }

    def migrate(self, env=None):
        migrate(env or self.server_env(), self.work_dir / "migrate.log")

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is not None and issubclass(exc_type, Exception):
            self.keep_logs = True  # the server logs say what went wrong (not kept on Ctrl-C)
        try:
            if self.redis_url:
                delete_redis_keys(self.redis_url, self.prefix)
        except Exception:
            logger.exception("Could not delete the %s's Redis keys (prefix %s)", self.name, self.prefix)
        if self.embedded is not None:
            self.embedded.stop()
        if self.keep_logs:
            self.echo(f"Logs: {self.work_dir}")
        else:
            shutil.rmtree(self.work_dir, ignore_errors=True)
        return False
