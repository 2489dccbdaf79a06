"""The load: client processes that hold the sockets, and the runner's handles on them.

Thousands of sockets are more than one asyncio loop in the runner could read while it
also posts and samples, so they live in client processes (``python -m
devtools.bench.clients CONFIG``), one loop each, that record when each frame arrives.
Latency is "POST sent (runner) -> frame received (client)": both read
CLOCK_MONOTONIC, which Linux shares between processes.

The clients share the machine's cores with the servers they measure, so what they
spend per frame is time a server may not have, and a fan-out to thousands of
sockets is over only once they have read it. Each socket is therefore read by
``websockets``' sans-I/O protocol right where the bytes arrive (``RecordingSocket``),
without the ``websockets`` asyncio client's queue and task wake-up per frame: a
quarter less CPU per frame, and each arrival is timed when its bytes are read rather
than when a task gets round to it (docs/BENCHMARKS.md, "The bench's own clients").

Also here, since the soak's sockets and posts use them too: how a bench client looks
like a browser (User-Agent, fingerprint header, WebSocket options) and how a frame's
message id is read.
"""

import asyncio
import gc
import json
import sys
import time
from collections import Counter, defaultdict
from urllib.parse import urlencode

import psutil
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from devtools.bench.config import BenchError
from devtools.bench.rawhttp import SOCKET_ADDRESS_BLOCK, loopback_address
from devtools.bench.workspace import raise_open_file_limit
from devtools.instances import BASE_DIR

CONNECT_CONCURRENCY = 32  # handshakes in flight per client process (daphne's listen backlog is 50)
CONNECT_TIMEOUT_SECONDS = 60
PROBE_TIMEOUT_SECONDS = 10
CLOSE_TIMEOUT_SECONDS = 2
MAX_FRAME_BYTES = 1 << 20
PROGRESS_INTERVAL_SECONDS = 0.2
CLIENT_START_TIMEOUT_SECONDS = 300
CLIENT_EXIT_TIMEOUT_SECONDS = 60
SOCKETS_PER_SOURCE_ADDRESS = 16  # under WS_MAX_CONNECTIONS_PER_IP

# Posts and sockets carry a browser's User-Agent: an HTTP library's is flagged as
# automation, and its posts shadow-throttled. Each client's fingerprint goes in a header.
FINGERPRINT_HEADER = "X-Browser-Fingerprint"
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
)


def browser_headers(fingerprint):
    """The headers of an HTTP request from a browser with this fingerprint."""
    return {FINGERPRINT_HEADER: fingerprint, "User-Agent": BROWSER_USER_AGENT}


def connect_like_a_browser(url, open_timeout, **options):
    """A ``websockets`` connection as a browser opens it (await it, or ``async with`` it)."""
    from websockets.asyncio.client import connect

    return connect(
        url,
        compression=None,  # daphne does not negotiate permessage-deflate
        ping_interval=None,  # browsers do not ping either
        open_timeout=open_timeout,
        close_timeout=CLOSE_TIMEOUT_SECONDS,
        max_size=MAX_FRAME_BYTES,
        user_agent_header=BROWSER_USER_AGENT,
        **options,
    )


def frame_message_id(frame):
    """The message id in a /ws frame (a message object) or a /ws/events ``message`` envelope."""
    try:
        payload = json.loads(frame)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    if payload.get("type") == "message" and isinstance(payload.get("data"), dict):
        payload = payload["data"]
    message_id = payload.get("id")
    return message_id if isinstance(message_id, str) else None



# --- The client process -------------------------------------------------------------------


