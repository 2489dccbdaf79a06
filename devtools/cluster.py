"""`make cluster`: three Kirb instances behind Debian's nginx, on loopback, without Docker.

Usage: ``python -m devtools.cluster [--port 8080] [--instances 3] [--base-port 8001]``

Starts (or finds) Redis, migrates the database, collects static files, starts the
instances on 127.0.0.1 with ``TRUSTED_PROXIES=127.0.0.1/32`` (nginx's address, and
nobody else's), then nginx in front of them on 127.0.0.1:8080 with the same
configuration docker-compose.yml uses (deploy/nginx/kirb.conf). Ctrl-C or SIGTERM
drains the instances (their WebSocket clients get close code 1012 through nginx),
then stops nginx and the embedded Redis, if one was started.

The tests use the same code: ``Cluster(env, port=free_port()).start()``, then
``.url``, ``.ws_url``, ``.instances`` and ``.stop()``.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from devtools.embedded_redis import configured_redis_url, ensure_redis, free_port
from devtools.instances import BASE_DIR, READY_TIMEOUT_SECONDS, ServerProcess

NGINX_CONF = BASE_DIR / "deploy" / "nginx" / "kirb.conf"
DEFAULT_PORT = 8080
DEFAULT_INSTANCES = 3
# nginx's address as the instances see it: the only proxy they trust.
NGINX_PEER = "127.0.0.1/32"
NGINX_STOP_TIMEOUT_SECONDS = 5
# An upstream that failed (refused, timed out, answered 503) is skipped this long.
FAIL_TIMEOUT_SECONDS = 5

_MAIN_CONF = """\
# Written by devtools/cluster.py for `make cluster`; the Kirb part is {kirb_conf}.
daemon off;
master_process on;
worker_processes {workers};
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    log_format kirb '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                    'upstream=$upstream_addr $upstream_status $request_time';
    access_log {workdir}/access.log kirb;
    client_body_temp_path {temp_dir}/client_body;
    proxy_temp_path {temp_dir}/proxy;
    fastcgi_temp_path {temp_dir}/fastcgi;
    uwsgi_temp_path {temp_dir}/uwsgi;
    scgi_temp_path {temp_dir}/scgi;
{extra_includes}
    include {kirb_conf};
}}
"""


def nginx_binary():
    """Debian's nginx (in /usr/sbin, which a non-root PATH may lack), or None."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def render_nginx_config(workdir, upstreams, listen, workers=1, extra_includes=(), kirb_conf=NGINX_CONF,
                        temp_dir=None):
    """Write ``nginx.conf`` and ``kirb.d/`` into ``workdir``; returns the nginx.conf path.

    ``upstreams``: ``host:port`` of each instance; ``listen``: ``host:port`` for nginx.
    ``temp_dir``: nginx's buffers on disk (default ``workdir/temp``). Run as root,
    nginx's workers are ``nobody``: it must be reachable by them (see ``nginx_temp_dir``).
    """
    workdir = Path(workdir)
    temp_dir = Path(temp_dir or workdir / "temp")
    temp_dir.mkdir(parents=True, exist_ok=True)
    (workdir / "kirb.d").mkdir(parents=True, exist_ok=True)
    (workdir / "kirb.d" / "upstream.conf").write_text(
        "".join(f"server {address} max_fails=1 fail_timeout={FAIL_TIMEOUT_SECONDS}s;\n" for address in upstreams)
    )
    (workdir / "kirb.d" / "listen.conf").write_text(f"listen {listen};\n")
    conf = workdir / "nginx.conf"
    conf.write_text(
        _MAIN_CONF.format(
            workdir=workdir,
            temp_dir=temp_dir,
            workers=workers,
            kirb_conf=Path(kirb_conf).resolve(),
            extra_includes="".join(f"    include {Path(path).resolve()};\n" for path in extra_includes),
        )
    )
    return conf


def nginx_temp_dir():
    """A directory for nginx's temp files that its workers can reach: as root, nginx
    runs them as ``nobody`` (and chowns the subdirectories it creates to it)."""
    path = Path(tempfile.mkdtemp(prefix="kirb-nginx-"))
    path.chmod(0o755)
    return path


def nginx_command(conf, *args):
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (Debian: apt-get install nginx).")
    conf = Path(conf)
    return [binary, "-p", f"{conf.parent}/", "-c", str(conf), "-e", str(conf.parent / "error.log"), *args]


def check_nginx_config(conf):
    """``nginx -t`` on ``conf``: ``(ok, output)``."""
    result = subprocess.run(nginx_command(conf, "-t"), capture_output=True, text=True, timeout=30)
    return result.returncode == 0, result.stdout + result.stderr


class Instance(ServerProcess):
    """A cluster member: ``manage.py serve`` in a session of its own, so that a Ctrl-C
    reaches the runner only, which then drains the instances before stopping nginx."""

    start_new_session = True


