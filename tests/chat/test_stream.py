"""Event ids and since= replays against real servers (issue 11; docs/STREAM.md).

Missed posts are written straight through the service layer's event log from this
process (the same database and Redis as the servers), so that hundreds of them take
a second, not a minute of HTTP posts under the post cooldown.
"""

import os
import threading
import time
import uuid

import pytest
from django.db import transaction

from chat import events, services, stream
from chat.cities import city_key
from chat.models import Message
from tests.clients import Browser, Socket, is_replay_complete, message_ids

pytestmark = pytest.mark.django_db(transaction=True)


def make_posts(count, location):
    """``count`` public posts in ``location``, each in its own transaction, as post_message does."""
    ids = []
    for i in range(count):
        with transaction.atomic():
            message = Message.objects.create(
                public_id=f"bulk-{uuid.uuid4().hex[:8]}",
                poster_fingerprint="bulk-poster",
                message=f"Bulk post {i}",
                message_type="offered",
                location=location,
                city_key=city_key(location),
                poster_key="b" * 64,
                poster_ip="192.0.2.50",
            )
            stream.record(events.MESSAGE, message)
        ids.append(str(message.id))
    return ids


def replay_frames(socket):
    frames = socket.recv_until(is_replay_complete, timeout=15)
    return frames[:-1], frames[-1]["data"]


def test_every_live_frame_carries_an_increasing_event_id(servers):
    a, b = servers
    socket = Socket(b, "/ws/events", location="Pune")
    posted = [Browser(a if i % 2 else b).post_ok(f"Event id post {i}", location="Pune")["id"] for i in range(4)]
    frames = [socket.recv() for _ in posted]
    assert message_ids(frames) == posted
    event_ids = [frame["event_id"] for frame in frames]
    assert event_ids == sorted(event_ids) and len(set(event_ids)) == 4
    socket.close()


def test_300_missed_posts_are_all_replayed_in_order_then_replay_complete(servers):
    a, _ = servers
    seen = Browser(a).post_ok("Last seen before a long absence", location="Surat")
    missed = make_posts(300, "Surat")
    socket = Socket(a, "/ws/events", location="Surat", since=seen["id"])
    frames, complete = replay_frames(socket)
    assert message_ids(frames) == missed
    event_ids = [frame["event_id"] for frame in frames]
    assert event_ids == sorted(event_ids)
    assert complete == {"code": "replay_complete", "count": 300, "truncated": False}
    live = Browser(a).post_ok("Live after the long replay", location="Surat")
    assert socket.recv()["data"]["id"] == live["id"]
    socket.close()


def test_600_missed_with_a_limit_of_500_gives_500_truncated_and_where_to_resume(servers):
    a, b = servers
    start = Browser(a).post_ok("Before a very long absence", location="Indore")
    missed = make_posts(600, "Indore")
    socket = Socket(b, "/ws/events", location="Indore", since=start["id"])
    frames, complete = replay_frames(socket)
    assert message_ids(frames) == missed[:500]
    assert complete["truncated"] is True and complete["count"] == 500
    assert complete["next_since"] == frames[-1]["event_id"]
    socket.close()

    rest = Socket(a, "/ws/events", location="Indore", since=complete["next_since"])
    frames, complete = replay_frames(rest)
    assert message_ids(frames) == missed[500:]
    assert complete == {"code": "replay_complete", "count": 100, "truncated": False}
    rest.close()


