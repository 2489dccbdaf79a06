"""Three instances behind a real nginx (the `make cluster` runner, with the shipped
config): sockets spread over the instances and all get every post, the client address
Kirb limits is the one nginx saw whatever the client claims, and an instance stopped
with SIGTERM hands its clients to the others without losing a message.

Skipped where nginx is not installed (.ci/run installs it).
"""

import random
import re
import signal
import threading
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from chat.models import Message
from security import store
from tests.clients import BROWSER_USER_AGENT, Browser, Socket, new_fingerprint, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_SECONDS = 10


def health(instance):
    return httpx.get(instance.url + "/health", timeout=5).json()


def sockets_per_instance(cluster):
    return {instance.port: health(instance)["active_connections"] for instance in cluster.instances}


def message_id(frame):
    return frame["data"]["id"] if "data" in frame else frame["id"]


def test_sockets_through_nginx_spread_over_the_instances_and_all_get_a_post(cluster):
    wait_for(lambda: sum(sockets_per_instance(cluster).values()) == 0, message="an idle cluster")
    sockets = [Socket(cluster, path, location="Pune") for path in ("/ws", "/ws/events") * 3]
    wait_for(lambda: sum(sockets_per_instance(cluster).values()) == len(sockets), message="every socket counted")
    spread = sockets_per_instance(cluster)
    assert all(count >= 1 for count in spread.values()), f"some instance got no socket: {spread}"

    posted = Browser(cluster).post_ok("2BHK near the metro, through the load balancer", location="Pune")
    for socket in sockets:
        frame = socket.recv()
        assert message_id(frame) == posted["id"]
        socket.close()


def person(cluster, source_address, fingerprint):
    """Someone reaching nginx from ``source_address`` (any 127.x.y.z is loopback)."""
    return httpx.Client(
        base_url=cluster.url,
        transport=httpx.HTTPTransport(local_address=source_address),
        headers={"X-Browser-Fingerprint": fingerprint, "User-Agent": BROWSER_USER_AGENT},
        timeout=10,
    )


def post(client, text, **headers):
    return client.post(
        "/messages", json={"message": text, "message_type": "offered", "location": "Pune"}, headers=headers
    )


def test_the_limited_ip_is_the_one_nginx_forwards_and_a_forged_header_changes_nothing(cluster, redis_client):
    fingerprint = new_fingerprint()
    home = person(cluster, "127.0.0.2", fingerprint)
    first = post(home, "Room for a student near the university")
    assert first.status_code == 200, first.text
    assert Message.objects.get(id=first.json()["id"]).poster_ip == "127.0.0.2"

    # The same person claims other addresses: still the same composite key (IP from
    # nginx + fingerprint), so still inside the post cooldown.
    forged = {"X-Forwarded-For": "203.0.113.50", "CF-Connecting-IP": "203.0.113.51", "X-Real-IP": "203.0.113.52"}
    again = post(home, "Another room, honest", **forged)
    assert again.status_code == 429 and again.json()["error"] == "post_cooldown", again.text
    appended = post(home, "Yet another room", **{"X-Forwarded-For": "203.0.113.50, 127.0.0.1"})
    assert appended.status_code == 429 and appended.json()["error"] == "post_cooldown", appended.text
    cooldown = home.get("/api/cooldown", headers=forged).json()
    assert cooldown["can_post"] is False

    # From another address nginx sees, the same fingerprint is someone else.
    elsewhere = post(person(cluster, "127.0.0.3", fingerprint), "A room from another network")
    assert elsewhere.status_code == 200, elsewhere.text
    assert Message.objects.get(id=elsewhere.json()["id"]).poster_ip == "127.0.0.3"

    # The per-IP write counter is nginx's peer address; nothing was keyed on a forged one.
    assert redis_client.zcard(store.key("rate_limit", "127.0.0.2", "ip_writes")) == 3
    assert redis_client.zcard(store.key("rate_limit", "127.0.0.3", "ip_writes")) == 1
    assert not list(redis_client.scan_iter(match=store.key("*203.0.113.*")))


def test_the_admin_login_form_passes_the_csrf_check_through_nginx(cluster):
    """Django compares a form post's Origin with the Host nginx passes on, port included."""
    with httpx.Client(base_url=cluster.url, headers={"User-Agent": BROWSER_USER_AGENT}, timeout=10) as browser:
        page = browser.get("/admin/login/")
        assert page.status_code == 200
        # Production cookies are Secure (TLS ends at the load balancer): send it by hand.
        cookie = page.headers["set-cookie"].split("csrftoken=", 1)[1].split(";", 1)[0]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        login = browser.post(
            "/admin/login/",
            data={"csrfmiddlewaretoken": token, "username": "nobody", "password": "wrong", "next": "/admin/"},
            headers={"Origin": cluster.url, "Referer": cluster.url + "/admin/login/", "Cookie": f"csrftoken={cookie}"},
        )
    assert login.status_code == 200, login.text[:500]  # the form again, not 403 CSRF
    assert "correct username and password" in login.text


