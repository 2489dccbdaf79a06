"""The one way out: every live event Kirb sends is built and published here.

An event is encoded to its wire text once, when it is published; that text travels
through the channel layer to one hub per process (chat.hub), which writes it to the
local sockets unchanged. Services call these functions from ``transaction.on_commit``
so that a rolled-back post is never broadcast.
"""

import hashlib
import json
import logging
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from kirb_project import metrics

logger = logging.getLogger(__name__)

ALL_CITIES_GROUP = "kirb.all"
HUB_EVENT = "hub.event"  # channel-layer message type, handled by Hub.hub_event

# Envelope types on /ws/events.
MESSAGE = "message"
MESSAGE_DELETED = "message_deleted"
NOTICE = "notice"
ERROR = "error"


def city_group(city):
    """Channel-layer group names allow only ASCII, so a city is hashed into one."""
    return "kirb.city." + hashlib.sha256(city.encode()).hexdigest()[:24]


def groups_for_city(city):
    """The groups a socket scoped to ``city`` (empty: every city) joins."""
    return [city_group(city)] if city else [ALL_CITIES_GROUP]


def encode(payload):
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def envelope(event_type, data):
    return encode({"type": event_type, "data": data})


def publish_message(message):
    wire = message.as_wire()
    _publish(
        message,
        kind=MESSAGE,
        bare=encode(wire),
        envelope_text=envelope(MESSAGE, wire),
    )
    metrics.messages_per_second.inc()


def publish_message_deleted(message):
    _publish(
        message,
        kind=MESSAGE_DELETED,
        bare=None,  # the krib stream carries message objects only
        envelope_text=envelope(MESSAGE_DELETED, {"id": str(message.id), "location": message.location}),
    )


def _publish(message, *, kind, bare, envelope_text):
    event = {
        "type": HUB_EVENT,
        "kind": kind,
        "message_id": str(message.id),
        # Who may see it: the hub applies the same rule as Message.objects.visible_to.
        "visibility": message.visibility,
        "poster_key": message.poster_key,
        "poster_ip": message.poster_ip or "",
        "bare": bare,
        "envelope": envelope_text,
        "published_at": time.time(),
    }
    groups = [ALL_CITIES_GROUP] + ([city_group(message.location)] if message.location else [])
    try:
        async_to_sync(_send_to_groups)(groups, event)
    except Exception:
        # The message is committed; clients that missed it catch up with since=.
        metrics.broadcast_publish_failures_total.inc()
        logger.exception("Could not publish %s %s", kind, message.id)


async def _send_to_groups(groups, event):
    layer = get_channel_layer()
    for group in groups:
        await layer.group_send(group, dict(event, group=group))
