"""Shadowbans: the banned keep posting and see their posts; nobody else does.

Two kinds: by composite key (honeypot, content filter, burst profiler) and by
fingerprint (reports: the same browser on any network). Redis is enforcement (TTL'd
keys, or none for permanent bans); every ban is also recorded in the database.
"""

import datetime
import logging

from django.utils import timezone

from kirb_project import metrics
from security import store
from security.models import Shadowban

logger = logging.getLogger("kirb.security")


def _redis_key(target_type, target):
    if target_type == Shadowban.Target.FINGERPRINT:
        return store.key("shadowban", "fp", target)
    return store.key("shadowban", target)


def shadowban(target_type, target, *, reason, seconds=None):
    """Ban ``target`` for ``seconds`` (None: permanently). Renews an existing ban."""
    redis_key = _redis_key(target_type, target)
    if seconds is None:
        store.redis().set(redis_key, reason)
    else:
        store.redis().set(redis_key, reason, ex=int(seconds))
    expires_at = None if seconds is None else timezone.now() + datetime.timedelta(seconds=seconds)
    Shadowban.objects.create(target_type=target_type, target=target, reason=reason, expires_at=expires_at)
    metrics.shadowbans_total.labels(reason=reason).inc()
    logger.warning("shadowban %s=%s reason=%s seconds=%s", target_type, target, reason, seconds)


def shadowban_key(identity, *, reason, seconds=None):
    shadowban(Shadowban.Target.KEY, identity.key, reason=reason, seconds=seconds)


def shadowban_fingerprint(fingerprint, *, reason, seconds=None):
    shadowban(Shadowban.Target.FINGERPRINT, fingerprint, reason=reason, seconds=seconds)


def is_shadowbanned(identity):
    """One round trip for both kinds."""
    by_key, by_fingerprint = store.redis().mget(
        _redis_key(Shadowban.Target.KEY, identity.key),
        _redis_key(Shadowban.Target.FINGERPRINT, identity.fingerprint),
    )
    return by_key is not None or by_fingerprint is not None
