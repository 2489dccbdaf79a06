"""/metrics as Prometheus scrapes it: by the name or address it discovered an instance
under (`kirb1:8000` in docker-compose.yml, a pod IP in Kubernetes), never one of
ALLOWED_HOSTS. It is answered before Django's host check, with the same access rule
(a monitoring network after the trusted-proxy rule, or the bearer token)."""

import httpx
import pytest

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "scrape-token-0123456789abcdef"
# The Host headers Prometheus sends: compose service names, pod and node addresses.
SCRAPE_HOSTS = ["kirb1:8000", "10.42.3.17:8000", "[fd00::17]:8000", "kirb.kirb.svc.cluster.local:8000"]


def test_scrapes_by_any_host_are_answered_from_a_monitoring_network(start_server):
    server = start_server(METRICS_TOKEN=TOKEN)
    for host in SCRAPE_HOSTS:
        response = httpx.get(server.url + "/metrics", headers={"Host": host})
        assert response.status_code == 200, (host, response.status_code, response.text[:300])
        assert response.headers["content-type"].startswith("text/plain")
        assert "active_websocket_connections" in response.text
    # The rest of Kirb still answers only the names in ALLOWED_HOSTS.
    assert httpx.get(server.url + "/messages", headers={"Host": "kirb1:8000"}).status_code == 400


def test_the_access_rule_is_kept_before_the_host_check(start_server):
    server = start_server(METRICS_TOKEN=TOKEN)
    # Loopback is the trusted proxy here (tests/settings.py): the client it reports is public.
    public = {"Host": "kirb1:8000", "X-Forwarded-For": "203.0.113.9"}
    refused = httpx.get(server.url + "/metrics", headers=public)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden", refused.text
    assert httpx.get(server.url + "/metrics", headers={**public, "Authorization": "Bearer wrong"}).status_code == 403
    allowed = httpx.get(server.url + "/metrics", headers={**public, "Authorization": f"Bearer {TOKEN}"})
    assert allowed.status_code == 200 and "active_websocket_connections" in allowed.text
    # A private address behind the trusted proxy is a monitoring network (the default CIDRs).
    assert httpx.get(server.url + "/metrics", headers={"Host": "kirb1:8000", "X-Forwarded-For": "10.1.2.3"}).status_code == 200
