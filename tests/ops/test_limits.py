"""Server limits on loopback, with bounded loops: sockets per IP and per instance,
header deadline (slowloris), body size, and keepalive dropping dead peers."""

import socket
import threading
import time

import httpx
import pytest

from tests.clients import Browser, Socket, new_ip, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_sockets_per_ip_and_per_instance_are_capped_with_a_clear_close(start_server):
    server = start_server(KIRB_WS_MAX_CONNECTIONS_PER_IP="3", KIRB_WS_MAX_CONNECTIONS="5")
    ip = new_ip()
    mine = [Socket(server, "/ws/events", ip=ip) for _ in range(3)]
    refused = Socket(server, "/ws/events", ip=ip)
    assert refused.recv()["data"]["error"] == "too_many_connections"
    assert refused.close_code() == 4429
    others = [Socket(server, "/ws", ip=new_ip()) for _ in range(2)]
    full = Socket(server, "/ws/events", ip=new_ip())
    assert full.recv()["data"]["error"] == "server_full"
    assert full.close_code() == 1013
    assert httpx.get(server.url + "/health").json()["active_connections"] == 5
    for s in mine + others:
        s.close()


def open_slow_connection(server):
    conn = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    conn.sendall(b"GET /messages HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return conn


def test_slowloris_does_not_delay_a_normal_request_and_is_cut_off(start_server):
    server = start_server(KIRB_HTTP_HEADER_TIMEOUT_SECONDS="2")
    slow = [open_slow_connection(server) for _ in range(200)]
    dropped = set()
    stop = threading.Event()

    def trickle():  # one header byte per connection every 100 ms, for at most 6 s
        for _ in range(60):
            if stop.is_set():
                return
            for index, conn in enumerate(slow):
                if index in dropped:
                    continue
                try:
                    conn.send(b"X")
                except OSError:
                    dropped.add(index)
            time.sleep(0.1)

    trickler = threading.Thread(target=trickle)
    trickler.start()
    try:
        started = time.monotonic()
        response = Browser(server).get("/messages")
        assert response.status_code == 200
        assert time.monotonic() - started < 2  # promptly, while 200 connections trickle
        trickler.join(timeout=10)
        assert len(dropped) == len(slow)  # all cut off by the header deadline
    finally:
        stop.set()
        trickler.join()
        for conn in slow:
            conn.close()


def test_an_announced_oversized_body_is_refused_before_it_is_sent(start_server):
    server = start_server()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(
            b"POST /messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 50000000\r\n\r\n{\"message\": \""
        )
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")
    assert b'"error": "payload_too_large"' in answer
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(b"POST /messages HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 8192
        try:
            for _ in range(10):  # 80 KiB in chunks, past the 16 KiB limit
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass  # the server may already have closed
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")
    assert httpx.get(server.url + "/health").status_code == 200


def test_keepalive_drops_a_peer_that_never_answers_pings(start_server):
    server = start_server(KIRB_WS_PING_INTERVAL_SECONDS="1", KIRB_WS_PING_TIMEOUT_SECONDS="1")
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as conn:
        conn.sendall(
            b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        assert conn.recv(4096).startswith(b"HTTP/1.1 101")
        assert httpx.get(server.url + "/health").json()["active_connections"] == 1
        # Read (and never answer) pings until the server gives up on us.
        deadline = time.monotonic() + 15
        try:
            while conn.recv(4096):
                assert time.monotonic() < deadline, "the dead peer was never dropped"
        except ConnectionResetError:
            pass  # dropped with a reset rather than a close: dropped all the same
    wait_for(lambda: not httpx.get(server.url + "/health").json()["active_connections"], timeout=5)
