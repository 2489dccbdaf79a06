"""Forwarding headers are believed only from trusted proxies."""

import uuid

import httpx
import pytest

from tests.clients import BROWSER_USER_AGENT, new_fingerprint

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_client_forging_forwarding_headers_still_hits_its_ip_limit(start_server, redis_client):
    """Not a trusted proxy: a fresh X-Forwarded-For, CF-Connecting-IP and fingerprint per request."""
    server = start_server(TRUSTED_PROXIES="", KIRB_IP_WRITE_LIMIT="10")
    statuses = []
    for i in range(11):
        headers = {
            "X-Forwarded-For": f"203.0.113.{i + 1}",
            "CF-Connecting-IP": f"198.51.100.{i + 1}",
            "X-Browser-Fingerprint": new_fingerprint(),
            "User-Agent": BROWSER_USER_AGENT,
        }
        statuses.append(httpx.post(f"{server.url}/api/track-visitor", json={}, headers=headers).status_code)
    assert statuses == [200] * 10 + [429]
    from security import store

    assert redis_client.zcard(store.key("rate_limit", "127.0.0.1", "ip_writes")) == 10


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_one_limited(start_server, redis_client):
    server = start_server(TRUSTED_PROXIES="127.0.0.1/32", KIRB_IP_WRITE_LIMIT="10")
    real_client = f"203.0.113.{uuid.uuid4().int % 200 + 1}"

    def post(client_ip, forged=None):
        chain = f"{forged}, {client_ip}" if forged else client_ip
        headers = {"X-Forwarded-For": chain, "X-Browser-Fingerprint": new_fingerprint(), "User-Agent": BROWSER_USER_AGENT}
        return httpx.post(f"{server.url}/api/track-visitor", json={}, headers=headers).status_code

    # The client prepends forged addresses; the proxy appends the real one, which is limited.
    statuses = [post(real_client, forged=f"10.9.9.{i}") for i in range(11)]
    assert statuses == [200] * 10 + [429]
    assert post("203.0.113.250") == 200  # another client behind the same proxy is not
