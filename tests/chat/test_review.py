"""Posts the content filter is unsure of wait for a moderator: their author sees them (and
is told), nobody else does, until a moderator approves them (published live on every
instance) or rejects them (deleted)."""

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from chat.models import Message
from security import shadowban
from security.identity import build_identity
from tests.chat.test_admin import run_action
from tests.clients import MESSAGE_FIELDS, Browser, Socket, is_replay_complete, visible_ids

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE = "admin:chat_heldmessage_changelist"


def run_queue_action(client, action, message_ids):
    return run_action(client, action, message_ids, changelist=QUEUE)


def queued_ids(client):
    response = client.get(reverse(QUEUE))
    assert response.status_code == 200
    return [str(message.id) for message in response.context["cl"].result_list]


def held_metric(server):
    text = httpx.get(server.url + "/metrics").text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("kirb_posts_held_total{"))


def test_a_held_post_reaches_only_its_author_until_a_moderator_approves_it(servers, moderator, held_text, content_filter):
    a, b = servers
    author = Browser(a)
    author_events = Socket(b, "/ws/events", fingerprint=author.fingerprint, ip=author.ip, location="Pune")
    other_events = Socket(b, "/ws/events", location="Pune")
    other_krib = Socket(a, "/ws", location="Pune")
    held_before = held_metric(a)

    held = author.post_ok(held_text, location="Pune")
    assert held["held_for_review"] is True and set(held) == MESSAGE_FIELDS | {"phone", "held_for_review"}
    sentinel = Browser(b).post_ok("A public post after the held one", location="Pune")

    first = author_events.recv()["data"]
    assert (first["id"], first["held_for_review"]) == (held["id"], True)
    assert author_events.recv()["data"]["id"] == sentinel["id"]
    assert other_events.recv()["data"]["id"] == sentinel["id"]
    assert other_krib.recv()["id"] == sentinel["id"]
    assert held["id"] in visible_ids(author.on(b), location="Pune")
    assert held["id"] not in visible_ids(Browser(b), location="Pune")
    assert Browser(a).get(f"/api/contact/{held['id']}").status_code == 404
    assert held_metric(a) == held_before + 1
    assert queued_ids(moderator) == [held["id"]]
    assert Message.objects.get(id=held["id"]).review_reason == content_filter.review(held_text)

    assert run_queue_action(moderator, "approve_and_publish", [held["id"]]) == ["1 message approved and published."]
    published = other_events.recv()
    assert published["type"] == "message" and published["data"]["id"] == held["id"]
    assert "held_for_review" not in published["data"] and "phone" not in published["data"]
    assert other_krib.recv()["id"] == held["id"]
    again = author_events.recv()["data"]
    assert again["id"] == held["id"] and "held_for_review" not in again
    assert held["id"] in visible_ids(Browser(b), location="Pune")
    assert queued_ids(moderator) == []

    assert run_action(moderator, "approve_and_publish", [held["id"]]) == [
        "0 messages approved and published. 1 skipped: not held."
    ]
    for socket in (author_events, other_events, other_krib):
        socket.close()


def test_a_rejected_held_post_is_deleted_for_its_author(servers, moderator, held_text):
    a, b = servers
    author = Browser(a)
    author_socket = Socket(b, "/ws/events", fingerprint=author.fingerprint, ip=author.ip, location="Pune")
    held = author.post_ok(held_text, location="Pune")
    assert author_socket.recv()["data"]["id"] == held["id"]

    assert run_queue_action(moderator, "delete_and_remove", [held["id"]]) == [
        "1 message deleted and removed from live feeds."
    ]
    deleted = author_socket.recv()
    assert (deleted["type"], deleted["data"]["id"]) == ("message_deleted", held["id"])
    assert held["id"] not in visible_ids(author.on(a), location="Pune")
    assert queued_ids(moderator) == []
    # No longer in the queue: nothing to approve there.
    assert run_queue_action(moderator, "approve_and_publish", [held["id"]]) == ["0 messages approved and published."]
    assert Message.objects.get(id=held["id"]).visibility == Message.Visibility.HELD
    author_socket.close()


def test_a_shadowbanned_author_is_told_of_a_hold_as_anyone_is(servers, moderator, held_text):
    a, _ = servers
    answers = {}
    for who in ("banned", "ordinary"):
        for kind, text in (("held", held_text), ("plain", "2BHK in Aundh, 22k, family preferred")):
            author = Browser(a)  # one post each: the cooldown
            if who == "banned":
                shadowban.shadowban_key(build_identity(author.ip, author.fingerprint), reason="moderator", seconds=600)
            answers[who, kind] = author.post_ok(text, location="Pune")
    for kind, held_for_review in (("held", True), ("plain", None)):
        banned_answer, ordinary_answer = answers["banned", kind], answers["ordinary", kind]
        assert set(banned_answer) == set(ordinary_answer)
        assert banned_answer.get("held_for_review") == ordinary_answer.get("held_for_review") == held_for_review
    # Only the ordinary author's post waits for a moderator: the banned one's is theirs alone.
    assert queued_ids(moderator) == [answers["ordinary", "held"]["id"]]
    assert Message.objects.get(id=answers["banned", "held"]["id"]).visibility == Message.Visibility.SHADOWBANNED


def test_with_hold_for_review_off_the_post_is_published_at_once(start_server, held_text):
    server = start_server(KIRB_HOLD_FOR_REVIEW="false")
    watcher = Socket(server, "/ws/events", location="Pune")
    posted = Browser(server).post_ok(held_text, location="Pune")
    assert "held_for_review" not in posted
    assert watcher.recv()["data"]["id"] == posted["id"]
    watcher.close()


def test_the_queue_needs_a_moderator(servers, django_user_model):
    assert Client().get(reverse(QUEUE)).status_code == 302  # to the login page
    staff = Client()
    staff.force_login(django_user_model.objects.create_user("staff", "staff@example.com", is_staff=True))
    assert staff.get(reverse(QUEUE)).status_code == 403


def test_replay_sends_a_held_post_to_its_author_only_and_once_approved_once(servers, moderator, held_text):
    a, b = servers
    before = Browser(a).post_ok("2BHK in Wakad, 21k, family preferred, lift and parking", location="Pune")
    author = Browser(b)
    held = author.post_ok(held_text, location="Pune")

    def replayed(**identity):
        socket = Socket(a, "/ws/events", location="Pune", since=before["id"], **identity)
        frames = socket.recv_until(is_replay_complete)[:-1]
        socket.close()
        return [(frame["data"]["id"], frame["data"].get("held_for_review")) for frame in frames]

    assert replayed() == []
    assert replayed(fingerprint=author.fingerprint, ip=author.ip) == [(held["id"], True)]
    assert run_queue_action(moderator, "approve_and_publish", [held["id"]]) == ["1 message approved and published."]
    assert replayed() == [(held["id"], None)]
    assert replayed(fingerprint=author.fingerprint, ip=author.ip) == [(held["id"], None)]
