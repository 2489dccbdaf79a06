"""Without Redis no limit can be enforced: actions answer 503, reads go on, and the
instance recovers by itself when Redis returns (with no data: it keeps nothing on disk)."""

import time

import httpx
import pytest

from devtools.embedded_redis import EmbeddedRedis
from tests.clients import Browser, Socket

pytestmark = pytest.mark.django_db(transaction=True)


def test_writes_503_reads_work_and_the_instance_recovers(start_server):
    redis = EmbeddedRedis()
    try:
        server = start_server(REDIS_URL=redis.url, REDIS_TIMEOUT_SECONDS="0.5", KIRB_HUB_RETRY_SECONDS="0.2")
        person = Browser(server)
        posted = person.post_ok("Posted while Redis was up", phone="9876500001")

        redis.stop()
        for response in (
            Browser(server).post("Posted while Redis is down"),
            Browser(server).get(f"/api/contact/{posted['id']}"),
            Browser(server).http.post("/api/report", json={"message_id": posted["id"], "reported_browser_id": posted["browser_id"]}),
            Browser(server).http.post("/api/track-visitor", json={}),
        ):
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "redis_unavailable"
        assert [m["id"] for m in Browser(server).get("/messages").json()] == [posted["id"]]
        health = httpx.get(server.url + "/health")
        assert health.status_code == 503 and health.json()["redis_connected"] is False
        live = httpx.get(server.url + "/health/live")  # liveness: no restart for an outage
        assert live.status_code == 200 and live.json()["alive"] is True

        redis = EmbeddedRedis(port=redis.port)  # back, and empty: healthy once the hub has healed
        deadline = time.monotonic() + 20
        while httpx.get(server.url + "/health").status_code != 200:
            assert time.monotonic() < deadline, "the instance did not recover within 20 s"
            time.sleep(0.1)
        socket = Socket(server, "/ws")
        after = Browser(server).post_ok("Posted after Redis came back")
        assert socket.recv()["id"] == after["id"]
        socket.close()
    finally:
        redis.stop()
