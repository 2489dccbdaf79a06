"""/metrics: each Kirb metric moves by what a scripted scenario does; access is restricted."""

import datetime

import httpx
import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from chat import services
from chat.models import Message
from tests.clients import Browser, Socket

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "test-metrics-token-0123456789"


def scrape(server, **headers):
    response = httpx.get(server.url + "/metrics", headers=headers)
    assert response.status_code == 200, response.text
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def moved(before, after, name, **labels):
    key = (name, frozenset(labels.items()))
    return after.get(key, 0) - before.get(key, 0)


def moved_in_all_labels(before, after, name):
    return sum(value for (n, _), value in after.items() if n == name) - sum(
        value for (n, _), value in before.items() if n == name
    )


def review_queue(samples):
    """``(posts, oldest age in seconds)`` of the review queue, as scraped."""
    return samples[("kirb_review_queue_posts", frozenset())], samples[("kirb_review_queue_oldest_age_seconds", frozenset())]


def test_the_review_queue_is_read_from_the_database_at_each_scrape(start_server, held_text):
    server = start_server()
    assert review_queue(scrape(server)) == (0, 0)
    held = Browser(server).post_ok(held_text)
    assert held["held_for_review"]
    # Two hours old: the age is the database's, not this process's (which never saw it).
    Message.objects.filter(id=held["id"]).update(created_at=timezone.now() - datetime.timedelta(hours=2))
    posts, age = review_queue(scrape(server))
    assert posts == 1 and 7200 <= age < 7200 + 60
    services.approve_message(Message.objects.get(id=held["id"]))
    assert review_queue(scrape(server)) == (0, 0)


def test_each_kirb_metric_moves_by_the_scenario(start_server):
    server = start_server()
    before = scrape(server)

    sockets = [Socket(server, "/ws", location="Pune"), Socket(server, "/ws/events", location="Pune")]
    middle = scrape(server)
    assert moved(before, middle, "active_websocket_connections") == 2

    poster = Browser(server)
    posted = poster.post_ok("Room for the metrics", phone="9876543219")
    for socket in sockets:
        socket.recv()
    assert poster.post("Too soon").status_code == 429
    reader = Browser(server)
    assert reader.get(f"/api/contact/{posted['id']}").status_code == 200
    assert Browser(server).post("Honeypot", website="x").status_code == 403
    assert Browser(server).post("see bit.ly/abc for rooms").status_code == 403
    bot = Browser(server, headers={"User-Agent": "python-requests/2.32"})
    assert bot.get(f"/api/contact/{posted['id']}").status_code == 429
    for socket in sockets:
        socket.close()
    after = scrape(server)

    assert moved(before, after, "messages_per_second_total") == 1
    assert moved(before, after, "contact_reveals_total") == 1
    assert moved(before, after, "kirb_websocket_frames_sent_total", stream="ws") == 1
    assert moved(before, after, "kirb_websocket_frames_sent_total", stream="events") == 1
    assert moved(before, after, "kirb_broadcast_latency_seconds_count") == 2
    assert moved(before, after, "kirb_rate_limit_rejections_total", type="post") == 1
    assert moved(before, after, "kirb_rate_limit_rejections_total", type="reveal") == 1
    assert moved(before, after, "kirb_security_rejections_total", rule="honeypot") == 1
    assert moved(before, after, "kirb_security_rejections_total", rule="content_filter") == 1
    assert moved(before, after, "kirb_content_filter_violations_total", rule="link") == 1
    assert moved(before, after, "kirb_bot_detections_total", rule="honeypot") == 1
    assert moved(before, after, "kirb_bot_detections_total", rule="automation_user_agent") == 1
    assert moved(before, after, "kirb_shadowbans_total", reason="honeypot") == 1
    assert moved(before, after, "django_http_requests_total_by_method_total", method="POST") >= 4
    assert moved_in_all_labels(before, after, "django_db_execute_total") > 0  # queries are counted


def test_metrics_refused_to_public_addresses_unless_they_bring_the_token(start_server):
    server = start_server(METRICS_TOKEN=TOKEN)
    public = {"X-Forwarded-For": "203.0.113.77"}  # through the trusted loopback proxy
    refused = httpx.get(server.url + "/metrics", headers=public)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    wrong = httpx.get(server.url + "/metrics", headers={**public, "Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    assert scrape(server, **public, Authorization=f"Bearer {TOKEN}")
    assert scrape(server)  # loopback is a monitoring network by default
