"""A shadowbanned author sees everything as normal; nobody else sees their posts, anywhere."""

import pytest

from security import shadowban
from tests.clients import MESSAGE_FIELDS, Browser, Socket, is_replay_complete

pytestmark = pytest.mark.django_db(transaction=True)


def test_shadowbanned_posts_reach_only_their_author(servers):
    a, b = servers
    author = Browser(a)
    shadowban.shadowban_key(author_identity(author), reason="moderator", seconds=600)
    before = Browser(a).post_ok("A public post before", location="Pune")

    author_ws = Socket(a, "/ws", fingerprint=author.fingerprint, ip=author.ip, location="Pune")
    author_events = Socket(b, "/ws/events", fingerprint=author.fingerprint, ip=author.ip, location="Pune")
    other_ws = Socket(b, "/ws", location="Pune")
    other_events = Socket(b, "/ws/events", location="Pune")
    other_all = Socket(a, "/ws")

    hidden = author.post_ok("Shadowbanned room post", location="Pune")
    assert set(hidden) == MESSAGE_FIELDS | {"phone"}
    sentinel = Browser(b).post_ok("A public post after", location="Pune")

    assert [author_ws.recv()["id"], author_ws.recv()["id"]] == [hidden["id"], sentinel["id"]]
    assert [author_events.recv()["data"]["id"], author_events.recv()["data"]["id"]] == [hidden["id"], sentinel["id"]]
    assert other_ws.recv()["id"] == sentinel["id"]
    assert other_events.recv()["data"]["id"] == sentinel["id"]
    assert other_all.recv()["id"] == sentinel["id"]

    assert hidden["id"] in [m["id"] for m in author.on(b).get("/messages").json()]
    assert hidden["id"] not in [m["id"] for m in Browser(b).get("/messages").json()]
    assert Browser(b).get(f"/api/contact/{hidden['id']}").status_code == 404

    replay_other = Socket(b, "/ws/events", location="Pune", since=before["id"])
    frames = replay_other.recv_until(is_replay_complete)
    assert [f["data"]["id"] for f in frames[:-1]] == [sentinel["id"]]
    replay_author = Socket(a, "/ws/events", fingerprint=author.fingerprint, ip=author.ip, location="Pune", since=before["id"])
    frames = replay_author.recv_until(is_replay_complete)
    assert [f["data"]["id"] for f in frames[:-1]] == [hidden["id"], sentinel["id"]]
    for socket in (author_ws, author_events, other_ws, other_events, other_all, replay_other, replay_author):
        socket.close()


def test_shadowbanned_identity_cannot_reveal_and_is_told_the_limit_is_reached(servers, phone_post):
    message = phone_post()
    scraper = Browser(servers[1])
    shadowban.shadowban_fingerprint(scraper.fingerprint, reason="reports")
    response = scraper.get(f"/api/contact/{message['id']}")
    assert response.status_code == 429
    assert response.json()["error"] == "reveal_limit" and "phone" not in response.json()


def author_identity(browser):
    from security.identity import build_identity

    return build_identity(browser.ip, browser.fingerprint)
