"""What the bench's servers run (KIRB_ASGI_APPLICATION): Kirb's application, plus
/ws/baseline, the per-socket design it is compared with (devtools.bench.baseline)."""

from kirb_project.asgi import build_application  # noqa: I001 (sets Django up first)

from chat.routing import websocket_urlpatterns
from devtools.bench.baseline import websocket_urlpatterns as baseline_urlpatterns

application = build_application(websocket_urlpatterns + baseline_urlpatterns)
