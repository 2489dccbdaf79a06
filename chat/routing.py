from django.conf import settings
from django.urls import path

from chat import consumers

websocket_urlpatterns = [
    path("ws", consumers.FeedConsumer.as_asgi()),
    path("ws/events", consumers.EventsConsumer.as_asgi()),
]

if settings.KIRB_BENCH_BASELINE_ROUTE:  # the per-socket design, for `manage.py bench` only
    from bench.baseline import websocket_urlpatterns as baseline_urlpatterns

    websocket_urlpatterns += baseline_urlpatterns
