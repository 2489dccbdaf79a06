"""kill -9 of one instance (issue 11): the other instance's sockets notice nothing, and
the killed instance's clients resume on the other with ``since=`` and miss nothing."""

import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed

from tests.clients import Browser, Socket, is_replay_complete, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SOCKETS_PER_INSTANCE = 3
POST_INTERVAL_SECONDS = 0.05
DEADLINE_SECONDS = 10


class Reader(threading.Thread):
    """Records every frame of one /ws/events socket until the server goes away or
    ``stop()``; ``closed`` says whether the connection was lost."""

    def __init__(self, socket):
        super().__init__(daemon=True)
        self.socket = socket
        self.frames, self.closed = [], False
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                self.frames.append(self.socket.recv(timeout=0.2))
            except TimeoutError:
                continue
            except ConnectionClosed:
                self.closed = True
                return

    def stop(self):
        self.stopped.set()
        self.join()

    def message_ids(self):
        return [frame["data"]["id"] for frame in self.frames if frame["type"] == "message"]


class Poster(threading.Thread):
    """Posts to ``server`` every POST_INTERVAL_SECONDS, a new person (fingerprint and
    network) each time; remembers the ids of the posts answered 200, in order."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.posted, self.refused = [], []
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            browser = Browser(self.server)
            response = browser.post(f"Kill test post {len(self.posted)}", location="Pune")
            browser.close()
            if response.status_code == 200:
                self.posted.append(response.json()["id"])
            else:
                self.refused.append((response.status_code, response.text))
            time.sleep(POST_INTERVAL_SECONDS)

    def stop(self):
        self.stopped.set()
        self.join()


def test_kill_9_one_instance_loses_nothing(start_server):
    killed, survivor = start_server(), start_server()
    on_survivor = [Reader(Socket(survivor, "/ws/events", location="Pune")) for _ in range(SOCKETS_PER_INSTANCE)]
    on_killed = [Reader(Socket(killed, "/ws/events", location="Pune")) for _ in range(SOCKETS_PER_INSTANCE)]
    for reader in on_survivor + on_killed:
        reader.start()

    poster = Poster(survivor)
    poster.start()
    # Every socket is live (the killed instance's too) before the kill.
    wait_for(lambda: len(poster.posted) >= 5 and all(len(r.message_ids()) >= 5 for r in on_killed), timeout=DEADLINE_SECONDS)
    killed.kill()
    for reader in on_killed:
        reader.join(timeout=DEADLINE_SECONDS)
        assert reader.closed
    time.sleep(1)  # posts keep flowing while the killed instance's clients are away

    # They reconnect to the survivor with the last event id they saw.
    resumed = []
    for reader in on_killed:
        last_event_id = [frame for frame in reader.frames if frame["type"] == "message"][-1]["event_id"]
        resumed.append(Reader(Socket(survivor, "/ws/events", location="Pune", since=last_event_id)))
    for reader in resumed:
        reader.start()
    time.sleep(1)  # and go live while posts still flow
    poster.stop()
    assert not poster.refused, poster.refused
    posted = poster.posted
    assert len(posted) >= 8

    wait_for(lambda: all(r.message_ids()[-1:] == posted[-1:] for r in on_survivor + resumed), timeout=DEADLINE_SECONDS)
    time.sleep(1)  # anything else would arrive now
    for reader in on_survivor + resumed:
        reader.stop()

    # The survivor's sockets noticed nothing: every post, in order, once, and no other frame.
    for reader in on_survivor:
        assert not reader.closed
        assert [frame["type"] for frame in reader.frames] == ["message"] * len(posted)
        assert reader.message_ids() == posted
        event_ids = [frame["event_id"] for frame in reader.frames]
        assert event_ids == sorted(set(event_ids))

    # The killed instance's clients: what they saw before the kill, then exactly what
    # they missed (replayed once), replay_complete, then live: every post, once, in order.
    for before, after in zip(on_killed, resumed):
        assert not after.closed
        seen = before.message_ids()
        assert seen == posted[: len(seen)]
        complete = [i for i, frame in enumerate(after.frames) if is_replay_complete(frame)]
        assert len(complete) == 1, after.frames
        replayed = [frame["data"]["id"] for frame in after.frames[: complete[0]]]
        assert after.frames[complete[0]]["data"]["count"] == len(replayed) > 0
        assert after.frames[complete[0]]["data"]["truncated"] is False
        assert all(frame["type"] == "message" for i, frame in enumerate(after.frames) if i != complete[0])
        live = [frame["data"]["id"] for frame in after.frames[complete[0] + 1:]]
        assert live, "the resumed socket never went live"
        assert seen + replayed + live == posted
