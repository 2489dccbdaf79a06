"""A minimal HTTP/1.1 client on asyncio streams, and the loopback addresses it posts from.

The bench posts hundreds of times a second and times /health to the millisecond:
an HTTP library's own CPU would compete with the servers for the cores and add its
overhead to every sample. This writes one request and reads one response, nothing else.

Every post comes from its own loopback address (Linux routes all of 127.0.0.0/8 to
``lo``) with its own fingerprint: to the server, a distinct visitor on a distinct
network, so the per-network ceilings (IP_WRITE_LIMIT, NETWORK_POST_LIMIT) apply to the
bench as to anyone and need not be raised.
"""

import asyncio
import json
import time
from dataclasses import dataclass

HEADER_END = b"\r\n\r\n"
ADDRESSES_PER_BLOCK = 250  # 127.<block>.<hi>.<1..250>: skip .0 and .255
ADDRESS_BLOCKS = 250

# First octets after 127: sockets and posts never share a network.
SOCKET_ADDRESS_BLOCK = 10
POST_ADDRESS_BLOCK = 20


def loopback_address(block, index):
    """The ``index``-th address of loopback range 127.<block>.0.0/16 (index < 62,500)."""
    high, low = divmod(index % (ADDRESSES_PER_BLOCK * ADDRESS_BLOCKS), ADDRESSES_PER_BLOCK)
    return f"127.{block}.{high}.{low + 1}"


@dataclass
class Response:
    status: int
    body: bytes
    seconds: float

    def json(self):
        return json.loads(self.body)


async def read_response(reader):
    head = await reader.readuntil(HEADER_END)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":  # daphne, without a Content-Length
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            chunk = await reader.readexactly(size + len(b"\r\n"))
            if not size:
                return status, body, headers
            body += chunk[:size]
    length = int(headers.get("content-length", 0))
    body = await reader.readexactly(length) if length else b""
    return status, body, headers


def request_bytes(method, host, path, headers=None, body=b"", keep_alive=False):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Connection: {'keep-alive' if keep_alive else 'close'}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def post_json(host, port, path, payload, headers, source_address, timeout):
    """One POST on a fresh connection from ``source_address``; the time is connect to last byte."""
    body = json.dumps(payload).encode()
    return await request(host, port, "POST", path, {"Content-Type": "application/json", **headers}, source_address,
                         timeout, body)


async def request(host, port, method, path, headers, source_address, timeout, body=b""):
    """One request on a fresh connection from ``source_address``; the time is connect to last byte."""
    started = time.monotonic()
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, local_addr=(source_address, 0)), timeout
    )
    try:
        writer.write(request_bytes(method, f"{host}:{port}", path, headers, body))
        status, data, _ = await asyncio.wait_for(read_response(reader), timeout)
    finally:
        writer.close()
    return Response(status, data, time.monotonic() - started)


class KeepAliveClient:
    """Sequential GETs on one connection, e.g. /health while the sockets are open (a new
    one when the server closes it; the time excludes connecting)."""

    def __init__(self, host, port, timeout):
        self.host, self.port, self.timeout = host, port, timeout
        self.reader = self.writer = None

    async def get(self, path):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        started = time.monotonic()
        self.writer.write(request_bytes("GET", f"{self.host}:{self.port}", path, keep_alive=True))
        status, data, headers = await asyncio.wait_for(read_response(self.reader), self.timeout)
        seconds = time.monotonic() - started
        if headers.get("connection", "").lower() == "close":  # the bare server's /health
            await self.close()
        return Response(status, data, seconds)

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None
