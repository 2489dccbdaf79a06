"""Shadowbans: the banned keep posting and see their posts; nobody else does.

Two kinds: by composite key (honeypot, content filter, burst profiler) and by
fingerprint (reports: the same browser on any network).
"""

import datetime
import logging

from django.utils import timezone

from core import metrics
from security import enforcement, store
from security.models import Shadowban

logger = logging.getLogger("kirb.security")


def shadowban(target_type, target, *, reason, seconds=None):
    """Ban ``target`` for ``seconds`` (None: permanently); returns the record."""
    expires_at = None if seconds is None else timezone.now() + datetime.timedelta(seconds=seconds)
    record = enforcement.impose(Shadowban(target_type=target_type, target=target, reason=reason, expires_at=expires_at))
    metrics.shadowbans_total.labels(reason=reason).inc()
    logger.warning("shadowban %s=%s reason=%s seconds=%s", target_type, target, reason, seconds)
    return record


def shadowban_key(identity, *, reason, seconds=None):
    return shadowban(Shadowban.Target.KEY, identity.key, reason=reason, seconds=seconds)


def shadowban_fingerprint(fingerprint, *, reason, seconds=None):
    return shadowban(Shadowban.Target.FINGERPRINT, fingerprint, reason=reason, seconds=seconds)


def fingerprint_is_shadowbanned(fingerprint):
    return bool(store.redis().exists(enforcement.shadowban_key(Shadowban.Target.FINGERPRINT, fingerprint)))


def is_shadowbanned(identity):
    """One round trip for both kinds."""
    return is_shadowbanned_from(store.redis().mget(*shadowban_keys(identity)))


def shadowban_keys(identity):
    """The keys whose values ``is_shadowbanned_from`` judges."""
    return (
        enforcement.shadowban_key(Shadowban.Target.KEY, identity.key),
        enforcement.shadowban_key(Shadowban.Target.FINGERPRINT, identity.fingerprint),
    )


def is_shadowbanned_from(values):
    by_key, by_fingerprint = values
    return by_key is not None or by_fingerprint is not None
