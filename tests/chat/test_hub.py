"""The per-process hub against the real Redis channel layer, in this process."""

import asyncio

import pytest
from django.db import transaction
from prometheus_client import REGISTRY

from chat import events, stream
from chat.consumers import FeedConsumer
from chat.hub import Hub
from chat.models import Message, StreamEvent
from kirb_project import dbpool
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


class StandInTransport:
    """Stands in for daphne's send: daphne buffers without backpressure, so a real slow
    reader never fills the outbox over loopback; here the writer is simply not started."""

    def __init__(self):
        self.sent = []

    async def __call__(self, message):
        self.sent.append(message)


def test_a_full_outbox_disconnects_the_slow_socket_and_counts_the_drop():
    asyncio.run(slow_consumer_scenario())


async def slow_consumer_scenario():
    consumer = FeedConsumer()
    consumer.identity = build_identity("192.0.2.1", "reader")
    consumer.outbox = asyncio.Queue(maxsize=2)
    consumer.closing = False
    consumer.base_send = StandInTransport()
    dropped_before = REGISTRY.get_sample_value("kirb_websocket_frames_dropped_total", {"stream": "ws"}) or 0
    event = {
        "kind": events.MESSAGE, "visibility": "public", "poster_key": "k", "poster_ip": "192.0.2.9",
        "bare": "{}", "published_at": 0, "event_id": 1,
    }
    for _ in range(4):
        consumer.deliver(event)
    await asyncio.sleep(0)  # let the scheduled close run
    assert consumer.outbox.qsize() == 2
    assert consumer.base_send.sent == [{"type": "websocket.close", "code": 4408}]
    assert REGISTRY.get_sample_value("kirb_websocket_frames_dropped_total", {"stream": "ws"}) == dropped_before + 1


async def wait_for(condition, timeout=5):
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)
