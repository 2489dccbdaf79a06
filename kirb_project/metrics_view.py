"""GET /metrics: Prometheus text, for scrapers on allowed networks or with the token.

Answered in front of Django (``MetricsEndpoint``, an ASGI middleware, like /health):
a scraper addresses an instance by whatever name or address it discovered it under
(``Host: kirb1:8000`` in docker-compose.yml, a pod IP in Kubernetes), which is not one
of ``ALLOWED_HOSTS``, so Django's host check would refuse every scrape with a 400.
The access rule does not depend on the Host: the client address (resolved through
``TRUSTED_PROXIES`` exactly as everywhere else, by ``security.identity.client_ip``)
must be in ``METRICS_ALLOWED_CIDRS``, or the request must carry
``Authorization: Bearer $METRICS_TOKEN``.

The Django view below keeps the same rule for anything that reaches /metrics through
Django itself (the test client, a WSGI server).
"""

import asyncio
import hmac
import json
import os

import prometheus_client
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse
from prometheus_client import multiprocess

from chat import services
from core import dbpool, outages
from core.conf import kirb_setting
from core.errors import PolicyViolation, error_response
from security.identity import client_ip, ip_in_networks, request_peer_and_headers, scope_peer_and_headers

PATH = "/metrics"
_REFUSAL = PolicyViolation("Metrics are available to the monitoring network or with the token.", code="forbidden")


def allowed(peer, headers):
    """Whether a scrape from ``peer`` with lower-cased ``headers`` may read the metrics."""
    token = settings.METRICS_TOKEN
    authorization = headers.get("authorization", "")
    if token and hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return True
    # The client address as resolved through trusted proxies: a public client reaching
    # us through a load balancer on a private network is still a public client.
    # No usable peer address (a Unix socket) is in no network: nothing to allow.
    return ip_in_networks(client_ip(peer, headers), settings.METRICS_ALLOWED_CIDRS)


def exposition():
    """The metrics page: ``(body, content type)``, as django-prometheus would export it."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ or "prometheus_multiproc_dir" in os.environ:
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.REGISTRY
    return prometheus_client.generate_latest(registry), prometheus_client.CONTENT_TYPE_LATEST


class MetricsEndpoint:
    """ASGI: GET /metrics before Django (no ALLOWED_HOSTS check), same access rule."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != PATH:
            return await self.app(scope, receive, send)
        if allowed(*scope_peer_and_headers(scope)):
            try:
                await asyncio.wait_for(dbpool.run(measure_database), kirb_setting("HEALTH_TIMEOUT_SECONDS"))
            except asyncio.TimeoutError:
                outages.database.failed(TimeoutError("no answer from the database in time for /metrics"))
            status, (body, content_type) = 200, exposition()
        else:
            status, body, content_type = _REFUSAL.status, json.dumps(_REFUSAL.as_dict()).encode(), "application/json"
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type.encode()), (b"cache-control", b"no-store")],
            }
        )
        await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})


def measure_database():
    """Read the gauges that describe the database, not this process (the review
    queue), for this scrape. An unreachable database leaves them at their last values:
    the scrape is still answered, and the database's own alerts speak."""
    try:
        services.measure_review_queue()
    except DatabaseError as error:
        outages.database.failed(error)
    else:
        outages.database.recovered()


def metrics(request):
    if not allowed(*request_peer_and_headers(request)):
        return error_response(_REFUSAL)
    measure_database()
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)
