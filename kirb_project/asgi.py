"""ASGI entry point: Django for HTTP, Channels consumers for WebSockets."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kirb_project.settings")

import django  # noqa: E402

# Django must be set up before anything imports models.
django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402
from kirb_project.health import HealthCheck  # noqa: E402
from kirb_project.metrics_view import MetricsEndpoint  # noqa: E402
from kirb_project.wsgi_bridge import WsgiBridge  # noqa: E402
from security.middleware import WebSocketIdentityMiddleware, WebSocketOriginMiddleware  # noqa: E402

# One per process, shared by every application built here: its middleware chain is
# loaded once and its HTTP_THREADS are the process's, however many are built.
django_http = WsgiBridge()


def build_application(websocket_routes):
    """Kirb's application serving ``websocket_routes`` (the bench adds one of its own:
    devtools/bench/asgi.py)."""
    return ProtocolTypeRouter(
        {
            # /health and /metrics are answered before Django: fast while Django is busy,
            # and without its ALLOWED_HOSTS check (load balancers and scrapers address an
            # instance by its own name or IP).
            "http": MetricsEndpoint(HealthCheck(django_http)),
            "websocket": WebSocketOriginMiddleware(WebSocketIdentityMiddleware(URLRouter(websocket_routes))),
        }
    )


application = build_application(websocket_urlpatterns)
