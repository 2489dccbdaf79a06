"""Real client IP behind trusted proxies only, fingerprints, composite keys."""

import ipaddress

import pytest
from django.test import override_settings

from security.identity import build_identity, clean_fingerprint, client_ip, composite_key, network_of


def proxies(*cidrs, cloudflare=()):
    return override_settings(
        TRUSTED_PROXIES=[ipaddress.ip_network(c) for c in cidrs],
        CLOUDFLARE_PROXIES=[ipaddress.ip_network(c) for c in cloudflare],
    )


def test_headers_from_an_untrusted_peer_are_ignored():
    with proxies():
        headers = {"x-forwarded-for": "1.2.3.4", "cf-connecting-ip": "5.6.7.8"}
        assert client_ip("203.0.113.9", headers) == "203.0.113.9"


def test_forwarded_for_walks_from_the_right_past_trusted_proxies():
    with proxies("10.0.0.0/8", "127.0.0.1/32"):
        # The client forged "6.6.6.6"; nginx (10.0.0.2) appended the real address.
        headers = {"x-forwarded-for": "6.6.6.6, 198.51.100.20, 10.0.0.2"}
        assert client_ip("127.0.0.1", headers) == "198.51.100.20"
        assert client_ip("127.0.0.1", {"x-forwarded-for": "10.0.0.3"}) == "10.0.0.3"
        assert client_ip("127.0.0.1", {}) == "127.0.0.1"
        assert client_ip("127.0.0.1", {"x-forwarded-for": "garbage, 10.0.0.2"}) == "10.0.0.2"


def test_cloudflare_header_only_from_cloudflare_and_ipv6():
    headers = {"cf-connecting-ip": "2001:0db8:0000:0000:0000:0000:0000:0042"}
    with proxies("2001:db8:cf::/48"):  # a trusted proxy is not Cloudflare
        assert client_ip("2001:db8:cf::1", headers) == "2001:db8:cf::1"
    with proxies(cloudflare=["2001:db8:cf::/48"]):  # Cloudflare straight in front
        assert client_ip("2001:db8:cf::1", headers) == "2001:db8::42"
        assert client_ip("2001:db8:ff::1", headers) == "2001:db8:ff::1"
    with proxies("10.0.0.2/32", cloudflare=["198.51.100.0/24"]):  # Cloudflare, then nginx
        via_cloudflare = {**headers, "x-forwarded-for": "6.6.6.6, 198.51.100.9"}
        assert client_ip("10.0.0.2", via_cloudflare) == "2001:db8::42"
        around_cloudflare = {**headers, "x-forwarded-for": "203.0.113.5"}
        assert client_ip("10.0.0.2", around_cloudflare) == "203.0.113.5"
    with proxies("2001:db8:cf::/48"):
        assert client_ip("::ffff:192.0.2.7", {}) == "192.0.2.7"
        assert client_ip("2001:db8:cf::1", {"x-forwarded-for": "[2001:db8::7]:5555"}) == "2001:db8::7"


@pytest.mark.parametrize("raw", [None, "", "   ", "a" * 129, "fp with spaces", "<script>", "ümlaut"])
def test_missing_or_malformed_fingerprints_are_one_identity_per_network(raw):
    assert clean_fingerprint(raw, "203.0.113.9") == "unknown@203.0.113.9"
    assert clean_fingerprint(raw, "2001:db8:1:2::9") == clean_fingerprint(raw, "2001:db8:1:2::77") == "unknown@2001:db8:1:2::/64"
    assert build_identity("203.0.113.9", raw).key != build_identity("203.0.113.10", raw).key


def test_networks_for_ceilings_and_for_counting_reporters():
    assert network_of("198.51.100.7") == "198.51.100.7"
    assert network_of("2001:db8:1:2:3::9") == "2001:db8:1:2::/64"
    assert network_of("198.51.100.7", ipv4_prefix=24, ipv6_prefix=48) == "198.51.100.0/24"
    assert network_of("2001:db8:1:2:3::9", ipv4_prefix=24, ipv6_prefix=48) == "2001:db8:1::/48"
    assert build_identity("2001:db8:1:2::1", "fp").network == build_identity("2001:db8:1:2::99", "fp").network


def test_composite_key_is_an_hmac_of_ip_and_fingerprint(settings):
    key = composite_key("192.0.2.1", "abc123")
    assert len(key) == 64 and key == composite_key("192.0.2.1", "abc123")
    assert key != composite_key("192.0.2.2", "abc123") != composite_key("192.0.2.1", "abc124")
    settings.SERVER_SECRET = "another-secret-of-sufficient-length-000000"
    assert composite_key("192.0.2.1", "abc123") != key
    assert build_identity("192.0.2.1", "abc123").key == composite_key("192.0.2.1", "abc123")
