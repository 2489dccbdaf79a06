"""IP blocks: every request and handshake from a blocked IP is refused until it expires."""

import datetime
import logging

from django.utils import timezone

from kirb_project import metrics
from kirb_project.conf import kirb_setting
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


def blocked_for(ip):
    """Seconds the block on ``ip`` has left; 0 when it is not blocked."""
    remaining = store.remaining_seconds(enforcement.block_key(ip))
    if remaining is None:  # permanent: tell the client the usual block duration
        return float(kirb_setting("BURST_BLOCK_SECONDS"))
    return remaining
