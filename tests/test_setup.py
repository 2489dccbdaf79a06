"""Configuration and the two-command setup: production refusals, check --deploy, Redis."""

import os
import subprocess
import sys
from pathlib import Path

import redis

from devtools.embedded_redis import EmbeddedRedis, redis_answers

BASE_DIR = Path(__file__).resolve().parent.parent


def run_manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"SERVER_SECRET", "DEBUG", "DJANGO_SETTINGS_MODULE"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "kirb_project.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_mode_refuses_to_start_without_a_real_secret():
    missing = run_manage("check", DEBUG="false")
    assert missing.returncode != 0
    assert "SERVER_SECRET is not set" in missing.stderr
    short = run_manage("check", DEBUG="false", SERVER_SECRET="short")
    assert short.returncode != 0 and "too short" in short.stderr


def test_production_mode_passes_check_deploy():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="false", SERVER_SECRET="x" * 48)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_invalid_settings_are_named():
    result = run_manage("check", DEBUG="maybe")
    assert result.returncode != 0 and "DEBUG='maybe' is not a boolean" in result.stderr
    result = run_manage("check", DEBUG="true", TRUSTED_PROXIES="10.0.0.0/8,nonsense")
    assert result.returncode != 0 and "'nonsense' is not an IP address" in result.stderr


def test_embedded_redis_is_a_real_server_that_stops():
    embedded = EmbeddedRedis()
    try:
        client = redis.Redis.from_url(embedded.url)
        client.set("kirb-embedded-check", "1")
        assert client.get("kirb-embedded-check") == b"1"
        client.close()
    finally:
        embedded.stop()
    assert not redis_answers(embedded.url)


def test_every_tunable_is_documented():
    from kirb_project.settings import KIRB_DEFAULTS

    readme = (BASE_DIR / "README.md").read_text()
    example = (BASE_DIR / ".env.example").read_text()
    for name in KIRB_DEFAULTS:
        assert f"`{name}`" in readme, f"{name} is missing from the README's tunables"
        assert f"KIRB_{name}=" in example, f"KIRB_{name} is missing from .env.example"
