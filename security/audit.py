"""One line to the ``kirb.security`` log and one labelled counter per refusal.

Logs name the composite key only: never a phone number, and never the raw IP and
fingerprint pair the key hides.
"""

import datetime
import logging

from django.utils import timezone

from core import metrics, retention
from core.errors import RateLimited

logger = logging.getLogger("kirb.security")


def reject(identity, rule, error, *, limit_type=None):
    """Count and log the refusal of ``identity`` under ``rule``, then raise ``error``."""
    metrics.security_rejections_total.labels(rule=rule).inc()
    if limit_type:
        metrics.rate_limit_rejections_total.labels(type=limit_type).inc()
    logger.info("rejected rule=%s key=%s status=%s", rule, identity.key, error.status)
    raise error


def rate_limited(identity, rule, message, *, code, retry_after_seconds, limit_type=None):
    """``reject`` with a 429 saying ``message``, retry after ``retry_after_seconds``."""
    reject(identity, rule, RateLimited(message, code=code, retry_after_seconds=retry_after_seconds), limit_type=limit_type)


def bot_detected(identity, rule):
    from security.models import BotDetection

    metrics.bot_detections_total.labels(rule=rule).inc()
    logger.warning("bot detected rule=%s key=%s", rule, identity.key)
    BotDetection.objects.create(rule=rule, composite_key=identity.key, ip=identity.ip)


def purge_bot_detections(days, *, dry_run=False):
    """Delete the bot detections older than ``days``; returns ``(count, cutoff)``."""
    from security.models import BotDetection

    cutoff = timezone.now() - datetime.timedelta(days=days)
    old = BotDetection.objects.filter(created_at__lt=cutoff)
    return retention.purge([old], what=f"bot detections older than {cutoff.isoformat()}", dry_run=dry_run), cutoff
