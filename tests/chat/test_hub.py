"""The per-process hub against the real Redis channel layer, in this process."""

import asyncio

from django.conf import settings
from prometheus_client import REGISTRY

from chat import events
from chat.consumers import FeedConsumer
from chat.hub import Hub
from security.identity import build_identity


class RecordingSocket:
    def __init__(self):
        self.identity = build_identity("192.0.2.10", "recording-socket")
        self.events = []

    def deliver(self, event):
        self.events.append(event)


def hub_event(group, message_id):
    return {"type": events.HUB_EVENT, "kind": events.MESSAGE, "message_id": message_id, "group": group}


def test_hub_joins_each_group_once_and_leaves_with_the_last_socket(redis_client):
    asyncio.run(hub_scenario(redis_client))


async def hub_scenario(redis_client):
    hub = Hub(asyncio.get_running_loop())
    group = events.city_group("Hubtown")
    group_key = f"{settings.REDIS_PREFIX}:layer:group:{group}"
    first, second, elsewhere = RecordingSocket(), RecordingSocket(), RecordingSocket()
    await asyncio.gather(hub.join(first, [group]), hub.join(second, [group]))
    await hub.join(elsewhere, [events.city_group("Othertown")])
    assert redis_client.zrange(group_key, 0, -1) == [hub.channel.encode()]

    await hub.layer.group_send(group, hub_event(group, "m1"))
    await wait_for(lambda: first.events and second.events)
    assert [e["message_id"] for e in first.events] == ["m1"] == [e["message_id"] for e in second.events]
    assert elsewhere.events == []

    await hub.leave(first)
    assert redis_client.zcard(group_key) == 1
    await hub.leave(second)
    assert redis_client.zcard(group_key) == 0
    await hub.leave(elsewhere)
    for task in hub._tasks:
        task.cancel()


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
        "bare": "{}", "published_at": 0,
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
