"""IP blocks: every request and handshake from a blocked IP is refused until it expires."""

import datetime
import logging

from django.utils import timezone

from kirb_project import metrics
from kirb_project.conf import kirb_setting
from security import store
from security.models import IPBlock

logger = logging.getLogger("kirb.security")


def _redis_key(ip):
    return store.key("blocked_ip", ip)


def block_ip(ip, *, reason, seconds):
    store.redis().set(_redis_key(ip), reason, ex=int(seconds))
    IPBlock.objects.create(ip=ip, reason=reason, expires_at=timezone.now() + datetime.timedelta(seconds=seconds))
    metrics.ip_blocks_total.labels(reason=reason).inc()
    logger.warning("ip block ip=%s reason=%s seconds=%s", ip, reason, seconds)


def blocked_for(ip):
    """Seconds the block on ``ip`` has left; 0 when it is not blocked."""
    remaining = store.remaining_seconds(_redis_key(ip))
    if remaining is None:  # a key without expiry, set by hand: still a block
        return float(kirb_setting("BURST_BLOCK_SECONDS"))
    return remaining
