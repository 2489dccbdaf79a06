"""Small clients for tests: HTTP with an identity, WebSockets that read JSON frames."""

import itertools
import json
import uuid
from urllib.parse import urlencode

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

FRAME_TIMEOUT_SECONDS = 5

_fingerprints = itertools.count()


def new_fingerprint():
    """A fresh browser fingerprint (so a new composite key) for every caller."""
    return f"fp-{uuid.uuid4().hex[:12]}-{next(_fingerprints)}"


class Browser:
    """One person: a fingerprint, talking HTTP to one server."""

    def __init__(self, server, fingerprint=None, headers=None):
        self.server = server
        self.fingerprint = fingerprint or new_fingerprint()
        self.http = httpx.Client(
            base_url=server.url,
            headers={"X-Browser-Fingerprint": self.fingerprint, **(headers or {})},
            timeout=10,
        )

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

    def __init__(self, server, path="/ws/events", fingerprint=None, **query):
        params = {key: value for key, value in query.items() if value is not None}
        params["fp"] = fingerprint or new_fingerprint()
        self.fingerprint = params["fp"]
        self.ws = connect(f"{server.ws_url}{path}?{urlencode(params)}", open_timeout=10, close_timeout=2)

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
