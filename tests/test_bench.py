"""The benchmark command runs end to end on real servers and counts what it claims."""

import asyncio
import json
import os
import struct
import subprocess
import sys

import pytest

from devtools.bench.clients import BROWSER_USER_AGENT, ClientProcess, RecordingSocket
from devtools.bench.scenarios import close_code
from devtools.instances import BASE_DIR
from tests.settings import TEST_ENV

BENCH_TIMEOUT_SECONDS = 180


def run_bench(tmp_path, *args):
    """``manage.py bench ARGS --json``: (stdout, the JSON results)."""
    report = tmp_path / "bench.json"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kirb_project.settings", "DEBUG": "true", "REDIS_URL": TEST_ENV["REDIS_URL"]}
    result = subprocess.run(
        [sys.executable, "manage.py", "bench", *args, "--json", str(report)],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=BENCH_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, json.loads(report.read_text())["results"]


def lost_row(stdout):
    return next(line.split()[-1] for line in stdout.splitlines() if line.startswith("lost "))


@pytest.mark.parametrize("design", ["kirb", "tutorial", "bare", "baseline"])
def test_bench_delivers_every_frame_and_reports_it(tmp_path, design):
    stdout, (run,) = run_bench(tmp_path, "--clients", "20", "--rate", "4", "--duration", "2", "--design", design)
    assert "delivered / expected" in stdout and "latency p99 ms" in stdout and "RSS per socket KiB" in stdout
    assert run["design"] == design and run["connected"] == 20 and run["posts"] == 8
    assert run["expected"] == 20 * 8
    if design == "baseline":
        # The tutorial design on channels_redis' core layer drops a group message now
        # and then (django/channels#1683; seen once in CI, 150 of 160): what the bench
        # must do there is count the loss, not hide it.
        assert 0 < run["delivered"] <= run["expected"]
        assert lost_row(stdout) == str(run["expected"] - run["delivered"])
    else:
        assert run["delivered"] == run["expected"]
        assert lost_row(stdout) == "0"
    assert run["duplicates"] == 0
    assert run["rss_per_socket_kib"] is not None and len(run["server_cpu_percent"]) == 2


def test_sockets_only_reports_memory_per_socket_and_health_latency(tmp_path):
    stdout, results = run_bench(tmp_path, "--sockets-only", "--clients", "20", "--health-requests", "20")
    assert [run["design"] for run in results] == ["kirb", "tutorial", "bare"]
    assert "/health p99 ms" in stdout and "RSS per socket KiB" in stdout
    for run in results:
        assert run["connected"] == 20 and run["closed_by_server"] == 0 and run["server_count"] == 1
        assert sum(run["health_statuses"].values()) == 20 and run["health_ms"]["p99"] > 0
    kirb, tutorial, bare = results
    assert kirb["health_statuses"] == {"200": 20} and bare["health_statuses"] == {"200": 20}


def test_slow_readers_are_followed_while_the_others_get_everything(tmp_path):
    stdout, (run,) = run_bench(tmp_path, "--slow-readers", "3", "--clients", "4", "--rate", "20", "--duration", "2")
    assert "slow readers open" in stdout
    assert run["slow_readers"] == 3 and sum(run["outcomes"].values()) == 3
    assert run["posts"] == 40 and run["readers_delivered"] == run["readers_expected"] == 4 * 40
    assert run["timeline"] and all(len(sample) == 3 for sample in run["timeline"])
    assert any(name.startswith("kirb_websocket_frames_sent_total") for name in run["server_metrics"])


def test_posts_only_counts_accepted_posts_under_the_default_limits(tmp_path):
    stdout, (run,) = run_bench(tmp_path, "--posts-only", "--duration", "2", "--concurrency", "4")
    assert "accepted / s per instance" in stdout
    # Each post from its own address and fingerprint: none meets a per-network ceiling.
    assert run["accepted"] > 0 and set(run["statuses"]) == {"200"}
    assert run["accepted_per_second"] == pytest.approx(run["accepted"] / run["window_seconds"])
    # Beside it, the stack's ceilings, measured the same way: daphne alone answers more.
    daphne, django = run["ceilings"]
    assert "/health" in daphne["name"] and "/api/cooldown" in django["name"]
    assert set(daphne["statuses"]) == set(django["statuses"]) == {"200"}
    assert daphne["per_second"] > run["accepted_per_second"] and django["server_cpu_ms"] > 0
    assert "as often as daphne alone (GET /health/live)" in stdout


def test_close_code_is_read_from_a_server_byte_stream():
    text = b"\x81\x05hello"
    close = b"\x88\x02" + struct.pack("!H", 4408)
    assert close_code(text + close) == 4408
    assert close_code(text) is None
    assert close_code(b"\x81\x7e" + struct.pack("!H", 200) + b"x" * 200 + close) == 4408


def test_a_client_socket_records_each_frame_once_and_the_close_code_the_server_sent():
    asyncio.run(recording_scenario())


async def recording_scenario():
    from websockets.asyncio.server import serve

    handshake = {}

    async def server_side(connection):
        handshake["user agent"] = connection.request.headers.get("User-Agent")
        await connection.send(json.dumps({"id": "first"}))  # a /ws message object
        envelope = json.dumps({"type": "message", "data": {"id": "second"}, "event_id": 2})
        await connection.send([envelope[:10], envelope[10:30], envelope[30:]])  # in three fragments
        await connection.send(json.dumps({"id": "first"}))  # again
        await connection.send(json.dumps({"type": "notice", "data": {"code": "pong"}}))
        await connection.close(4408, "too far behind")

    async with serve(server_side, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        client = ClientProcess({"sockets": [], "result_path": ""})
        socket = await RecordingSocket.open(client, f"ws://127.0.0.1:{port}/ws?fp=x", "127.0.0.1", timeout=5)
        await asyncio.wait_for(socket.lost, 5)
    assert sorted(client.arrivals) == ["first", "second"] and client.frames == 2
    assert client.duplicates == 1 and client.other_frames == 1
    assert client.closed == {"4408": 1}
    assert handshake["user agent"] == BROWSER_USER_AGENT
