"""SIGTERM drains an instance: health flips, clients get everything then 1012, exit 0."""

import json
import subprocess
import sys
import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed

from chat.models import Message
from tests.clients import Browser, Socket

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 12
DEADLINE_SECONDS = 10


class Reader(threading.Thread):
    """A /ws/events client that records message ids until the server closes it."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.socket = Socket(server, "/ws/events", location="Pune")
        self.ids, self.notices, self.close_code = [], [], None

    def run(self):
        try:
            while True:
                frame = self.socket.recv(timeout=DEADLINE_SECONDS * 2)
                if frame["type"] == "message":
                    self.ids.append(frame["data"]["id"])
                elif frame["type"] == "notice":
                    self.notices.append(frame["data"]["code"])
        except ConnectionClosed as closed:
            self.close_code = closed.rcvd.code if closed.rcvd else None


# Sent and timed from a process of its own: this one's threads (readers, poster) would
# otherwise delay the polling by tens of milliseconds. CLOCK_MONOTONIC is system-wide,
# so the times it reports compare with ours.
WATCH_HEALTH = """
import json, os, signal, sys, time, urllib.error, urllib.request
pid, url = int(sys.argv[1]), sys.argv[2]
signalled_at = time.monotonic()
os.kill(pid, signal.SIGTERM)
while True:
    try:
        urllib.request.urlopen(url, timeout=1)
    except urllib.error.HTTPError as error:
        if error.code == 503:
            print(json.dumps([signalled_at, time.monotonic() - signalled_at, json.load(error)]))
            break
"""


def signal_and_watch_health(server):
    result = subprocess.run(
        [sys.executable, "-c", WATCH_HEALTH, str(server.pid), server.url + "/health"],
        capture_output=True, text=True, timeout=DEADLINE_SECONDS, check=True,
    )
    return json.loads(result.stdout)


def test_sigterm_drains_clients_to_another_instance_without_losing_messages(start_server, servers):
    draining = start_server()
    survivor = servers[1]
    readers = [Reader(draining) for _ in range(CLIENTS)]
    for reader in readers:
        reader.start()

    posted, stop_posting = [], threading.Event()

    def keep_posting():
        while not stop_posting.is_set():
            message = Browser(survivor).post_ok(f"Flowing post {len(posted)}", location="Pune")
            posted.append((time.monotonic(), message["id"]))

    poster = threading.Thread(target=keep_posting, daemon=True)
    poster.start()
    while len(posted) < 5:
        time.sleep(0.01)

    signalled_at, flipped_after, health = signal_and_watch_health(draining)
    published_before_signal = [message_id for at, message_id in list(posted) if at < signalled_at]
    assert health["draining"] is True and health["healthy"] is False
    assert flipped_after < 0.1, f"/health took {flipped_after:.3f} s to turn 503"

    assert draining.process.wait(timeout=DEADLINE_SECONDS) == 0
    assert time.monotonic() - signalled_at < DEADLINE_SECONDS
    for reader in readers:
        reader.join(timeout=DEADLINE_SECONDS)
        assert reader.close_code == 1012
        assert "draining" in reader.notices
        assert reader.ids[: len(published_before_signal)] == published_before_signal

    # The clients reconnect to the other instance and resume where they stopped.
    resumed = [Socket(survivor, "/ws/events", location="Pune", since=reader.ids[-1]) for reader in readers]
    time.sleep(0.3)  # let a few more posts flow while they are connected
    stop_posting.set()
    poster.join()
    all_posted = [message_id for _, message_id in posted]
    for reader, socket in zip(readers, resumed):
        received = list(reader.ids)
        while received[-1] != all_posted[-1]:
            frame = socket.recv()
            if frame["type"] == "message":
                received.append(frame["data"]["id"])
        assert received[received.index(all_posted[0]):] == all_posted  # each once, in order
        socket.close()
    assert Message.objects.filter(location="Pune").count() == len(all_posted)