class ClientProcess:
    """Runs in its own process: opens its sockets, records arrivals, reports on stdout.

    Protocol: JSON lines on stdout (``connected``, then ``progress`` every
    PROGRESS_INTERVAL_SECONDS); a line ``stop`` (or EOF) on stdin closes the sockets and
    writes ``{"arrivals": {id: [monotonic times]}, ...}`` to the result file.
    """

    def __init__(self, config):
        self.sockets = config["sockets"]  # [[index, url, source address], ...]
        self.result_path = config["result_path"]
        self.connections = {}
        self.failed = []
        self.errors = Counter()
        self.arrivals = defaultdict(list)
        self.frames = 0
        self.other_frames = 0
        self.duplicates = 0
        self.closed = Counter()  # close codes of sockets the server closed during the run
        self.stopping = False

    @staticmethod
    def emit(event, **fields):
        print(json.dumps({"event": event, **fields}), flush=True)

    async def run(self):
        limit = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def open_one(index, url, source_address):
            async with limit:
                try:
                    connection = await RecordingSocket.open(self, url, source_address, CONNECT_TIMEOUT_SECONDS)
                except Exception as error:
                    self.failed.append(index)
                    self.errors[f"{type(error).__name__}: {error}"] += 1
                    return
            self.connections[index] = connection

        await asyncio.gather(*(open_one(*socket) for socket in self.sockets))
        # Thousands of open connections are ~100 tracked objects each: a full collection
        # here would stop this process for a quarter of a second, and every frame in
        # flight would be timed late, whichever server sent it. They live until the end.
        gc.collect()
        gc.freeze()
        self.emit("connected", connected=sorted(self.connections), failed=self.failed, errors=dict(self.errors))
        progress = asyncio.create_task(self.report_progress())
        await asyncio.to_thread(self.wait_for_stop)
        self.stopping = True
        progress.cancel()
        await asyncio.gather(*(connection.close() for connection in self.connections.values()), return_exceptions=True)
        with open(self.result_path, "w") as result:
            json.dump(
                {
                    "arrivals": self.arrivals,
                    "frames": self.frames,
                    "other_frames": self.other_frames,
                    "duplicates": self.duplicates,
                    "closed": dict(self.closed),
                },
                result,
            )

    @staticmethod
    def wait_for_stop():
        for line in sys.stdin:
            if line.strip() == "stop":
                return

    def record(self, frame, arrived, seen):
        """A text frame a socket received at ``arrived``; ``seen``: that socket's ids."""
        message_id = frame_message_id(frame)
        if message_id is None:
            self.other_frames += 1
        elif message_id in seen:
            self.duplicates += 1
        else:
            seen.add(message_id)
            self.arrivals[message_id].append(arrived)
            self.frames += 1

    async def report_progress(self):
        while True:
            self.emit("progress", frames=self.frames, closed=sum(self.closed.values()))
            await asyncio.sleep(PROGRESS_INTERVAL_SECONDS)


