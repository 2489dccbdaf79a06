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

from kirb_project.conf import kirb_setting

UNKNOWN_FINGERPRINT = "unknown"
_FINGERPRINT_RE = re.compile(r"[A-Za-z0-9._:-]+")
FINGERPRINT_HEADER = "x-browser-fingerprint"


@dataclass(frozen=True)
class Identity:
    ip: str
    fingerprint: str
    key: str
    user_agent: str = ""
    # The TLS client fingerprint (JA3/JA4) a trusted load balancer measured; "" otherwise.
    tls_fingerprint: str = ""

    def with_fingerprint(self, fingerprint):
        """The same client under another fingerprint (a body ``browser_id`` without header)."""
        return build_identity(self.ip, fingerprint, self.user_agent, self.tls_fingerprint)


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


def _is_trusted(address):
    return any(address in network for network in settings.TRUSTED_PROXIES)


def peer_is_trusted(peer):
    address = parse_ip(peer or "")
    return address is not None and _is_trusted(address)


def client_ip(peer, headers):
    """The client address for a connection from ``peer`` with lower-cased ``headers``."""
    peer_address = parse_ip(peer or "")
    if peer_address is None:
        return peer or "0.0.0.0"
    if not _is_trusted(peer_address):
        return str(peer_address)

    cloudflare = parse_ip(headers.get("cf-connecting-ip", ""))
    if cloudflare is not None:
        return str(cloudflare)

    # Walk X-Forwarded-For from the right: every hop we trust vouches for the one to its
    # left; the first hop we do not trust is the client.
    vouched_by = peer_address
    for hop in reversed(headers.get("x-forwarded-for", "").split(",")):
        address = parse_ip(hop)
        if address is None:
            break
        if not _is_trusted(address):
            return str(address)
        vouched_by = address
    return str(vouched_by)


def clean_fingerprint(raw):
    """A fingerprint as sent, or ``unknown`` when missing or malformed (never an error)."""
    value = (raw or "").strip()
    if (
        not value
        or len(value) > kirb_setting("FINGERPRINT_MAX_CHARS")
        or not _FINGERPRINT_RE.fullmatch(value)
    ):
        return UNKNOWN_FINGERPRINT
    return value


def composite_key(ip, fingerprint):
    return hmac.new(
        settings.SERVER_SECRET.encode(), f"{ip}|{fingerprint}".encode(), hashlib.sha256
    ).hexdigest()


def build_identity(ip, fingerprint, user_agent="", tls_fingerprint=""):
    fingerprint = clean_fingerprint(fingerprint)
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


def identity_for_request(request):
    headers = {name.lower(): value for name, value in request.headers.items()}
    return _identity(request.META.get("REMOTE_ADDR", ""), headers, headers.get(FINGERPRINT_HEADER))


def identity_for_scope(scope):
    """The identity of a WebSocket handshake: browsers cannot set headers, hence ``?fp=``."""
    headers = {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])
    }
    peer = (scope.get("client") or ("", 0))[0]
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return _identity(peer, headers, headers.get(FINGERPRINT_HEADER) or (query.get("fp") or [None])[0])
