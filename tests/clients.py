"""Small clients for tests: HTTP with an identity, WebSockets that read JSON frames."""

import itertools
import json
import time
import uuid
from urllib.parse import urlencode

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

FRAME_TIMEOUT_SECONDS = 5

# The message object every reader sees (docs/API.md); the poster's own copy adds "phone".
MESSAGE_FIELDS = {"id", "browser_id", "message", "message_type", "timestamp", "location", "has_phone"}

BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)



def wait_for(condition, timeout=10, message="condition", interval=0.05):
    """Poll ``condition`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {message}"
        time.sleep(interval)
    return result


_fingerprints = itertools.count()
_addresses = itertools.count(1)


def new_fingerprint():
    """A fresh browser fingerprint (so a new composite key) for every caller."""
    return f"fp-{uuid.uuid4().hex[:12]}-{next(_fingerprints)}"


def new_ip():
    """A fresh client address from the benchmarking range 198.18.0.0/15, each in a /24 of
    its own (distinct reporters are counted per /24).

    Only ever a header value (X-Forwarded-For through the trusted loopback proxy):
    no traffic goes to it.
    """
    n = next(_addresses)
    return f"198.{18 + n // 65024 % 2}.{n % 256}.{n // 256 % 254 + 1}"


def identity_headers(fingerprint, ip):
    return {"X-Browser-Fingerprint": fingerprint, "X-Forwarded-For": ip, "User-Agent": BROWSER_USER_AGENT}


class Browser:
    """One person: a fingerprint and a network address, talking HTTP to one server.

    By default the address is an X-Forwarded-For value the server believes because the
    tests connect from a trusted loopback proxy. With ``source_address`` (127.x.y.z) the
    client really connects from that address, for servers that trust no proxy.
    """

    def __init__(self, server, fingerprint=None, ip=None, headers=None, source_address=None):
        self.server = server
        self.fingerprint = fingerprint or new_fingerprint()
        self.source_address = source_address
        self.ip = source_address or ip or new_ip()
        identity = identity_headers(self.fingerprint, self.ip)
        transport = None
        if source_address:
            del identity["X-Forwarded-For"]
            transport = httpx.HTTPTransport(local_address=source_address)
        self.http = httpx.Client(
            base_url=server.url, headers={**identity, **(headers or {})}, timeout=10, transport=transport
        )

    def on(self, server):
        """The same person talking to another instance."""
        if self.source_address:
            return Browser(server, self.fingerprint, source_address=self.source_address)
        return Browser(server, self.fingerprint, self.ip)

    def post(self, text="2BHK near the metro, family preferred", message_type="offered", location="Pune", **extra):
        return self.http.post(
            "/messages", json={"message": text, "message_type": message_type, "location": location, **extra}
        )

    def post_ok(self, *args, **kwargs):
        response = self.post(*args, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def get(self, path, **params):
        return self.http.get(path, params=params)

    def close(self):
        self.http.close()


class Socket:
    """A WebSocket client that reads JSON frames with a timeout."""

    def __init__(self, server, path="/ws/events", fingerprint=None, ip=None, anonymous=False, **query):
        """``anonymous``: no fingerprint at all, as krib's client opens its socket."""
        params = {key: value for key, value in query.items() if value is not None}
        if not anonymous:
            params["fp"] = fingerprint or new_fingerprint()
        self.fingerprint = params.get("fp")
        self.ip = ip or new_ip()
        self.ws = connect(
            f"{server.ws_url}{path}" + (f"?{urlencode(params)}" if params else ""),
            open_timeout=10,
            close_timeout=2,
            additional_headers={"X-Forwarded-For": self.ip},
            user_agent_header=BROWSER_USER_AGENT,
        )

    def recv(self, timeout=FRAME_TIMEOUT_SECONDS):
        return json.loads(self.ws.recv(timeout=timeout))

    def recv_until(self, predicate, timeout=FRAME_TIMEOUT_SECONDS):
        """Frames up to and including the first one matching ``predicate``."""
        frames = []
        while True:
            frames.append(self.recv(timeout))
            if predicate(frames[-1]):
                return frames

    def send(self, data):
        self.ws.send(data)

    def close_code(self, timeout=FRAME_TIMEOUT_SECONDS):
        """Read until the server closes; returns its close code."""
        try:
            while True:
                self.ws.recv(timeout=timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None

    def close(self):
        self.ws.close()


def message_ids(frames):
    return [frame["data"]["id"] if "data" in frame else frame["id"] for frame in frames]


def is_replay_complete(frame):
    return frame["type"] == "notice" and frame["data"]["code"] == "replay_complete"


def visible_ids(browser, **params):
    """Ids of the messages ``browser`` sees in its history."""
    response = browser.get("/messages", **params)
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()]


def key_of(browser):
    """The composite key the servers compute for ``browser``."""
    from security.identity import composite_key

    return composite_key(browser.ip, browser.fingerprint)
