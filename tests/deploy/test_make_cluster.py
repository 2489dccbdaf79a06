"""`make cluster` (python -m devtools.cluster): up behind nginx, all gone after Ctrl-C."""

import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from devtools.embedded_redis import free_port
from tests.deploy.helpers import BASE_DIR

pytestmark = pytest.mark.django_db(transaction=True)


def refuses(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_make_cluster_serves_through_nginx_and_ctrl_c_stops_everything(nginx, server_env):
    port = free_port()
    runner = subprocess.Popen(
        [sys.executable, "-m", "devtools.cluster", "--port", str(port), "--base-port", "0"],
        cwd=BASE_DIR,
        env={**os.environ, **server_env, "DJANGO_SETTINGS_MODULE": "kirb_project.settings"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert runner.poll() is None, runner.stdout.read()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the cluster did not come up"
            time.sleep(0.2)
        instances = {httpx.get(f"http://127.0.0.1:{port}/health").json()["instance"] for _ in range(9)}
        assert len(instances) == 3  # nginx spreads requests over all three
        runner.send_signal(signal.SIGINT)  # what Ctrl-C sends
        output, _ = runner.communicate(timeout=30)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    assert runner.returncode == 0, output
    ports = [int(p) for p in re.findall(r"instance http://127\.0\.0\.1:(\d+)", output)]
    assert len(ports) == 3, output
    assert all(refuses(p) for p in [port, *ports]), "something still listens after Ctrl-C"
