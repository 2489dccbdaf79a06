"""The per-process hub against the real Redis channel layer, in this process."""

import asyncio
import socket

import pytest
from django.db import transaction
from prometheus_client import REGISTRY

from chat import close_codes, events, stream
from chat.consumers import FeedConsumer
from chat.hub import Hub
from chat.models import Message, StreamEvent
from core import dbpool
from security.identity import build_identity


class RecordingSocket:
    def __init__(self):
        self.identity = build_identity("192.0.2.10", "recording-socket")
        self.events = []

    def deliver(self, event):
        self.events.append(event)


def commit_events(count, city):
    """``count`` messages and their log events, committed without publishing them: the
    test plays the channel layer (late, out of order, or losing them)."""
    hub_events = []
    for i in range(count):
        with transaction.atomic():
            message = Message.objects.create(
                public_id="hub-test", poster_fingerprint="hub-test", message=f"Hub test {i}",
                message_type="offered", location=city, city_key=city.lower(), poster_key="c" * 64,
            )
            event_id = stream._next_event_id()
            StreamEvent.objects.create(id=event_id, kind=events.MESSAGE, message=message)
        hub_events.append(events.hub_event(event_id, events.MESSAGE, message))
    return hub_events


@pytest.mark.django_db(transaction=True)
def test_hub_dispatches_in_event_id_order_and_fills_what_the_layer_lost_from_the_log():
    asyncio.run(sequencing_scenario())


async def sequencing_scenario():
    hub = Hub(asyncio.get_running_loop())
    pune, everywhere, delhi = RecordingSocket(), RecordingSocket(), RecordingSocket()
    await hub.join(pune, "pune")
    await hub.join(everywhere, "")
    await hub.join(delhi, "delhi")
    assert await hub.is_member()
    first, second, third = await dbpool.run(commit_events, 3, "Pune")
    # The layer brings the third, then the second, and loses the first.
    hub.on_event(third)
    hub.on_event(second)
    assert everywhere.events == []  # held back until the gap is filled
    await wait_for(lambda: len(everywhere.events) == 3)
    ids = [first["event_id"], second["event_id"], third["event_id"]]
    assert [e["event_id"] for e in everywhere.events] == ids == [e["event_id"] for e in pune.events]
    assert delhi.events == []
    hub.on_event(first)  # arriving late: already dispatched from the log
    (fourth,) = await dbpool.run(commit_events, 1, "Delhi")
    await hub.layer.group_send(events.ALL_CITIES_GROUP, fourth)  # the real layer, in order
    await wait_for(lambda: len(everywhere.events) == 4)
    assert [e["event_id"] for e in delhi.events] == [fourth["event_id"]]
    assert len(pune.events) == 3

    hub.leave(pune)
    hub.leave(pune)  # idempotent
    assert "pune" not in hub._feeds  # no per-city state outlives its sockets
    hub.leave(everywhere)
    hub.leave(delhi)
    assert hub.sockets == {} and dict(hub.sockets_per_ip) == {}
    await hub.stop()


@pytest.mark.django_db(transaction=True)
def test_a_hub_takes_its_own_process_events_without_waiting_for_redis_to_bring_them():
    asyncio.run(local_events_scenario())


async def local_events_scenario():
    await dbpool.run(commit_events, 1, "Pune")  # the log's counter exists: ids follow on from here
    hub = Hub(asyncio.get_running_loop())
    socket = RecordingSocket()
    await hub.join(socket, "")
    first, second, third, fourth = await dbpool.run(commit_events, 4, "Pune")
    # Out of the group: Redis brings this hub nothing, yet it has its process's event
    # once the publish returns.
    await hub.layer.group_discard(events.ALL_CITIES_GROUP, hub.channel)
    await events._send_to_groups([events.ALL_CITIES_GROUP], first)
    assert [e["event_id"] for e in socket.events] == [first["event_id"]]
    # In the group again: Redis brings a copy of the next one too, which is dropped;
    # an event published elsewhere (through Redis only) follows.
    await hub._join_group()
    await events._send_to_groups([events.ALL_CITIES_GROUP], second)
    await hub.layer.group_send(events.ALL_CITIES_GROUP, third)
    await wait_for(lambda: len(socket.events) >= 3)
    assert [e["event_id"] for e in socket.events] == [e["event_id"] for e in (first, second, third)]
    # A stopped hub is handed nothing.
    await hub.stop()
    await events._send_to_groups([events.ALL_CITIES_GROUP], fourth)
    assert len(socket.events) == 3
    hub.leave(socket)


