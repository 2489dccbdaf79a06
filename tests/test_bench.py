"""The benchmark command runs end to end on real servers and counts what it claims."""

import json
import os
import subprocess
import sys

import pytest

from kirb_project.instances import BASE_DIR
from tests.settings import TEST_ENV


@pytest.mark.parametrize("design", ["kirb", "baseline"])
def test_bench_delivers_every_frame_and_reports_it(tmp_path, design):
    report = tmp_path / "bench.json"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kirb_project.settings", "DEBUG": "true", "REDIS_URL": TEST_ENV["REDIS_URL"]}
    result = subprocess.run(
        [sys.executable, "manage.py", "bench", "--clients", "20", "--rate", "4", "--duration", "2",
         "--design", design, "--json", str(report)],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "delivered / expected" in result.stdout and "latency p99 ms" in result.stdout
    (run,) = json.loads(report.read_text())["results"]
    assert run["design"] == design and run["connected"] == 20 and run["posts"] == 8
    assert run["delivered"] == run["expected"] == 20 * 8
    assert run["duplicates"] == 0
