"""Bad input of every kind: a 4xx JSON error, nothing changed, the server still serving."""

import json

import httpx
import pytest

from chat.models import Message
from tests.clients import Browser, Socket

pytestmark = pytest.mark.django_db(transaction=True)

VALID = {"message": "1RK near Hinjewadi phase 1", "message_type": "offered", "location": "Pune"}


def raw_post(server, path, content, content_type="application/json"):
    return httpx.post(server.url + path, content=content, headers={"Content-Type": content_type}, timeout=10)


BAD_BODIES = [
    ("malformed JSON", b'{"message": "x",', 400, "invalid_json"),
    ("not UTF-8", b'{"message": "\xff\xfe room"}', 400, "invalid_encoding"),
    ("empty body", b"", 400, "empty_body"),
    ("a JSON list", b"[1, 2]", 400, "invalid_body"),
    ("NaN", b'{"message": NaN}', 400, "invalid_json"),
    ("message not a string", json.dumps({**VALID, "message": 123}).encode(), 400, "invalid_type"),
    ("type not a string", json.dumps({**VALID, "message_type": ["offered"]}).encode(), 400, "invalid_type"),
    ("unknown message_type", json.dumps({**VALID, "message_type": "sold"}).encode(), 400, "invalid_input"),
    ("text over 500", json.dumps({**VALID, "message": "a" * 501}).encode(), 400, "invalid_input"),
    ("missing text", json.dumps({"message_type": "offered"}).encode(), 400, "invalid_input"),
    ("phone too short", json.dumps({**VALID, "phone": "12345"}).encode(), 400, "invalid_input"),
    ("phone with letters", json.dumps({**VALID, "phone": "98765abcde1"}).encode(), 400, "invalid_input"),
    ("city with digits", json.dumps({**VALID, "location": "Pune 411001"}).encode(), 400, "unknown_city"),
    ("markup", json.dumps({**VALID, "message": "<img src=x onerror=alert(1)>"}).encode(), 400, "markup_not_allowed"),
    ("bidi override", json.dumps({**VALID, "message": "call \u202e54321 02289\u202c"}).encode(), 400, "invalid_input"),
    ("control characters", json.dumps({**VALID, "message": "room\x00"}).encode(), 400, "invalid_input"),
    ("deep nesting", b"[" * 100000 + b"]" * 100000, 413, "payload_too_large"),
    ("1 MB body", json.dumps({**VALID, "message": "a" * 1_000_000}).encode(), 413, "payload_too_large"),
]


@pytest.mark.parametrize("label, body, status, code", BAD_BODIES, ids=[case[0] for case in BAD_BODIES])
def test_bad_post_bodies_are_refused_and_change_nothing(servers, label, body, status, code):
    server = servers[0]
    count = Message.objects.count()
    response = raw_post(server, "/messages", body)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    assert response.json()["message"]
    assert Message.objects.count() == count
    assert httpx.get(server.url + "/health").status_code == 200


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/report", b"{oops"),
        ("/api/report", json.dumps({"message_id": "nope", "reported_browser_id": "x"}).encode()),
        ("/api/report", json.dumps({"message_id": 5, "reported_browser_id": "x"}).encode()),
        ("/api/track-visitor", json.dumps({"location": ["Pune"]}).encode()),
        ("/api/track-visitor", b"\xc3\x28"),
    ],
)
def test_bad_bodies_on_other_endpoints(servers, path, body):
    response = raw_post(servers[0], path, body)
    assert 400 <= response.status_code < 500
    assert {"error", "message"} <= set(response.json())


@pytest.mark.parametrize(
    "query",
    [{"limit": "501"}, {"limit": "zero"}, {"limit": "-1"}, {"before": "yesterday"}, {"before": "nan"}, {"location": "<script>"}],
)
def test_bad_history_parameters(servers, query):
    response = httpx.get(servers[0].url + "/messages", params=query)
    assert response.status_code == 400
    assert response.json()["error"] == ("unknown_city" if "location" in query else "invalid_parameter")


def test_unknown_paths_and_methods_answer_json(servers):
    server = servers[0]
    missing = httpx.get(server.url + "/api/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong_method = httpx.delete(server.url + "/messages")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"] == "method_not_allowed"
    assert wrong_method.headers["Allow"] == "GET, POST"


def test_garbage_frames_get_an_error_envelope_and_the_socket_keeps_working(servers):
    server = servers[0]
    socket = Socket(server, "/ws/events")
    for garbage in ("not json", "[1,2,3]", '{"type": "post", "message": "x"}', "\u0000\u0001"):
        socket.send(garbage)
        frame = socket.recv()
        assert frame["type"] == "error" and frame["data"]["error"] == "invalid_frame"
    socket.send('{"type": "ping"}')
    assert socket.recv() == {"type": "notice", "data": {"code": "pong"}}
    live = Browser(server).post_ok("Still delivered after garbage")
    assert socket.recv()["data"]["id"] == live["id"]
    socket.close()


@pytest.mark.parametrize("path", ["/ws", "/ws/events"])
def test_binary_and_oversized_frames_close_the_socket(servers, path):
    binary = Socket(servers[0], path)
    binary.send(b"\x00\x01\x02")
    assert binary.close_code() == 1003
    oversized = Socket(servers[0], path)
    oversized.send("x" * 5000)
    assert oversized.close_code() == 1009
    assert httpx.get(servers[0].url + "/health").status_code == 200


def test_bad_socket_query_is_refused_with_4400(servers):
    events = Socket(servers[0], "/ws/events", since="not-a-uuid")
    frame = events.recv()
    assert frame["type"] == "error" and "since" in frame["data"]["message"]
    assert events.close_code() == 4400
    krib = Socket(servers[0], "/ws", location="Pune 411001")
    assert krib.close_code() == 4400  # the krib stream carries message objects only: no error frame


def test_websocket_from_a_foreign_origin_is_refused(servers):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus) as refused:
        connect(f"{servers[0].ws_url}/ws", origin="https://evil.example")
    assert refused.value.response.status_code == 403
    same_site = connect(f"{servers[0].ws_url}/ws", origin=f"http://localhost:{servers[0].port}")
    same_site.close()