def test_the_sweep_releases_sockets_whose_application_ended_without_disconnect():
    asyncio.run(ghost_scenario())


async def ghost_scenario():
    hub = Hub(asyncio.get_running_loop())
    hub.channel = "stand-in"  # joined already: this test is about the registry only
    gauge = REGISTRY.get_sample_value("active_websocket_connections")
    ghost, alive = RecordingSocket(), RecordingSocket()
    await asyncio.create_task(hub.join(ghost, "pune"))  # its task ends: daphne gave up on it
    await hub.join(alive, "pune")
    assert hub.sockets_per_ip[ghost.identity.ip] == 2
    assert hub.sweep() == 1
    assert list(hub.sockets) == [alive] and hub.sockets_per_ip[alive.identity.ip] == 1
    assert REGISTRY.get_sample_value("active_websocket_connections") == gauge + 1
    hub.leave(alive)


# --- the outbox: the slow-reader bound under servers without a direct writer ---------------
#
# Under manage.py serve the server itself closes a reader over WS_MAX_UNSENT_BYTES
# (tests/ops/test_slow_readers.py, real processes). Under other ASGI servers the
# consumer queues frames for an ASGI ``send`` that waits while the client is not
# reading, and closes at WS_OUTBOX_MAX_FRAMES. No such server is installed here, so
# this ``send`` plays one (a mock of the server, over a real socket): it writes each
# frame to a real loopback TCP connection whose client never reads, and awaits the
# drain, as uvicorn's does, so it really blocks once the buffers are full.

OUTBOX_FRAMES = 4
BIG_FRAME = "x" * 16384


class BlockingSend:
    """An ASGI send writing to a real socket that nobody reads; records closes."""

    def __init__(self, stream_writer):
        self.stream_writer = stream_writer
        self.frames_written = 0
        self.closes = []

    async def __call__(self, message):
        if message["type"] == "websocket.close":
            self.closes.append(message["code"])
        elif message["type"] == "websocket.send":
            self.stream_writer.write(message["text"].encode())
            await self.stream_writer.drain()
            self.frames_written += 1


def big_event(event_id):
    return {
        "kind": events.MESSAGE, "visibility": "public", "poster_key": "k", "poster_ip": "192.0.2.9",
        "bare": BIG_FRAME, "published_at": 0, "event_id": event_id,
    }


@pytest.fixture
def small_outbox(settings):
    settings.KIRB = {**settings.KIRB, "WS_OUTBOX_MAX_FRAMES": OUTBOX_FRAMES}


def test_without_a_direct_writer_a_reader_that_stops_reading_is_closed_at_a_full_outbox(small_outbox):
    asyncio.run(full_outbox_scenario())


async def full_outbox_scenario():
    accepted = asyncio.get_running_loop().create_future()
    listener = await asyncio.start_server(lambda r, w: accepted.set_result(w), "127.0.0.1", 0)
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.connect(listener.sockets[0].getsockname())  # and never reads
    stream_writer = await accepted
    stream_writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    send = BlockingSend(stream_writer)
    consumer = FeedConsumer()
    consumer.identity = build_identity("192.0.2.1", "reader")
    consumer.base_send = send
    dropped = REGISTRY.get_sample_value("kirb_websocket_frames_dropped_total", {"stream": "ws"}) or 0
    closed = REGISTRY.get_sample_value("kirb_websocket_slow_consumers_closed_total", {"bound": "outbox_frames"})
    try:
        event_id = 0
        while not consumer.closing:
            assert event_id < 10_000, "the outbox never filled"
            event_id += 1
            consumer.deliver(big_event(event_id))
            await asyncio.sleep(0)  # the writer task runs until the send blocks
        await wait_for(lambda: send.closes)
        assert send.closes == [close_codes.SLOW_CONSUMER]
        assert consumer.outbox.qsize() == OUTBOX_FRAMES  # bounded: nothing was queued past it
        assert send.frames_written > 0  # the send did write until the socket's buffers filled
        assert consumer.deliver(big_event(event_id + 1)) == 0  # closing: takes nothing more
        assert REGISTRY.get_sample_value("kirb_websocket_frames_dropped_total", {"stream": "ws"}) == dropped + 1
        assert REGISTRY.get_sample_value(
            "kirb_websocket_slow_consumers_closed_total", {"bound": "outbox_frames"}
        ) == closed + 1
    finally:
        consumer.release()
        client.close()
        stream_writer.transport.abort()
        listener.close()


async def wait_for(condition, timeout=5):
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)