class Cluster:
    """``instances`` Kirb processes on loopback behind one nginx on ``host:port``."""

    def __init__(self, env=None, *, instances=DEFAULT_INSTANCES, port=DEFAULT_PORT, host="127.0.0.1",
                 instance_ports=None, workdir=None, nginx_workers=1):
        self.env = {**(env or {}), "HOST": "127.0.0.1", "TRUSTED_PROXIES": NGINX_PEER}
        self.host = host
        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}"
        self.ws_url = f"ws://{host}:{self.port}"
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="kirb-cluster-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.temp_dir = None
        self.nginx_workers = nginx_workers
        ports = list(instance_ports or [free_port() for _ in range(instances)])
        if len(set(ports)) != len(ports):
            raise ValueError("Instance ports must differ.")
        self.instances = [
            Instance(self.env, port=port, log_path=self.workdir / f"kirb-{port}.log") for port in ports
        ]
        self.nginx = None
        self.conf = None

    # --- lifecycle ------------------------------------------------------------------

    def start(self):
        try:
            for instance in self.instances:  # in parallel: each takes a second or two
                instance.launch()
            for instance in self.instances:
                instance.wait_ready()
            self.start_nginx()
        except BaseException:
            self.stop()
            raise
        return self

    def start_nginx(self):
        self.temp_dir = nginx_temp_dir()
        self.conf = render_nginx_config(
            self.workdir,
            [f"127.0.0.1:{instance.port}" for instance in self.instances],
            f"{self.host}:{self.port}",
            workers=self.nginx_workers,
            temp_dir=self.temp_dir,
        )
        ok, output = check_nginx_config(self.conf)
        if not ok:
            raise RuntimeError(f"nginx -t failed for {self.conf}:\n{output}")
        self.nginx = subprocess.Popen(
            nginx_command(self.conf),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            if self.nginx.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.nginx.returncode}; see {self.workdir / 'error.log'}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not answer on {self.url} within {READY_TIMEOUT_SECONDS} s")
            time.sleep(0.05)

    def stop(self):
        """Drain every instance (SIGTERM, all at once), then stop nginx."""
        running = [i for i in self.instances if i.process is not None and i.process.poll() is None]
        for instance in running:
            instance.signal(signal.SIGTERM)
        codes = {instance.port: instance.stop() for instance in running}
        self.stop_nginx()
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
        return codes

    def stop_nginx(self):
        if self.nginx is None or self.nginx.poll() is not None:
            return
        self.nginx.send_signal(signal.SIGQUIT)  # graceful: finish the requests in flight
        try:
            self.nginx.wait(timeout=NGINX_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.nginx.terminate()
            try:
                self.nginx.wait(timeout=NGINX_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()

    def cleanup(self):
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --- `make cluster` ----------------------------------------------------------------------


def _manage(env, *args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env={**os.environ, **env}, check=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m devtools.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="nginx's port on 127.0.0.1 (default 8080)")
    parser.add_argument("--instances", type=int, default=DEFAULT_INSTANCES, help="Kirb instances (default 3)")
    parser.add_argument(
        "--base-port", type=int, default=8001,
        help="first instance port; the others follow (default 8001; 0 picks free ports)",
    )
    args = parser.parse_args(argv)
    if nginx_binary() is None:
        print("nginx is not installed: apt-get install nginx (Debian/Ubuntu).", file=sys.stderr)
        return 2

    redis_url, embedded = ensure_redis(configured_redis_url(BASE_DIR))
    env = {"REDIS_URL": redis_url}
    stop_requested = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop_requested.set())
    signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())
    cluster = None
    code = 1
    try:
        _manage(env, "migrate", "--noinput")
        _manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        ports = None if args.base_port == 0 else [args.base_port + n for n in range(args.instances)]
        cluster = Cluster(env, instances=args.instances, port=args.port, instance_ports=ports).start()
        for instance in cluster.instances:
            print(f"  instance {instance.url}  (log {instance.log_path})")
        print(f"Kirb cluster on {cluster.url} (nginx config {cluster.conf}); Ctrl-C stops it.", flush=True)
        while not stop_requested.wait(0.5):
            if cluster.nginx.poll() is not None:
                print(f"nginx exited with {cluster.nginx.returncode}; stopping.", file=sys.stderr)
                return 1
            for instance in cluster.instances:
                if instance.process.poll() is not None:
                    print(f"Instance {instance.url} exited with {instance.process.returncode}; stopping.",
                          file=sys.stderr)
                    return 1
        print("Draining the instances, then stopping nginx...", flush=True)
        code = 0
        return code
    except subprocess.CalledProcessError as error:
        print(f"{' '.join(error.cmd[1:])} failed with {error.returncode}.", file=sys.stderr)
        return 1
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        if cluster is not None:
            cluster.stop()
            if code == 0:
                cluster.cleanup()
                print("Stopped.")
            else:
                print(f"Stopped; logs kept in {cluster.workdir}.", file=sys.stderr)
        if embedded is not None:
            embedded.stop()
            print("Stopped the embedded Redis.", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
