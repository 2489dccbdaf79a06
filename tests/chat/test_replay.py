"""/ws/events ``since=``: what a client missed comes from the database, then live ones."""

import threading

import pytest

from chat.models import Message
from tests.clients import Browser, Socket, is_replay_complete, message_ids

pytestmark = pytest.mark.django_db(transaction=True)


def test_reconnect_with_since_replays_exactly_the_missed_messages_then_live(servers):
    a, b = servers
    socket = Socket(a, "/ws/events", location="Pune")
    seen = Browser(a).post_ok("Seen before the disconnect", location="Pune")
    assert socket.recv()["data"]["id"] == seen["id"]
    socket.close()

    missed = [Browser(a if i % 2 else b).post_ok(f"Missed post {i}", location="Pune")["id"] for i in range(3)]
    Browser(a).post_ok("Other city, not for this socket", location="Delhi")

    again = Socket(b, "/ws/events", location="Pune", since=seen["id"])
    frames = again.recv_until(is_replay_complete)
    assert message_ids(frames[:-1]) == missed
    assert frames[-1]["data"] == {"code": "replay_complete", "count": 3, "truncated": False}
    live = Browser(a).post_ok("Live after the replay", location="Pune")
    assert again.recv()["data"]["id"] == live["id"]
    again.close()


def test_unknown_since_says_so_and_goes_live(servers):
    a, _ = servers
    socket = Socket(a, "/ws/events", since="6f1c3f9e-0000-4000-8000-000000000000")
    error = socket.recv()
    assert error["type"] == "error" and error["data"]["error"] == "unknown_since"
    assert is_replay_complete(socket.recv())
    live = Browser(a).post_ok("Still live")
    assert socket.recv()["data"]["id"] == live["id"]
    socket.close()


def test_reconnecting_while_posts_flow_loses_and_duplicates_nothing(servers):
    """Clients that keep reconnecting with since= mid-stream see every post exactly once."""
    a, b = servers
    first = Browser(a).post_ok("Start of the stream", location="Pune")
    total = 40
    posted = []

    def post_all():
        for i in range(total):
            posted.append(Browser(a if i % 2 else b).post_ok(f"Stream post {i}", location="Pune")["id"])

    poster = threading.Thread(target=post_all)
    received, last = [], first["id"]
    poster.start()
    try:
        for round_number in range(200):
            server = servers[round_number % 2]
            socket = Socket(server, "/ws/events", location="Pune", since=last)
            for _ in range(3):  # a few frames, then drop the connection mid-stream
                if len(received) >= total:
                    break
                frame = socket.recv()
                if frame["type"] == "message":
                    received.append(frame["data"]["id"])
                    last = received[-1]
            socket.close()
            if len(received) >= total:
                break
    finally:
        poster.join()
    assert received == posted
    in_database = list(Message.objects.filter(location="Pune").oldest_first().values_list("id", flat=True))
    assert [str(i) for i in in_database[1:]] == posted
