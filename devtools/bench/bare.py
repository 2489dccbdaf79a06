"""The ceiling: a bare ``websockets`` server fanning Redis pub/sub frames out to its sockets.

What a live feed costs with no framework at all: one Redis SUBSCRIBE per process, every
published frame routed by city to the local sockets and written as is. No Django, no
database, no security, no outbox, no ordering or recovery. ``manage.py bench`` runs two
of these like two Kirb instances and PUBLISHes the frames itself (there is no POST path
here), at the same rate and of the same size as Kirb's, to the same client processes.

Run: ``python -m devtools.bench.bare --port PORT --redis-url URL --channel NAME``. ``GET /health``
answers 200 (for the runner's readiness wait and the idle-socket /health latency);
``/ws?location=City`` is a socket scoped to a city, ``/ws`` one that gets every frame.

Published payload: ``<city key>\\n<frame text>``, the city key being the lower-cased
location ("" for a post to every city's sockets only).
"""

import argparse
import asyncio
import http
import logging
import signal
import socket
import sys
from collections import defaultdict
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import broadcast

from devtools.bench.workspace import raise_open_file_limit
from devtools.instances import ServerProcess

SEPARATOR = "\n"
HEALTH_PATH = "/health"
MAX_INCOMING_FRAME_BYTES = 4096  # clients send nothing; the same bound as Kirb's

logger = logging.getLogger(__name__)


def city_key(location):
    return location.strip().lower()


def payload(location, frame):
    """What the runner PUBLISHes for one post."""
    return f"{city_key(location)}{SEPARATOR}{frame}"


class BareServer:
    def __init__(self, redis_url, channel):
        self.redis_url = redis_url
        self.channel = channel
        self.feeds = defaultdict(set)  # city key ("" for every city) -> connections

    def process_request(self, connection, request):
        """``/health`` is plain HTTP; everything else goes on to the WebSocket handshake."""
        if urlsplit(request.path).path == HEALTH_PATH:
            return connection.respond(http.HTTPStatus.OK, "ok\n")
        return None

    async def handler(self, connection):
        query = dict(parse_qsl(urlsplit(connection.request.path).query))
        feed = self.feeds[city_key(query.get("location", ""))]
        feed.add(connection)
        try:
            await connection.wait_closed()
        finally:
            feed.discard(connection)

    def fan_out(self, data):
        key, _, frame = data.partition(SEPARATOR)
        targets = list(self.feeds.get(key, ()))
        if key:
            targets += self.feeds.get("", ())
        # websockets' own fan-out: writes without awaiting (a slow reader stalls no one).
        broadcast(targets, frame)

    async def subscribe(self, subscribed):
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(self.redis_url, decode_responses=True)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self.channel)
        subscribed.set()
        async for message in pubsub.listen():
            if message["type"] == "message":
                self.fan_out(message["data"])

    async def serve(self, port, host="127.0.0.1"):
        from websockets.asyncio.server import serve

        stop = asyncio.get_running_loop().create_future()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)
        subscribed = asyncio.Event()
        receiver = asyncio.create_task(self.subscribe(subscribed))
        await subscribed.wait()  # listening only once subscribed: /health means ready
        async with serve(
            self.handler, host, port, process_request=self.process_request, compression=None,
            ping_interval=None, max_size=MAX_INCOMING_FRAME_BYTES, backlog=socket.SOMAXCONN,
        ):
            await stop
        receiver.cancel()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--channel", required=True)
    options = parser.parse_args(argv)
    raise_open_file_limit()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(BareServer(options.redis_url, options.channel).serve(options.port))


class BareServerProcess(ServerProcess):
    """The runner's handle on one bare server: a ServerProcess (same readiness wait on
    /health, same stop) that runs this module instead of ``manage.py serve``."""

    def __init__(self, redis_url, channel, log_path=None):
        super().__init__({}, log_path=log_path)
        self.redis_url = redis_url
        self.channel = channel

    def command(self):
        return [sys.executable, "-m", "devtools.bench.bare", "--port", str(self.port), "--redis-url", self.redis_url,
                "--channel", self.channel]


if __name__ == "__main__":
    main()
