"""Django's HTTP side runs as WSGI on HTTP_THREADS threads (kirb_project/wsgi_bridge.py):
what the bridge translates (paths, repeated headers, HEAD) and what the pool bounds."""

import socket
import threading
import time

import httpx
import pytest

from tests.clients import Browser, new_ip, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def raw_request(server, request_bytes):
    """The raw response to ``request_bytes`` on a new connection, read to its end."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(request_bytes)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_non_ascii_path_reaches_the_view(servers):
    response = Browser(servers[0]).get("/api/contact/पुणे")
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_message"  # the view's answer, not the router's


def test_head_answers_headers_only(servers):
    response = raw_request(servers[0], b"HEAD /api/cooldown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 405"), head
    assert body == b""


def test_repeated_forwarded_for_lines_are_one_list(servers):
    """Two X-Forwarded-For lines are one list (RFC 9110): the client is the last entry
    before the trusted proxy, in the last line."""
    poster = Browser(servers[0])
    poster.post_ok("Room near the station, rent 9k", location="Pune")

    def can_post(last_line_ip):
        request = (
            "GET /api/cooldown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"X-Browser-Fingerprint: {poster.fingerprint}\r\n"
            f"X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-For: {last_line_ip}\r\n\r\n"
        ).encode()
        head, _, body = raw_request(servers[0], request).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        return b'"can_post": true' in body or b'"can_post":true' in body

    assert can_post(poster.ip) is False  # the poster's own cooldown
    assert can_post(new_ip()) is True


def test_requests_beyond_the_threads_wait_their_turn_and_are_all_answered(start_server):
    """With one thread, twenty requests at once are served one after another: none is
    refused or lost, and /health (answered before Django) is not held up meanwhile."""
    server = start_server(KIRB_HTTP_THREADS="1")
    statuses, lock = [], threading.Lock()

    def post(n):
        status = Browser(server).http.post(
            "/messages", json={"message": f"Room {n} near the metro", "message_type": "offered", "location": "Pune"}
        ).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    assert httpx.get(server.url + "/health/live", timeout=2).status_code == 200
    assert time.monotonic() - started < 1
    for thread in threads:
        thread.join(timeout=30)
    wait_for(lambda: len(statuses) == 20, message="every post answered")
    assert statuses == [200] * 20
