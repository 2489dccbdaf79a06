"""Rate limits, each one atomic Redis operation (security.store)."""

import uuid

from core.conf import kirb_setting
from security import audit, blocks, reputation, shadowban, store
from security.models import Reason


def _hit(window_key, limit_name, member=None):
    """One hit in the sliding window of KIRB's ``<limit_name>_LIMIT`` per
    ``<limit_name>_WINDOW_SECONDS``: ``(allowed, retry_after_seconds, count)``."""
    return store.hit(
        window_key,
        limit=kirb_setting(f"{limit_name}_LIMIT"),
        window_seconds=kirb_setting(f"{limit_name}_WINDOW_SECONDS"),
        member=member,
    )


def _window(window_key, limit_name):
    """``_hit``'s step for ``store.hits``."""
    return store.Hit(
        window_key,
        limit=kirb_setting(f"{limit_name}_LIMIT"),
        window_ms=kirb_setting(f"{limit_name}_WINDOW_SECONDS") * 1000,
    )


# The write limits every action passes (policy.admit_action), counted together in one
# round trip (store.hits): each ``*_hit`` is the step, each ``judge_*`` its verdict.


def burst_hit(identity):
    return _window(store.key("burst", identity.key), "BURST")


def judge_burst(identity, result):
    """More write requests than BURST_LIMIT in BURST_WINDOW_SECONDS: 429, and this
    composite key cooled down (its network blocked only if it is one of several)."""
    allowed, _, _ = result
    if not allowed:
        seconds = kirb_setting("BURST_BLOCK_SECONDS")
        blocks.cool_down_offender(identity, reason=Reason.BURST_LIMIT, seconds=seconds)
        audit.rate_limited(
            identity, "burst_limit", "Too many requests at once; try again later.",
            code="burst_limit", retry_after_seconds=seconds, limit_type="burst",
        )  # fmt: skip


def network_writes_hit(identity):
    return _window(_network_key(identity, "ip_writes"), "IP_WRITE")


def judge_network_writes(identity, result):
    """Write requests per network, however many fingerprints it claims."""
    _judge_network(identity, "ip_writes", result)


def check_network_ceiling(identity, action):
    """The per-network ceiling of ``action`` (``post``, ``reveal`` or ``report``): what a
    scraper rotating fingerprints on one address runs into, and a household never does."""
    _network_hit(identity, action, f"NETWORK_{action.upper()}")


def _network_key(identity, limit_type):
    return store.key("rate_limit", identity.network, limit_type)


def _network_hit(identity, limit_type, limit_name):
    _judge_network(identity, limit_type, _hit(_network_key(identity, limit_type), limit_name))


def _judge_network(identity, limit_type, result):
    allowed, retry_after, _ = result
    if not allowed:
        audit.rate_limited(
            identity, f"network_{limit_type}_limit", "Too many requests from your network; try again later.",
            code="ip_rate_limited", retry_after_seconds=retry_after, limit_type=f"network_{limit_type}",
        )  # fmt: skip


def _cooldown_key(identity):
    return store.key("cooldown", identity.key)


def claim_post(identity):
    """After the content filter, in one round trip (store.claim_then_hit): the network's
    reputation (reputation.post_policy_for), the post slot for its cooldown (SET NX, so
    racing instances accept exactly one post), the network's post ceiling
    (``check_network_ceiling``, the slot given back if it refuses) and whether
    ``identity`` is shadowbanned (shadowban.is_shadowbanned). Returns
    ``(PostPolicy, shadowbanned)``, or refuses (429) as those would."""
    reporters, claim, ceiling, values = store.claim_then_hit(
        reputation.reporters_key(identity.ip),
        _cooldown_key(identity),
        reputation.cooldowns_by_reporters(),
        _window(_network_key(identity, "post"), "NETWORK_POST"),
        shadowban.shadowban_keys(identity),
    )
    _judge_post_slot(identity, claim)
    _judge_network(identity, "post", ceiling)
    return reputation.post_policy_for(reporters), shadowban.is_shadowbanned_from(values)


def _judge_post_slot(identity, claim):
    claimed, retry_after = claim
    if not claimed:
        audit.rate_limited(
            identity, "post_cooldown", "You can post again after the cooldown.",
            code="post_cooldown", retry_after_seconds=retry_after, limit_type="post",
        )  # fmt: skip


def release_post_slot(identity):
    """Give the post slot back: the post it was claimed for was refused after all."""
    store.redis().delete(_cooldown_key(identity))


def post_cooldown_remaining(identity):
    return store.remaining_seconds(_cooldown_key(identity)) or 0.0


def _reveal_key(identity):
    return store.key("rate_limit", identity.key, "reveal")


def claim_reveal(identity):
    """REVEAL_LIMIT reveals per window. Returns ``(reveals left, claim)``; the claim is
    for ``return_reveal`` if the reveal is refused after all."""
    claim = uuid.uuid4().hex
    allowed, retry_after, count = _hit(_reveal_key(identity), "REVEAL", member=claim)
    if not allowed:
        reject_reveal(identity, "reveal_limit", retry_after)
    return kirb_setting("REVEAL_LIMIT") - count, claim


def return_reveal(identity, claim):
    store.unhit(_reveal_key(identity), claim)


def reject_reveal(identity, rule, retry_after_seconds):
    """The one answer to every refused reveal, so a banned scraper cannot tell why."""
    audit.rate_limited(
        identity, rule, "You have revealed as many numbers as allowed for now.",
        code="reveal_limit", retry_after_seconds=retry_after_seconds, limit_type="reveal",
    )  # fmt: skip