def test_metrics_are_not_served_through_the_load_balancer(cluster):
    assert httpx.get(cluster.url + "/metrics").status_code == 404
    assert httpx.get(cluster.instances[0].url + "/metrics").status_code == 200  # scraped directly


class Follower(threading.Thread):
    """A /ws/events client through nginx that, like the web client, resumes with since=
    whenever the server closes its socket (retrying while it meets a draining one)."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.fingerprint = new_fingerprint()
        self.ids, self.closes, self.notices, self.errors = [], [], [], []
        self.stopping = threading.Event()
        self.failure = None
        self.socket = self.connect()

    def connect(self):
        since = self.ids[-1] if self.ids else None
        return Socket(self.cluster, "/ws/events", fingerprint=self.fingerprint, location="Pune", since=since)

    def run(self):
        try:
            while not self.stopping.is_set():
                try:
                    frame = self.socket.recv(timeout=0.5)
                except TimeoutError:
                    continue
                except ConnectionClosed as closed:
                    self.closes.append(closed.rcvd.code if closed.rcvd else None)
                    self.reconnect()
                    continue
                if frame["type"] == "message":
                    self.ids.append(frame["data"]["id"])
                elif frame["type"] == "notice":
                    self.notices.append(frame["data"]["code"])
                elif frame["type"] == "error":
                    self.errors.append(frame["data"]["error"])
        except Exception as error:  # reported by the test
            self.failure = error

    def reconnect(self):
        deadline = time.monotonic() + WAIT_SECONDS
        while not self.stopping.is_set():
            time.sleep(random.uniform(0.05, 0.25))
            try:
                self.socket = self.connect()
                return
            except (OSError, InvalidHandshake, TimeoutError):
                if time.monotonic() > deadline:
                    raise

    def stop(self):
        self.stopping.set()
        self.join(timeout=WAIT_SECONDS)
        self.socket.close()


class Poster(threading.Thread):
    """Posts to ``targets`` in turn, one person after another, until stopped."""

    def __init__(self, *targets):
        super().__init__(daemon=True)
        self.targets = targets
        self.posted, self.failures = [], []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            browser = Browser(self.targets[len(self.posted) % len(self.targets)])
            try:
                response = browser.post(f"Flowing post {len(self.posted)}", location="Pune")
            except httpx.HTTPError as error:
                self.failures.append(repr(error))
            else:
                if response.status_code == 200:
                    self.posted.append(response.json()["id"])
                else:
                    self.failures.append(f"{response.status_code} {response.text}")
            finally:
                browser.close()
            time.sleep(0.03)

    def stop(self):
        self.stopping.set()
        self.join(timeout=WAIT_SECONDS)


def test_sigterm_moves_an_instances_clients_to_the_others_without_losing_a_message(start_cluster):
    """The clients of the stopped instance, connected through nginx, resume on the
    others with since=: every client sees every post once, in order."""
    cluster = start_cluster()
    followers = [Follower(cluster) for _ in range(9)]
    for follower in followers:
        follower.start()
    wait_for(lambda: sum(sockets_per_instance(cluster).values()) == len(followers), message="every socket counted")
    victim, survivors = cluster.instances[0], cluster.instances[1:]
    on_victim = health(victim)["active_connections"]
    assert on_victim >= 1

    # Posts go straight to the instances that stay. Through nginx they would also reach
    # the draining instance until it exits, and Kirb's drain does not yet wait for the
    # HTTP requests in flight when it stops (docs/DEPLOY.md, "Known limits").
    poster = Poster(*survivors)
    poster.start()
    try:
        wait_for(lambda: all(len(f.ids) >= 3 for f in followers), message="posts flowing to every follower")
        signalled_at = time.monotonic()
        victim.signal(signal.SIGTERM)
        assert victim.process.wait(timeout=WAIT_SECONDS) == 0
        assert time.monotonic() - signalled_at < WAIT_SECONDS
        time.sleep(1)  # posts go on flowing through the two instances left
    finally:
        poster.stop()
    assert not poster.failures, poster.failures
    posted = poster.posted
    try:
        wait_for(lambda: all(f.ids[-1:] == posted[-1:] for f in followers), message="the last post everywhere")
        wait_for(
            lambda: sum(health(instance)["active_connections"] for instance in survivors) == len(followers),
            message="every follower on a surviving instance",
        )
    finally:
        for follower in followers:
            follower.stop()

    moved = [follower for follower in followers if follower.closes]
    assert len(moved) == on_victim, "exactly the victim's clients were closed"
    for follower in followers:
        assert follower.failure is None, follower.failure
        assert set(follower.closes) <= {1012}, follower.closes
        assert follower.ids == posted  # each post once, in order, none lost
    for follower in moved:
        assert "draining" in follower.notices
        assert "replay_complete" in follower.notices  # resumed with since=
