"""Moderators' and operators' actions on shadowbans and IP blocks.

Used by the Django admin and the manage.py commands; each action updates the record
and then Redis (security.enforcement), so it takes effect on every instance at once.
"""

import datetime
import logging

from django.utils import timezone

from security import blocks, enforcement, shadowban, store
from security.models import IPBlock, Reason, Shadowban

logger = logging.getLogger("kirb.security")

# Present in Redis while its enforcement state is loaded. A Redis that lost its data
# (it may keep nothing on disk) lacks it, and the next instance to start rebuilds.
SYNC_MARKER = ("state", "synced")


def lift(record):
    record.lifted_at = timezone.now()
    record.save(update_fields=["lifted_at"])
    enforcement.sync_target(record)
    logger.warning("lifted: %s", record)


def extend(record, seconds):
    """Add ``seconds`` to an expiring record (counted from now if it already expired)."""
    if record.expires_at is None:
        return
    record.expires_at = max(record.expires_at, timezone.now()) + datetime.timedelta(seconds=seconds)
    record.save(update_fields=["expires_at"])
    enforcement.sync_target(record)


def make_permanent(record):
    record.expires_at = None
    record.save(update_fields=["expires_at"])
    enforcement.sync_target(record)


def lift_all(queryset):
    """Lift every active record in ``queryset``; returns how many."""
    records = list(queryset.active())
    for record in records:
        lift(record)
    return len(records)


def unban(target):
    """Lift the shadowbans of a composite key or fingerprint."""
    return lift_all(Shadowban.objects.filter(target=target))


def unblock_ip(ip):
    return lift_all(IPBlock.objects.filter(ip=ip))


def shadowban_by_moderator(target_type, target, seconds=None):
    return shadowban.shadowban(target_type, target, reason=Reason.MODERATOR, seconds=seconds)


def block_by_moderator(ip, seconds=None):
    return blocks.block_ip(ip, reason=Reason.MODERATOR, seconds=seconds)


def sync_bans():
    """Rebuild all enforcement state in Redis from the database; returns the counts."""
    targets = {}
    for record in [*Shadowban.objects.active(), *IPBlock.objects.active()]:
        targets.setdefault(enforcement.redis_key(record), record)
    for record in targets.values():
        enforcement.sync_target(record)
    store.redis().set(store.key(*SYNC_MARKER), timezone.now().isoformat())
    counts = {
        "shadowbans": sum(isinstance(r, Shadowban) for r in targets.values()),
        "ip_blocks": sum(isinstance(r, IPBlock) for r in targets.values()),
    }
    logger.warning("enforcement state rebuilt from the database: %s", counts)
    return counts


def sync_bans_if_redis_lost():
    """``sync_bans`` when Redis holds no Kirb enforcement state (it lost its data)."""
    if store.redis().exists(store.key(*SYNC_MARKER)):
        return None
    return sync_bans()


# --- Checking what a moderator or operator typed (the admin and manage.py commands) ----


def clean_key(value):
    """A composite key as Kirb stores it: 64 hexadecimal characters, lower case."""
    import re

    key = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", key):
        raise ValueError(f"{value!r} is not a composite key: a composite key is 64 hexadecimal characters.")
    return key


def clean_fingerprint(value, *, to_lift=False):
    """A browser fingerprint as Kirb accepts one (security.identity).

    Banning a missing fingerprint (``unknown`` or ``unknown@<network>``) is refused: it
    stands for every client on a network that sends none. Lifting one is allowed, so a
    ban an older version made on the global ``unknown`` can be undone.
    """
    from security.identity import is_missing_fingerprint, is_valid_fingerprint

    fingerprint = value.strip()
    is_missing = is_missing_fingerprint(fingerprint)
    if is_missing and to_lift:
        return fingerprint
    if is_missing:
        raise ValueError(
            f"{fingerprint!r} stands for every client on a network that sends no fingerprint; "
            "shadowban their composite keys instead."
        )
    if not is_valid_fingerprint(fingerprint):
        raise ValueError(
            f"{value!r} is not a fingerprint Kirb accepts: use 1-128 characters of A-Z a-z 0-9 . _ : -"
        )
    return fingerprint


def clean_target(target_type, value):
    if target_type == Shadowban.Target.FINGERPRINT:
        return clean_fingerprint(value)
    return clean_key(value)


def clean_ip(value):
    """An IP address spelt the way Kirb keys blocks (as security.identity.client_ip does)."""
    import ipaddress

    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address: give one like 203.0.113.7 or 2001:db8::1.") from None
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)


def clean_ip_to_block(value):
    """``clean_ip``, refusing a trusted proxy: its clients would not be blocked, only it."""
    from security.identity import peer_is_trusted

    ip = clean_ip(value)
    if peer_is_trusted(ip):
        raise ValueError(
            f"{ip} is a trusted proxy (TRUSTED_PROXIES): requests through it are attributed to "
            "the client addresses it forwards, so block those instead."
        )
    return ip


# --- Status ----------------------------------------------------------------------------


def enforcement_counts():
    """Active shadowbans and IP blocks: records and distinct targets in the database, and
    the keys Redis enforces (equal to the targets after ``sync_bans``; None when Redis
    is unavailable)."""
    from redis.exceptions import RedisError

    def redis_keys(prefix):
        glob_safe = "".join(f"[{c}]" if c in "*?[]\\" else c for c in prefix)
        return sum(1 for _ in store.redis().scan_iter(match=glob_safe + "*", count=1000))

    shadowbans = Shadowban.objects.active()
    ip_blocks = IPBlock.objects.active()
    counts = {
        "shadowbans": shadowbans.count(),
        "shadowban_targets": shadowbans.values("target_type", "target").distinct().count(),
        "ip_blocks": ip_blocks.count(),
        "ip_block_targets": ip_blocks.values("ip").distinct().count(),
    }
    try:
        redis_counts = {
            "shadowban_keys": redis_keys(store.key("shadowban") + ":"),
            "ip_block_keys": redis_keys(store.key("blocked_ip") + ":"),
            "synced": bool(store.redis().exists(store.key(*SYNC_MARKER))),
        }
    except RedisError:
        redis_counts = {"shadowban_keys": None, "ip_block_keys": None, "synced": None}
    return {**counts, **redis_counts}