def test_deletions_made_while_away_are_replayed_after_the_posts_before_them(servers):
    a, b = servers
    socket = Socket(a, "/ws/events", location="Nashik")
    kept = Browser(a).post_ok("Will stay", location="Nashik")
    doomed = Browser(b).post_ok("1BHK near Nashik Road, removed while the reader is away", location="Nashik")
    frames = [socket.recv(), socket.recv()]
    assert message_ids(frames) == [kept["id"], doomed["id"]]
    last_event_id = frames[-1]["event_id"]
    socket.close()

    services.delete_message(Message.objects.get(id=doomed["id"]))
    later = Browser(b).post_ok("Posted after the deletion", location="Nashik")

    again = Socket(b, "/ws/events", location="Nashik", since=last_event_id)
    frames, complete = replay_frames(again)
    assert [(f["type"], f["data"]["id"]) for f in frames] == [
        ("message_deleted", doomed["id"]),
        ("message", later["id"]),
    ]
    assert complete["count"] == 2
    # A message removed before the reader ever saw it is not shown first: only its deletion.
    gone = Browser(a).post_ok("Removed before anyone resumed", location="Nashik")
    services.delete_message(Message.objects.get(id=gone["id"]))
    assert [(f["type"], f["data"]["id"]) for f in again.recv_until(lambda f: f["type"] == "message_deleted")] == [
        ("message", gone["id"]),
        ("message_deleted", gone["id"]),
    ]
    again.close()
    resumed = Socket(a, "/ws/events", location="Nashik", since=frames[-1]["event_id"])
    frames, _ = replay_frames(resumed)
    assert [(f["type"], f["data"]["id"]) for f in frames] == [("message_deleted", gone["id"])]
    resumed.close()


def test_a_since_beyond_the_log_is_unknown(servers):
    a, _ = servers
    socket = Socket(a, "/ws/events", since=str(10**17))
    assert socket.recv()["data"]["error"] == "unknown_since"
    assert is_replay_complete(socket.recv())
    socket.close()


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="commit order differs from insert order only with concurrent writers (PostgreSQL)",
)
def test_concurrent_posters_on_two_instances_and_a_reader_resuming_every_half_second(servers):
    """4 posters on 2 instances for 20 s; a reader reconnecting with since= (its last
    event id) every 0.5 s receives every post exactly once, in event-id order, and the
    deletions made meanwhile."""
    a, b = servers
    first = Browser(a).post_ok("Start of the concurrent stream", location="Mysuru")
    stop = threading.Event()
    posted, deleted, lock = [], [], threading.Lock()

    def poster(n):
        server = servers[n % 2]
        i = 0
        while not stop.is_set():
            message_id = Browser(server).post_ok(f"Poster {n} post {i}", location="Mysuru")["id"]
            with lock:
                posted.append(message_id)
                if i % 10 == 9:  # now and then a moderator removes one
                    deleted.append(message_id)
            if i % 10 == 9:
                services.delete_message(Message.objects.get(id=message_id))
            i += 1

    threads = [threading.Thread(target=poster, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    received, rounds = [], 0
    try:
        deadline = time.monotonic() + 20
        since = first["id"]
        while time.monotonic() < deadline:
            socket = Socket(servers[rounds % 2], "/ws/events", location="Mysuru", since=since)
            until = time.monotonic() + 0.5
            while time.monotonic() < until:
                try:
                    frame = socket.recv(timeout=max(0.01, until - time.monotonic()))
                except TimeoutError:
                    break
                if "event_id" in frame:
                    received.append((frame["event_id"], frame["type"], frame["data"]["id"]))
                    since = frame["event_id"]
            socket.close()
            rounds += 1
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    socket = Socket(a, "/ws/events", location="Mysuru", since=since)  # the tail
    for frame in replay_frames(socket)[0]:
        received.append((frame["event_id"], frame["type"], frame["data"]["id"]))
    socket.close()

    event_ids = [event_id for event_id, _, _ in received]
    assert event_ids == sorted(set(event_ids)), "duplicates or out of order"
    messages = [message_id for _, kind, message_id in received if kind == "message"]
    deletions = [message_id for _, kind, message_id in received if kind == "message_deleted"]
    # A post deleted before the reader's replay reached it arrives as its deletion only.
    assert set(messages) | set(deleted) == set(posted)
    assert len(messages) == len(set(messages))
    assert sorted(deletions) == sorted(deleted)
    assert rounds >= 30 and len(posted) >= 40
