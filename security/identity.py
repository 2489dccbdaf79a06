"""Who is asking: the real client IP, the browser fingerprint and the composite key.

Kirb has no accounts, so every limit and ban is keyed on these. The client IP is the
socket peer unless that peer is a trusted proxy; headers from anyone else are ignored,
or any client could choose its own address and walk around every IP limit.
"""

import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from django.conf import settings

from core.conf import kirb_setting

UNKNOWN_FINGERPRINT = "unknown"
FINGERPRINT_RE = re.compile(r"[A-Za-z0-9._:-]+")
FINGERPRINT_HEADER = "x-browser-fingerprint"


@dataclass(frozen=True)
class Identity:
    ip: str
    # As sent; a client without a valid one is ``unknown@<network>``: one high-risk
    # identity per network, never one global "unknown" that a ban would hit for all.
    fingerprint: str
    key: str
    user_agent: str = ""
    # The TLS client fingerprint (JA3/JA4) a trusted load balancer measured; "" otherwise.
    tls_fingerprint: str = ""

    @property
    def network(self):
        return network_of(self.ip)

    @property
    def reporter_network(self):
        """The wider network distinct reporters are counted by (one per /24 or /48)."""
        return network_of(self.ip, ipv4_prefix=24, ipv6_prefix=48)

    @property
    def public_id(self):
        """The id readers see for this identity's posts when its client names none."""
        return hmac.new(settings.SERVER_SECRET.encode(), f"public-id|{self.key}".encode(), hashlib.sha256).hexdigest()[:24]


def network_of(ip, *, ipv4_prefix=32, ipv6_prefix=64):
    """The network ``ip`` belongs to, as a string: what a fingerprint cannot multiply.

    An IPv4 address or an IPv6 /64 for ceilings, blocks and reputation (a household gets
    a /64); wider prefixes (IPv4 /24, IPv6 /48) when counting distinct reporters.
    """
    address = parse_ip(ip or "")
    if address is None:
        return ip or ""
    prefix = ipv4_prefix if address.version == 4 else ipv6_prefix
    if prefix == address.max_prefixlen:
        return str(address)
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def parse_ip(value):
    """An ``ip_address`` from a header value, tolerating ports and brackets; or None."""
    value = value.strip().strip('"')
    if value.startswith("["):  # "[2001:db8::1]:443"
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # "203.0.113.7:5678"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def ip_in_networks(ip, networks):
    """Whether ``ip`` (a string or an address) is in one of ``networks``; False when it
    is no address at all."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _is_trusted(address):
    return ip_in_networks(address, settings.TRUSTED_PROXIES)


def _is_cloudflare(address):
    return ip_in_networks(address, settings.CLOUDFLARE_PROXIES)


def peer_is_trusted(peer):
    address = parse_ip(peer or "")
    return address is not None and _is_trusted(address)


def client_ip(peer, headers):
    """The client address for a connection from ``peer`` with lower-cased ``headers``."""
    hop = parse_ip(peer or "")
    if hop is None:
        return peer or "0.0.0.0"
    if _is_trusted(hop):
        # Walk X-Forwarded-For from the right: every hop we trust vouches for the one
        # to its left; the first hop we do not trust is the client (or Cloudflare).
        for entry in reversed(headers.get("x-forwarded-for", "").split(",")):
            address = parse_ip(entry)
            if address is None:
                break
            hop = address
            if not _is_trusted(address):
                break
    if _is_cloudflare(hop):
        cloudflare_says = parse_ip(headers.get("cf-connecting-ip", ""))
        if cloudflare_says is not None:
            return str(cloudflare_says)
    return str(hop)


def is_missing_fingerprint(fingerprint):
    """``unknown`` (an older version's global identity) or ``unknown@<network>``."""
    return fingerprint == UNKNOWN_FINGERPRINT or fingerprint.startswith(UNKNOWN_FINGERPRINT + "@")


def is_valid_fingerprint(value):
    return bool(value) and len(value) <= kirb_setting("FINGERPRINT_MAX_CHARS") and bool(FINGERPRINT_RE.fullmatch(value))


def clean_fingerprint(raw, ip):
    """A fingerprint as sent, or ``unknown@<network>`` when missing or malformed (never an error)."""
    value = (raw or "").strip()
    if not is_valid_fingerprint(value):
        return f"{UNKNOWN_FINGERPRINT}@{network_of(ip)}"
    return value


def composite_key(ip, fingerprint):
    return hmac.new(
        settings.SERVER_SECRET.encode(), f"{ip}|{fingerprint}".encode(), hashlib.sha256
    ).hexdigest()


def build_identity(ip, fingerprint, user_agent="", tls_fingerprint=""):
    fingerprint = clean_fingerprint(fingerprint, ip)
    return Identity(
        ip=ip,
        fingerprint=fingerprint,
        key=composite_key(ip, fingerprint),
        user_agent=user_agent,
        tls_fingerprint=tls_fingerprint,
    )


def _identity(peer, headers, fingerprint):
    tls_fingerprint = ""
    if peer_is_trusted(peer):  # only a load balancer we trust can have measured it
        tls_fingerprint = headers.get(kirb_setting("TLS_FINGERPRINT_HEADER").lower(), "").strip()
    return build_identity(client_ip(peer, headers), fingerprint, headers.get("user-agent", ""), tls_fingerprint)


def request_peer_and_headers(request):
    """A Django request's peer address and its headers, lower-cased, as ``client_ip`` takes them."""
    return request.META.get("REMOTE_ADDR", ""), {name.lower(): value for name, value in request.headers.items()}


def identity_for_request(request):
    peer, headers = request_peer_and_headers(request)
    return _identity(peer, headers, headers.get(FINGERPRINT_HEADER))


def scope_peer_and_headers(scope):
    """An ASGI scope's peer address and its headers, lower-cased, as ``client_ip`` takes them."""
    headers = {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])
    }
    return (scope.get("client") or ("", 0))[0], headers


def identity_for_scope(scope):
    """The identity of a WebSocket handshake: browsers cannot set headers, hence ``?fp=``."""
    peer, headers = scope_peer_and_headers(scope)
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return _identity(peer, headers, headers.get(FINGERPRINT_HEADER) or (query.get("fp") or [None])[0])