class RecordingSocket(asyncio.Protocol):
    """One socket of a client process: a browser's handshake (``connect_like_a_browser``'s
    headers and options), then each text frame recorded as its bytes are parsed."""

    def __init__(self, client, url):
        self.client = client
        self.protocol = ClientProtocol(parse_uri(url), max_size=MAX_FRAME_BYTES)
        self.request = self.protocol.connect()
        self.request.headers["User-Agent"] = BROWSER_USER_AGENT
        self.transport = None
        self.seen = set()
        self.fragments = []
        loop = asyncio.get_running_loop()
        self.opened, self.lost = loop.create_future(), loop.create_future()

    @classmethod
    async def open(cls, client, url, source_address, timeout):
        uri = parse_uri(url)
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            transport, socket = await loop.create_connection(
                lambda: cls(client, url), uri.host, uri.port, local_addr=(source_address, 0)
            )
            try:
                await socket.opened
            except BaseException:
                transport.abort()
                raise
        return socket

    def connection_made(self, transport):
        self.transport = transport
        self.protocol.send_request(self.request)
        self.send_pending()

    def data_received(self, data):
        arrived = time.monotonic()
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                if self.protocol.handshake_exc is None:
                    self.opened.set_result(None)
                else:
                    self.opened.set_exception(self.protocol.handshake_exc)
            elif event.opcode is Opcode.TEXT or (event.opcode is Opcode.CONT and self.fragments):
                self.fragments.append(event.data)
                if event.fin:
                    self.client.record(b"".join(self.fragments).decode(), arrived, self.seen)
                    self.fragments = []
        self.send_pending()

    def send_pending(self):
        """What the protocol has to send: a pong, a close frame, or EOF (an empty chunk)."""
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.transport.write(chunk)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    def eof_received(self):
        self.protocol.receive_eof()
        self.send_pending()

    def connection_lost(self, exc):
        self.protocol.receive_eof()  # idempotent; without a close frame the code is 1006
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.client.stopping:
            self.client.closed[str(self.protocol.close_code)] += 1
        self.lost.set_result(None)

    async def close(self):
        """The close handshake, as a browser closes a page; aborted after CLOSE_TIMEOUT_SECONDS."""
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(1000)
            self.send_pending()
        try:
            await asyncio.wait_for(asyncio.shield(self.lost), CLOSE_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            self.transport.abort()
            await self.lost


def client_main(config_path):
    raise_open_file_limit()
    with open(config_path) as config_file:
        config = json.load(config_file)
    asyncio.run(ClientProcess(config).run())


# --- The runner's side ---------------------------------------------------------------------------


class ClientHandle:
    """The runner's end of one client process."""

    def __init__(self, number, sockets, work_dir):
        self.number = number
        self.sockets = sockets  # [(SocketSpec, url)]
        self.config_path = work_dir / f"client-{number}.json"
        self.result_path = work_dir / f"client-{number}-result.json"
        self.process = None
        self.psutil = None
        self.frames = 0
        self.closed = 0
        self.connected_event = asyncio.Event()
        self.connected = []
        self.failed = []
        self.errors = {}
        self.reader = None

    async def start(self):
        with open(self.config_path, "w") as config:
            json.dump(
                {
                    "sockets": [[spec.index, url, socket_source_address(spec)] for spec, url in self.sockets],
                    "result_path": str(self.result_path),
                },
                config,
            )
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "devtools.bench.clients", str(self.config_path),
            cwd=BASE_DIR, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        self.psutil = psutil.Process(self.process.pid)
        self.reader = asyncio.create_task(self.read_reports())

    async def read_reports(self):
        async for line in self.process.stdout:
            report = json.loads(line)
            if report["event"] == "connected":
                self.connected, self.failed, self.errors = report["connected"], report["failed"], report["errors"]
                self.connected_event.set()
            elif report["event"] == "progress":
                self.frames, self.closed = report["frames"], report["closed"]
        self.connected_event.set()  # the process ended; wait_connected notices

    async def wait_connected(self):
        await asyncio.wait_for(self.connected_event.wait(), CLIENT_START_TIMEOUT_SECONDS)
        if self.process.returncode is not None and not self.connected:
            raise BenchError(f"Client process {self.number} exited with {self.process.returncode}.")

    async def stop(self):
        """Ask for the result; returns it (None if the process is gone)."""
        if self.process is None or self.process.returncode is not None:
            return None
        self.process.stdin.write(b"stop\n")
        await self.process.stdin.drain()
        await asyncio.wait_for(self.process.wait(), CLIENT_EXIT_TIMEOUT_SECONDS)
        await self.reader
        with open(self.result_path) as result:
            return json.load(result)

    async def kill(self):
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


def socket_source_address(spec):
    """Sockets share loopback addresses SOCKETS_PER_SOURCE_ADDRESS at a time: under the
    per-IP caps, and far from running out of ephemeral ports."""
    return loopback_address(SOCKET_ADDRESS_BLOCK, spec.index // SOCKETS_PER_SOURCE_ADDRESS)


def socket_url(server, path, spec, run_id):
    query = {"fp": f"bench-{run_id}-socket-{spec.index}"}
    if spec.location:
        query["location"] = spec.location
    return f"{server.ws_url}{path}?{urlencode(query)}"


async def probe_socket(url):
    """Opening one socket before a thousand: a missing route fails here with a clear message."""
    async with connect_like_a_browser(url, PROBE_TIMEOUT_SECONDS):
        pass


if __name__ == "__main__":
    if len(sys.argv) == 2:
        client_main(sys.argv[1])
    else:
        sys.exit("usage: python -m devtools.bench.clients CONFIG_PATH (started by manage.py bench)")
