"""core.channel_layer: group_send in one round trip, against the real Redis, beside
channels_redis' own group_send (what each member receives, and what Redis holds)."""

import asyncio
import time

from channels_redis.core import RedisChannelLayer
from django.conf import settings

from core.channel_layer import KirbChannelLayer

GROUP = "kirb.test"
MESSAGE = {"type": "hub.event", "event_id": 7, "envelope": "héllo " * 200}


class Layers:
    """Layers as configured for Kirb, under a key prefix of the test's own; each one
    has its own process-local channel prefix, so each plays one process. Leaving the
    block deletes every key they wrote and closes their connections."""

    def __init__(self):
        self.made = []

    def __call__(self, layer_class=KirbChannelLayer, **overrides):
        config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"], prefix=f"{settings.REDIS_PREFIX}:layertest")
        config.update(overrides)
        self.made.append(layer_class(**config))
        return self.made[-1]

    async def member(self, group=GROUP):
        """A new layer with one channel in ``group``: ``(layer, channel)``."""
        layer = self()
        channel = await layer.new_channel(prefix="kirb-hub.")
        await layer.group_add(group, channel)
        return layer, channel

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        if self.made:
            await self.made[0].flush()  # every key under the prefix
        for layer in self.made:
            await layer.close_pools()


def count_commands(layer, index=0):
    """The commands ``layer`` sends from now on to Redis server ``index`` (outside a
    pipeline, each its own round trip); call it in the layer's event loop."""
    connection = layer.connection(index)
    execute, sent = connection.execute_command, []

    async def counted(*args, **options):
        sent.append(args[0])
        return await execute(*args, **options)

    connection.execute_command = counted
    return sent


async def receive(layer, channel):
    return await asyncio.wait_for(layer.receive(channel), timeout=5)


async def queued(layer, channel):
    """How many messages wait in ``channel``'s queue."""
    return await layer.connection(0).zcard(layer.prefix + layer.non_local_name(channel))


def test_group_send_reaches_every_member_in_one_round_trip_and_follows_membership_changes():
    asyncio.run(membership_scenario())


async def membership_scenario():
    async with Layers() as layers:
        sender = layers()
        await sender.group_send("kirb.warm-up", MESSAGE)  # the script is loaded into Redis
        (a, a_channel), (b, b_channel) = await layers.member(), await layers.member()
        sent = count_commands(sender)

        await sender.group_send(GROUP, MESSAGE)
        assert len(sent) == 2  # the sender did not know the members: refused, then sent
        for layer, channel in ((a, a_channel), (b, b_channel)):
            assert await receive(layer, channel) == MESSAGE

        await sender.group_send(GROUP, dict(MESSAGE, event_id=8))
        assert len(sent) == 3  # the steady state: one round trip
        assert (await receive(a, a_channel))["event_id"] == 8
        assert (await receive(b, b_channel))["event_id"] == 8

        # b leaves and c joins between two sends: the guess is refused, nothing is
        # queued on it, and the message goes to the group as it is now.
        await b.group_discard(GROUP, b_channel)
        c, c_channel = await layers.member()
        await sender.group_send(GROUP, dict(MESSAGE, event_id=9))
        assert len(sent) == 5
        assert (await receive(a, a_channel))["event_id"] == 9
        assert (await receive(c, c_channel))["event_id"] == 9
        assert await queued(b, b_channel) == 0


def test_what_redis_holds_after_a_group_send_is_what_channels_redis_writes():
    asyncio.run(equivalence_scenario())


async def equivalence_scenario():
    written = {}
    for layer_class in (RedisChannelLayer, KirbChannelLayer):
        async with Layers() as layers:
            sender = layers(layer_class, capacity=2, expiry=30)
            (hub, channel), _ = await layers.member(), await layers.member()
            connection = sender.connection(0)
            # A member that died without leaving, older than group_expiry.
            dead = "kirb-hub.dead!x"
            await connection.zadd(sender._group_key(GROUP), {dead: time.time() - sender.group_expiry - 10})
            for event_id in range(3):  # one more than the capacity
                await sender.group_send(GROUP, dict(MESSAGE, event_id=event_id))
            key = sender.prefix + sender.non_local_name(channel)
            messages = [sender.deserialize(entry) for entry in await connection.zrange(key, 0, -1)]
            assert all(message.pop("__asgi_channel__") == [channel] for message in messages)
            written[layer_class] = {
                "messages": messages,
                "expires in": await connection.ttl(key),
                "group size": await connection.zcard(sender._group_key(GROUP)),
                "queue of the dead member": await connection.exists(sender.prefix + sender.non_local_name(dead)),
            }
    ours = written[KirbChannelLayer]
    assert ours == written[RedisChannelLayer]
    assert [message["event_id"] for message in ours["messages"]] == [0, 1]  # the third was over capacity
    assert 0 < ours["expires in"] <= 30
    assert ours["group size"] == 2 and ours["queue of the dead member"] == 0


def test_with_several_redis_servers_it_is_channels_redis_group_send():
    """Sharded, a member's queue may be on another server than its group: no one script
    sees both, so the layer hands over (here both "servers" are the test Redis)."""
    asyncio.run(sharded_scenario())


async def sharded_scenario():
    host = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    async with Layers() as layers:
        layer = layers(hosts=[host, dict(host)])
        channel = await layer.new_channel(prefix="kirb-hub.")
        await layer.group_add(GROUP, channel)
        sent = [count_commands(layer, index) for index in (0, 1)]
        await layer.group_send(GROUP, MESSAGE)
        assert await receive(layer, channel) == MESSAGE
        assert "ZRANGE" in sent[0] + sent[1]  # channels_redis reads the members in a command of its own
