"""Rate limits, each one atomic Redis operation (security.store)."""

from kirb_project.conf import kirb_setting
from kirb_project.errors import RateLimited
from security import audit, blocks, store
from security.models import Reason


def check_burst(identity):
    """More write requests than BURST_LIMIT in BURST_WINDOW_SECONDS: 429 and an IP block."""
    allowed, _, _ = store.hit(
        store.key("burst", identity.key),
        limit=kirb_setting("BURST_LIMIT"),
        window_seconds=kirb_setting("BURST_WINDOW_SECONDS"),
    )
    if not allowed:
        seconds = kirb_setting("BURST_BLOCK_SECONDS")
        blocks.block_ip(identity.ip, reason=Reason.BURST_LIMIT, seconds=seconds)
        audit.reject(
            identity,
            "burst_limit",
            RateLimited("Too many requests at once; your network is blocked for a while.", code="burst_limit", retry_after_seconds=seconds),
            limit_type="burst",
        )


def check_ip_ceiling(identity):
    """Write requests per IP, however many fingerprints it claims."""
    allowed, retry_after, _ = store.hit(
        store.key("rate_limit", identity.ip, "ip_writes"),
        limit=kirb_setting("IP_WRITE_LIMIT"),
        window_seconds=kirb_setting("IP_WRITE_WINDOW_SECONDS"),
    )
    if not allowed:
        audit.reject(
            identity,
            "ip_write_limit",
            RateLimited("Too many requests from your network; try again shortly.", code="ip_rate_limited", retry_after_seconds=retry_after),
            limit_type="ip_writes",
        )


def _cooldown_key(identity):
    return store.key("cooldown", identity.key)


def claim_post_slot(identity, cooldown_seconds):
    """One post per cooldown: SET NX, so racing instances accept exactly one."""
    claimed, retry_after = store.claim(_cooldown_key(identity), cooldown_seconds)
    if not claimed:
        audit.reject(
            identity,
            "post_cooldown",
            RateLimited("You can post again after the cooldown.", code="post_cooldown", retry_after_seconds=retry_after),
            limit_type="post",
        )


def post_cooldown_remaining(identity):
    return store.remaining_seconds(_cooldown_key(identity)) or 0.0


def check_reveal(identity):
    """REVEAL_LIMIT reveals per window; returns how many are left."""
    allowed, retry_after, count = store.hit(
        store.key("rate_limit", identity.key, "reveal"),
        limit=kirb_setting("REVEAL_LIMIT"),
        window_seconds=kirb_setting("REVEAL_WINDOW_SECONDS"),
    )
    if not allowed:
        reject_reveal(identity, "reveal_limit", retry_after)
    return kirb_setting("REVEAL_LIMIT") - count


def reject_reveal(identity, rule, retry_after_seconds):
    """The one answer to every refused reveal, so a banned scraper cannot tell why."""
    audit.reject(
        identity,
        rule,
        RateLimited(
            "You have revealed as many numbers as allowed for now.",
            code="reveal_limit",
            retry_after_seconds=retry_after_seconds,
        ),
        limit_type="reveal",
    )
