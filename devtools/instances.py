"""Start and stop Kirb server processes on loopback: for tests, benchmarks and clusters."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from devtools.embedded_redis import free_port

BASE_DIR = Path(__file__).resolve().parent.parent
READY_TIMEOUT_SECONDS = 30


class ServerProcess:
    """``manage.py serve`` on 127.0.0.1:<port> with ``env`` added to ours."""

    def __init__(self, env, port=None, log_path=None, server_args=(), require_healthy=True):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "kirb_project.settings",  # not the caller's (e.g. tests.settings)
            "INSTANCE_ID": f"kirb-{self.port}",
            **env,
            "PORT": str(self.port),
        }
        self.log_path = log_path
        self.server_args = list(server_args)
        self.require_healthy = require_healthy
        self.process = None

    # In a session of its own, a process does not get the Ctrl-C meant for its parent.
    start_new_session = False

    def command(self):
        return [sys.executable, "manage.py", "serve", "--port", str(self.port), *self.server_args]

    def launch(self):
        """Start the process without waiting for it (start several, then wait for each)."""
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            self.command(),
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=self.start_new_session,
        )
        if log is not subprocess.DEVNULL:
            log.close()
        return self

    def start(self):
        self.launch()
        self.wait_ready()
        return self

    def wait_ready(self):
        """Until /health answers 200 (or answers at all, without ``require_healthy``)."""
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Server on port {self.port} exited with {self.process.returncode}; see {self.log_path}")
            try:
                status = httpx.get(f"{self.url}/health", timeout=1).status_code
                if status == 200 or not self.require_healthy:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Server on port {self.port} was not healthy within {READY_TIMEOUT_SECONDS} s")

    @property
    def pid(self):
        return self.process.pid

    def signal(self, signum):
        self.process.send_signal(signum)

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL if it does not exit in time; returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
