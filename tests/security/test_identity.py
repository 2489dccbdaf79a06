"""Real client IP behind trusted proxies only, fingerprints, composite keys."""

import ipaddress

import pytest
from django.test import override_settings

from security.identity import UNKNOWN_FINGERPRINT, build_identity, clean_fingerprint, client_ip, composite_key


def proxies(*cidrs):
    return override_settings(TRUSTED_PROXIES=[ipaddress.ip_network(c) for c in cidrs])


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


def test_cloudflare_header_only_from_a_trusted_peer_and_ipv6():
    with proxies("2001:db8:cf::/48"):
        headers = {"cf-connecting-ip": "2001:0db8:0000:0000:0000:0000:0000:0042"}
        assert client_ip("2001:db8:cf::1", headers) == "2001:db8::42"
        assert client_ip("2001:db8:ff::1", headers) == "2001:db8:ff::1"
        assert client_ip("::ffff:192.0.2.7", {}) == "192.0.2.7"
        assert client_ip("2001:db8:cf::1", {"x-forwarded-for": "[2001:db8::7]:5555"}) == "2001:db8::7"


@pytest.mark.parametrize("raw", [None, "", "   ", "a" * 129, "fp with spaces", "<script>", "ümlaut"])
def test_missing_or_malformed_fingerprints_are_unknown(raw):
    assert clean_fingerprint(raw) == UNKNOWN_FINGERPRINT


def test_composite_key_is_an_hmac_of_ip_and_fingerprint(settings):
    key = composite_key("192.0.2.1", "abc123")
    assert len(key) == 64 and key == composite_key("192.0.2.1", "abc123")
    assert key != composite_key("192.0.2.2", "abc123") != composite_key("192.0.2.1", "abc124")
    settings.SERVER_SECRET = "another-secret-of-sufficient-length-000000"
    assert composite_key("192.0.2.1", "abc123") != key
    assert build_identity("192.0.2.1", "abc123").key == composite_key("192.0.2.1", "abc123")
