"""Redis loses its data without dropping the connection (FLUSHALL, eviction, failover to
an empty replica), or restarts empty: the hubs notice, re-join, rebuild the bans from
the database, catch their sockets up from the event log, and /health says 503 while
they cannot deliver (issue 11). Each test runs a Redis of its own, never the shared one.
"""

import threading
import time

import httpx
import pytest
import redis

from devtools.embedded_redis import EmbeddedRedis
from security import enforcement
from security.models import Reason, Shadowban
from tests.clients import Browser, Socket, new_fingerprint

pytestmark = pytest.mark.django_db(transaction=True)

RECOVERY_DEADLINE_SECONDS = 20


class HealthWatcher(threading.Thread):
    """Polls /health every 0.1 s and remembers every status it got."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.statuses = []
        self.stopped = threading.Event()

    def run(self):
        with httpx.Client(base_url=self.server.url, timeout=3) as client:
            while not self.stopped.is_set():
                try:
                    response = client.get("/health")
                    self.statuses.append((response.status_code, response.json().get("stream")))
                except httpx.HTTPError:
                    self.statuses.append((None, None))
                time.sleep(0.1)

    def stop(self):
        self.stopped.set()
        self.join()


def message_frames(socket, count, timeout):
    """The ids of the next ``count`` message frames (either stream), within ``timeout``."""
    ids, deadline = [], time.monotonic() + timeout
    while len(ids) < count:
        frame = socket.recv(timeout=max(0.01, deadline - time.monotonic()))
        if frame.get("type", "message") == "message":
            ids.append(frame["data"]["id"] if "data" in frame else frame["id"])
    return ids


@pytest.mark.parametrize("loss", ["flushall", "restart_empty"])
def test_hubs_heal_after_redis_loses_everything(start_server, loss):
    own_redis = EmbeddedRedis()
    try:
        banned_fp = new_fingerprint()
        Shadowban.objects.create(target_type="fingerprint", target=banned_fp, reason=Reason.MODERATOR)
        # A is only checked by its own loop every 15 s (the longest the setting may be)
        # but is polled by /health, which notices at once; B is not polled, so it heals
        # through its own check loop (every 5 s).
        a = start_server(REDIS_URL=own_redis.url, KIRB_HUB_CHECK_SECONDS="15")
        b = start_server(REDIS_URL=own_redis.url, KIRB_HUB_CHECK_SECONDS="5")
        on_a = Socket(a, "/ws/events", location="Pune")
        on_b = Socket(b, "/ws", location="Pune")
        before = Browser(a).post_ok("Before the loss", location="Pune")["id"]
        assert message_frames(on_a, 1, 5) == [before] == message_frames(on_b, 1, 5)
        client = redis.Redis.from_url(own_redis.url)
        assert client.exists(enforcement.shadowban_key("fingerprint", banned_fp))

        watcher = HealthWatcher(a)
        if loss == "flushall":
            client.flushall()
            watcher.start()
        else:
            port = own_redis.port
            own_redis.stop()
            watcher.start()
            time.sleep(3)
            own_redis = EmbeddedRedis(port=port)
            client = redis.Redis.from_url(own_redis.url)

        # Post (on both instances) until the sockets receive again; every post answered
        # 200 after the loss must arrive on both, in order, none twice.
        started, posted = time.monotonic(), []
        while time.monotonic() - started < RECOVERY_DEADLINE_SECONDS:
            response = Browser(b if len(posted) % 2 else a).post(f"After the loss {len(posted)}", location="Pune")
            if response.status_code == 200:
                posted.append(response.json()["id"])
            if posted and client.exists(enforcement.shadowban_key("fingerprint", banned_fp)) and watcher.statuses[-1:] == [(200, "live")]:
                break
            time.sleep(0.5)
        remaining = RECOVERY_DEADLINE_SECONDS - (time.monotonic() - started)
        assert posted, "no post succeeded after the loss"
        assert message_frames(on_a, len(posted), remaining) == posted
        assert message_frames(on_b, len(posted), 5) == posted
        watcher.stop()
        assert (503, "recovering") in watcher.statuses, watcher.statuses
        assert watcher.statuses[-1] == (200, "live")

        # The ban made before the loss holds again: the banned author's post reaches nobody.
        assert client.exists(enforcement.shadowban_key("fingerprint", banned_fp))
        Browser(a, fingerprint=banned_fp).post_ok("Posted by the banned browser", location="Pune")
        after = Browser(b).post_ok("After the banned post", location="Pune")["id"]
        assert message_frames(on_a, 1, 5) == [after] == message_frames(on_b, 1, 5)

        metrics = httpx.get(f"{b.url}/metrics").text
        assert 'kirb_stream_recoveries_total{lost="membership"}' in metrics
        on_a.close()
        on_b.close()
        client.close()
    finally:
        own_redis.stop()
