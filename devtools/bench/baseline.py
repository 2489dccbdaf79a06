"""The tutorial design Kirb's hub is measured against: every socket is a layer member.

This is how the Channels tutorial fans out: each consumer joins the channel-layer
groups itself and the layer delivers every event to every member channel. It sends
the same pre-encoded text as Kirb's /ws (``event["bare"]``) and applies the same
visibility rule, so the only difference measured is one layer member per socket
(here) against one per process (chat.hub).

Served at ``/ws/baseline`` only by the bench's servers (devtools/bench/asgi.py, with
KIRB_PUBLISH_CITY_GROUPS so that events reach the city groups); it is a benchmark
fixture, not an endpoint for clients. The bench's ``tutorial`` design runs it
on the pub/sub layer (``KIRB_BENCH_CHANNEL_LAYER=pubsub``), ``baseline`` on the core one.
"""

import logging
from urllib.parse import parse_qsl

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

from chat import close_codes, events
from chat.forms import StreamQueryForm
from chat.models import is_visible_to
from core.errors import KirbError

logger = logging.getLogger(__name__)


def groups_for_city(city_key):
    """The groups a socket scoped to a city (``chat.cities.city_key``; "" for every city) joins."""
    return [events.city_group(city_key)] if city_key else [events.ALL_CITIES_GROUP]


class BaselineConsumer(AsyncWebsocketConsumer):
    """One channel-layer member per socket; ``?location=`` scopes it like /ws."""

    async def connect(self):
        self.joined = []
        try:
            params = StreamQueryForm.validate(dict(parse_qsl(self.scope["query_string"].decode("latin-1"))))
        except KirbError:
            await self.accept()
            await self.close(code=close_codes.BAD_REQUEST)
            return
        for group in groups_for_city(params["city_key"]):
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def hub_event(self, event):
        """Handles ``events.HUB_EVENT``: the same frame and rule as FeedConsumer.deliver."""
        if event["bare"] is None:
            return
        if not is_visible_to(
            self.scope["identity"],
            visibility=event["visibility"],
            poster_key=event["poster_key"],
            poster_ip=event["poster_ip"],
        ):
            return
        await self.send(text_data=event["bare"])

    async def receive(self, text_data=None, bytes_data=None):
        """Clients of the feed send nothing the server acts on."""


websocket_urlpatterns = [path("ws/baseline", BaselineConsumer.as_asgi())]
