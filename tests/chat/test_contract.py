"""The wire contract of ARCHITECTURE.md, row by row, against a real server process."""

import time

import httpx
import pytest

from chat.models import Message
from security.models import Report
from tests.clients import MESSAGE_FIELDS, Browser

pytestmark = pytest.mark.django_db(transaction=True)



@pytest.fixture
def server(servers):
    return servers[0]


def test_index_page(server):
    response = httpx.get(server.url + "/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Kirb" in response.text


def test_post_returns_the_message_with_the_posters_own_phone(server):
    poster = Browser(server)
    before = int(time.time())
    posted = poster.post_ok("2BHK in Baner, 22k, no brokerage", phone="+91 98765-43210", location=" pune ")
    assert set(posted) == MESSAGE_FIELDS | {"phone"}
    assert posted["phone"] == "+919876543210"
    # Without a body browser_id the public id is derived, opaque: never the fingerprint.
    assert posted["browser_id"] and poster.fingerprint not in posted["browser_id"]
    assert posted["location"] == "pune"
    assert posted["message_type"] == "offered"
    assert before <= posted["timestamp"] <= time.time() + 1
    stored = Message.objects.get(id=posted["id"])
    assert stored.phone == "+919876543210" and stored.poster_ip == poster.ip


def test_history_is_oldest_first_without_phones_and_pages_backwards(server):
    poster_ids = [Browser(server).post_ok(f"Room {i} in Pune", phone="9876543210")["id"] for i in range(5)]
    Browser(server).post_ok("Room in Delhi", location="Delhi")
    reader = Browser(server)

    pune = reader.get("/messages", location="pune").json()
    assert [m["id"] for m in pune] == poster_ids
    assert all(set(m) == MESSAGE_FIELDS and m["has_phone"] is True for m in pune)

    newest_two = reader.get("/messages", location="Pune", limit=2).json()
    assert [m["id"] for m in newest_two] == poster_ids[3:]
    older = reader.get("/messages", location="Pune", limit=2, before=newest_two[0]["id"]).json()
    assert [m["id"] for m in older] == poster_ids[1:3]
    by_time = reader.get("/messages", location="Pune", before=str(time.time() + 60)).json()
    assert [m["id"] for m in by_time] == poster_ids

    everything = reader.get("/messages").json()
    assert len(everything) == 6


def test_reveal_gives_the_phone_and_404s_otherwise(server):
    with_phone = Browser(server).post_ok("Room with phone", phone="9876543210")
    without_phone = Browser(server).post_ok("Room without phone")
    reader = Browser(server)
    assert reader.get(f"/api/contact/{with_phone['id']}").json() == {"phone": "9876543210", "reveals_remaining": 4}
    for missing in (without_phone["id"], "6f1c3f9e-0000-4000-8000-000000000000", "not-a-uuid"):
        response = reader.get(f"/api/contact/{missing}")
        assert response.status_code == 404
        assert set(response.json()) == {"error", "message"}


def test_cooldown_shape(server):
    assert Browser(server).get("/api/cooldown").json() == {"can_post": True, "remaining_seconds": 0}


def test_report_is_stored_once_per_reporter_and_refused_for_own_or_mismatch(server):
    poster = Browser(server)
    posted = poster.post_ok("Room to report")
    reporter = Browser(server)
    body = {"message_id": posted["id"], "reported_browser_id": posted["browser_id"]}

    first = reporter.http.post("/api/report", json=body)
    assert first.status_code == 200
    assert set(first.json()) == {"success", "message", "reports_on_ip"}
    assert first.json()["success"] is True and first.json()["reports_on_ip"] == 1
    assert reporter.http.post("/api/report", json=body).json()["reports_on_ip"] == 1
    assert Report.objects.filter(message_uuid=posted["id"]).count() == 1

    own = poster.http.post("/api/report", json=body)
    assert own.status_code == 400 and own.json()["error"] == "own_message"
    mismatch = reporter.http.post("/api/report", json={**body, "reported_browser_id": "someone-else"})
    assert mismatch.status_code == 400 and mismatch.json()["error"] == "fingerprint_mismatch"
    unknown = reporter.http.post(
        "/api/report", json={**body, "message_id": "6f1c3f9e-0000-4000-8000-000000000000"}
    )
    assert unknown.status_code == 404
    assert Report.objects.count() == 1


def test_visitors_and_stats(server):
    before = Browser(server).get("/api/stats/daily").json()
    assert set(before) == {"unique_visitors", "message_count"}
    visitors = [Browser(server) for _ in range(3)]
    for visitor, city in zip(visitors, ["Pune", "Pune", "Mumbai"]):
        response = visitor.http.post("/api/track-visitor", json={"location": city})
        assert response.json() == {"success": True, "message": "Visit recorded."}
    visitors[0].http.post("/api/track-visitor", json={"location": "Pune"})  # same visitor again
    visitors[0].post_ok("Room today")

    daily = Browser(server).get("/api/stats/daily").json()
    assert daily["unique_visitors"] == before["unique_visitors"] + 3
    assert daily["message_count"] == before["message_count"] + 1

    cities = Browser(server).get("/api/stats/cities", current_city="Nagpur").json()
    views = {row["city"]: row["views"] for row in cities}
    assert [row["city"] for row in cities[:2]] == ["Pune", "Mumbai"]
    assert views["Pune"] == 2 and views["Mumbai"] == 1 and views["Nagpur"] == 0
    assert {"Bengaluru", "Delhi", "Gurgaon"} <= set(views)  # the major cities, even at 0
    assert set(cities[0]) == {"city", "views", "daily_average"}


def test_health_reports_dependencies_and_this_instance(server):
    response = httpx.get(server.url + "/health")
    assert response.status_code == 200
    body = response.json()
    assert body["healthy"] is True and body["redis_connected"] is True and body["database_connected"] is True
    assert body["instance"] == f"kirb-{server.port}"
    assert body["draining"] is False
    assert isinstance(body["active_connections"], int)


def test_health_is_503_with_the_same_shape_when_redis_is_down(start_server):
    from devtools.embedded_redis import free_port

    server = start_server(require_healthy=False, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", REDIS_TIMEOUT_SECONDS="0.5")
    response = httpx.get(server.url + "/health", timeout=10)
    assert response.status_code == 503
    body = response.json()
    assert body["healthy"] is False and body["redis_connected"] is False and body["database_connected"] is True


def test_metrics_expose_kirb_counters(server):
    Browser(server).post_ok("Counted post")
    text = httpx.get(server.url + "/metrics").text
    for name in ("active_websocket_connections", "messages_per_second_total", "contact_reveals_total"):
        assert name in text
