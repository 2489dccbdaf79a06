"""The one way out: every live event Kirb sends is built and published here.

An event is encoded to its wire text once, when it is published; that text travels
through the channel layer to one hub per process (chat.hub), which writes it to the
local sockets unchanged. Services call these functions from ``transaction.on_commit``
so that a rolled-back post is never broadcast.
"""

import asyncio
import hashlib
import json
import logging
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from core import metrics, outages

logger = logging.getLogger(__name__)

ALL_CITIES_GROUP = "kirb.all"
HUB_EVENT = "hub.event"  # channel-layer message type; chat.hub reads them in Hub.on_event

# Envelope types on /ws/events.
MESSAGE = "message"
MESSAGE_DELETED = "message_deleted"
NOTICE = "notice"
ERROR = "error"


def city_group(city_key):
    """Channel-layer group names allow only ASCII, so a city key is hashed into one."""
    return "kirb.city." + hashlib.sha256(city_key.encode()).hexdigest()[:24]




def encode(payload):
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def envelope(event_type, data, event_id=None):
    """A /ws/events frame; stream events carry their ``event_id`` (chat.stream)."""
    frame = {"type": event_type, "data": data}
    if event_id is not None:
        frame["event_id"] = event_id
    return encode(frame)


def hub_event(event_id, kind, message):
    """The channel-layer message for stream event ``event_id``: the frames of both
    streams, encoded once, and what the hub needs to route and filter them."""
    if kind == MESSAGE:
        wire = message.as_wire()
        bare = encode(wire)
    else:
        wire = {"id": str(message.id), "location": message.location}
        bare = None  # the krib stream carries message objects only
    return {
        "type": HUB_EVENT,
        "event_id": event_id,
        "kind": kind,
        "message_id": str(message.id),
        "city_key": message.city_key,
        # Who may see it: the hub applies the same rule as Message.objects.visible_to.
        "visibility": message.visibility,
        "poster_key": message.poster_key,
        "poster_ip": message.poster_ip or "",
        "bare": bare,
        "envelope": envelope(kind, wire, event_id),
        "published_at": time.time(),
    }


def publish(event_id, kind, message):
    """Hand a committed event to every hub (called by ``chat.stream.record`` on commit).

    Hubs are members of the all-cities group only and route by ``city_key``
    themselves, so one group_send reaches them all. A failure loses nothing: hubs
    fill gaps in the id sequence from the log (chat.hub).
    """
    event = hub_event(event_id, kind, message)
    groups = [ALL_CITIES_GROUP]
    if settings.PUBLISH_CITY_GROUPS and message.city_key:
        groups.append(city_group(message.city_key))
    try:
        async_to_sync(_send_to_groups)(groups, event)
    except Exception as error:
        metrics.broadcast_publish_failures_total.inc()
        outages.channel_layer.failed(error)
    else:
        outages.channel_layer.recovered()
    if kind == MESSAGE:
        metrics.messages_per_second.inc()


async def _send_to_groups(groups, event):
    layer = get_channel_layer()
    try:
        await asyncio.gather(*(layer.group_send(group, dict(event, group=group)) for group in groups))
    finally:
        # After the send, not before: a fan-out to this process's sockets would hold
        # up the send to every other instance's.
        hub = _local_hub
        if hub is not None and hub.loop is asyncio.get_running_loop():
            hub.take(event)


_local_hub = None


def attach_local_hub(hub):
    """Hand this process's events to ``hub`` (chat.hub) as soon as they are sent, so
    that its sockets need not wait for Redis to bring them back; that copy then
    arrives as a duplicate, which the hub drops by its event id."""
    global _local_hub
    _local_hub = hub


def detach_local_hub(hub):
    global _local_hub
    if _local_hub is hub:
        _local_hub = None
