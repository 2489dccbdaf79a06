"""Blocks: every request and handshake from a blocked network, or a cooled-down
composite key, is refused until the block expires.

A network (IPv4 address, IPv6 /64) is blocked only when several identities on it
misbehave (``cool_down_offender``): behind a carrier NAT thousands of people share one
address, and one scraper among them must not lock the rest out. A single offender is
cooled down by its composite key alone.
"""

import datetime
import logging

from django.utils import timezone

from core import metrics
from core.conf import kirb_setting
from security import enforcement, store
from security.models import IPBlock

logger = logging.getLogger("kirb.security")


def block_ip(ip, *, reason, seconds):
    """Block ``ip`` for ``seconds`` (None: until a moderator lifts it); returns the record."""
    expires_at = None if seconds is None else timezone.now() + datetime.timedelta(seconds=seconds)
    record = enforcement.impose(IPBlock(ip=ip, reason=reason, expires_at=expires_at))
    metrics.ip_blocks_total.labels(reason=reason).inc()
    logger.warning("ip block ip=%s reason=%s seconds=%s", ip, reason, seconds)
    return record


def cool_down_offender(identity, *, reason, seconds):
    """Refuse ``identity``'s composite key (only) for ``seconds`` (ephemeral, Redis only),
    and count it among its network's offenders."""
    store.redis().set(_cooled_key(identity.key), reason, ex=int(seconds))
    _record_offender(identity, reason=reason)


def _record_offender(identity, *, reason):
    """Several distinct offenders on one network within the window block the network.
    Returns True when it did."""
    offenders = store.distinct_in_window(
        store.key("offenders", identity.network),
        identity.key,
        window_ms=kirb_setting("NETWORK_OFFENDERS_WINDOW_SECONDS") * 1000,
    )
    if offenders < kirb_setting("NETWORK_OFFENDERS_TO_BLOCK"):
        return False
    block_ip(identity.ip, reason=reason, seconds=kirb_setting("BURST_BLOCK_SECONDS"))
    return True


def _cooled_key(composite_key):
    return store.key("cooled", composite_key)


def blocked_for(identity):
    """Seconds the block on ``identity``'s network or composite key has left; 0 if none."""
    ttls = store.redis().pipeline(transaction=False)
    ttls.pttl(enforcement.block_key(identity.ip))
    ttls.pttl(_cooled_key(identity.key))
    remaining = 0.0
    for ttl_ms in ttls.execute():
        if ttl_ms == -1:  # permanent: tell the client the usual block duration
            return float(kirb_setting("BURST_BLOCK_SECONDS"))
        remaining = max(remaining, ttl_ms / 1000)
    return remaining
