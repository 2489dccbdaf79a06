"""Writing enforcement state: a record in the database, the copy in Redis made to match.

A target (a composite key, a fingerprint, an IP) may have several active records (a
24-hour profiler ban, then a permanent honeypot ban); its Redis key always reflects
the longest of them. Every writer goes through ``sync_target``: imposing a ban, a
moderator lifting or extending one, and ``sync_bans`` after Redis lost its data.
"""

from django.utils import timezone

from security import store
from security.identity import network_of
from security.models import IPBlock, Shadowban


def shadowban_key(target_type, target):
    if target_type == Shadowban.Target.FINGERPRINT:
        return store.key("shadowban", "fp", target)
    return store.key("shadowban", target)


def block_key(ip):
    """Blocks hold for the whole network of ``ip`` (an IPv4 address, an IPv6 /64)."""
    return store.key("blocked_ip", network_of(ip))


def redis_key(record):
    if isinstance(record, IPBlock):
        return block_key(record.ip)
    return shadowban_key(record.target_type, record.target)


def _active_for_target(record):
    if isinstance(record, IPBlock):  # every block on the same network shares one key
        network = network_of(record.ip)
        return [block for block in IPBlock.objects.active() if network_of(block.ip) == network]
    return Shadowban.objects.active().filter(target_type=record.target_type, target=record.target)


def sync_target(record):
    """Make Redis enforce exactly what the active records for ``record``'s target say."""
    active = list(_active_for_target(record))
    key = redis_key(record)
    if not active:
        store.redis().delete(key)
        return
    permanent = [r for r in active if r.expires_at is None]
    longest = permanent[0] if permanent else max(active, key=lambda r: r.expires_at)
    if longest.expires_at is None:
        store.redis().set(key, longest.reason)
    else:
        milliseconds_left = (longest.expires_at - timezone.now()).total_seconds() * 1000
        store.redis().set(key, longest.reason, px=max(1, int(milliseconds_left)))


def impose(record):
    record.save()
    sync_target(record)
    return record
