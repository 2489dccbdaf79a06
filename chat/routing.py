from django.urls import path

from chat import consumers

websocket_urlpatterns = [
    path("ws", consumers.FeedConsumer.as_asgi()),
    path("ws/events", consumers.EventsConsumer.as_asgi()),
]
