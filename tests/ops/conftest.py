"""Fixtures for fault tests: a PostgreSQL of the tests' own, to freeze, stop and start.

Never the machine's PostgreSQL (shared with others): ``initdb`` into a temporary
directory, on a free loopback port, its unix socket in that directory, trust
authentication. As root (CI containers), the server runs as ``nobody`` (PostgreSQL
refuses to run as root). Skipped, with the reason, where no binaries are installed.
"""

import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import psycopg
import pytest

from devtools.embedded_redis import free_port
from tests.settings import TEST_ENV

BASE_DIR = Path(__file__).resolve().parents[2]
PG_START_TIMEOUT_SECONDS = 30
UNPRIVILEGED_USER = "nobody"


def postgres_bindir():
    """The newest installed PostgreSQL's bin directory, or None."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(Path(path).parent.name), reverse=True
    )
    candidates += [str(Path(found).parent) for found in filter(None, [shutil.which("pg_ctl")])]
    for bindir in candidates:
        if all(os.access(os.path.join(bindir, tool), os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


# A backend that exited just then stays a zombie until its frozen postmaster reaps it.
_STILL = {psutil.STATUS_STOPPED, psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD, "gone"}


def _status(process):
    try:
        return process.status()
    except psutil.NoSuchProcess:
        return "gone"


class PrivatePostgres:
    """A throw-away PostgreSQL cluster: ``url``, ``freeze``/``thaw`` (SIGSTOP/SIGCONT of
    the postmaster and all its children), ``stop`` (pg_ctl stop -m fast) and ``start``."""

    def __init__(self, bindir):
        self.bindir = bindir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="kirb-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/kirb"
        self.frozen = []
        self.running = False
        self.as_user = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(UNPRIVILEGED_USER)
            except KeyError:
                pytest.skip(f"running as root and there is no {UNPRIVILEGED_USER!r} user to run PostgreSQL as")
            runuser = shutil.which("runuser")
            if runuser is None:
                pytest.skip("running as root and runuser is missing: cannot run PostgreSQL unprivileged")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.as_user = [runuser, "-u", UNPRIVILEGED_USER, "--"]

    def _run(self, tool, *args, timeout=PG_START_TIMEOUT_SECONDS):
        command = [*self.as_user, os.path.join(self.bindir, tool), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr.strip()}\n{self._log_tail()}")
        return result

    def _log_tail(self):
        try:
            return "\n".join(self.log.read_text().splitlines()[-20:])
        except OSError:
            return ""

    def init(self):
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self.start()
        with psycopg.connect(self.admin_url(), autocommit=True) as connection:
            connection.execute("CREATE DATABASE kirb")
        return self

    def admin_url(self, database="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self):
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(PG_START_TIMEOUT_SECONDS), "-o", options, "start")
        self.running = True

    def stop(self, mode="fast"):
        self.thaw()
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        self.running = False

    def processes(self):
        """The postmaster first, then every process it started."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        postmaster = psutil.Process(pid)
        return [postmaster, *postmaster.children(recursive=True)]

    def freeze(self):
        """SIGSTOP everything (the postmaster first: it forks no backend meanwhile);
        returns the monotonic time by which every process was seen stopped."""
        assert not self.frozen, "already frozen"
        self.frozen = self.processes()
        for process in self.frozen:
            process.send_signal(signal.SIGSTOP)
        deadline = time.monotonic() + 5
        while running := [p for p in self.frozen if _status(p) not in _STILL]:
            assert time.monotonic() < deadline, f"PostgreSQL did not stop on SIGSTOP: {[(p.pid, _status(p)) for p in running]}"
            time.sleep(0.005)
        return time.monotonic()

    def thaw(self):
        """SIGCONT what ``freeze`` stopped; returns the monotonic time it was sent."""
        thawed_at = time.monotonic()
        for process in reversed(self.frozen):
            try:
                process.send_signal(signal.SIGCONT)
            except psutil.NoSuchProcess:
                pass
        self.frozen = []
        return thawed_at

    def migrate(self):
        env = {**os.environ, **TEST_ENV, "DATABASE_URL": self.url, "DJANGO_SETTINGS_MODULE": "kirb_project.settings"}
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=BASE_DIR, env=env, check=True, timeout=120
        )

    def server_env(self):
        """Environment for ``start_server``: this database, and a Redis prefix of its own
        (under the run's, so it is cleaned up) so that its event ids never meet the
        channel-layer events of servers on the test database."""
        return {"DATABASE_URL": self.url, "REDIS_PREFIX": f"{TEST_ENV['REDIS_PREFIX']}-pg{secrets.token_hex(2)}"}

    def close(self):
        self.thaw()
        if self.running:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def private_postgres_cluster():
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl, postgres) in /usr/lib/postgresql/*/bin or on PATH")
    cluster = PrivatePostgres(bindir)
    try:
        cluster.init()
        cluster.migrate()
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def private_postgres(private_postgres_cluster):
    """The private cluster, running and thawed again after the test whatever it did."""
    yield private_postgres_cluster
    private_postgres_cluster.thaw()
    if not private_postgres_cluster.running:
        private_postgres_cluster.start()
