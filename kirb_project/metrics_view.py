"""GET /metrics: Prometheus text, for scrapers on allowed networks or with the token."""

import hmac
import ipaddress

from django.conf import settings
from django_prometheus.exports import ExportToDjangoView

from kirb_project.errors import PolicyViolation, error_response


def _allowed(request):
    token = settings.METRICS_TOKEN
    authorization = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return True
    # The client address as resolved through trusted proxies: a public client reaching
    # us through a load balancer on a private network is still a public client.
    address = ipaddress.ip_address(request.identity.ip)
    return any(address in network for network in settings.METRICS_ALLOWED_CIDRS)


def metrics(request):
    if not _allowed(request):
        return error_response(
            PolicyViolation("Metrics are available to the monitoring network or with the token.", code="forbidden")
        )
    return ExportToDjangoView(request)
