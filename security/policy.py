"""The abuse-defence rules as the chat services see them: one call per decision.

chat.services calls these; HTTP views and WebSocket consumers never do, except
``check_not_blocked``, which the transports run on every request and handshake.
"""

import enum
from contextlib import contextmanager
from functools import lru_cache
from typing import NamedTuple

from core import metrics
from core.conf import kirb_setting
from core.errors import PolicyViolation, RateLimited
from security import audit, automation, blocks, profiler, ratelimit, shadowban, store
from security.content_filter import ContentFilter, FilterConfig
from security.models import Reason


class Audience(enum.Enum):
    """Who may see an accepted post: security's verdict, in its own terms (chat maps it
    to the stored visibility)."""

    EVERYONE = "everyone"
    POSTERS_NETWORK = "posters_network"  # shadow-throttled: a risky address sees its own posts
    POSTER_ONLY = "poster_only"  # shadowbanned: only the author's composite key sees it
    REVIEW = "review"  # held: only the author sees it until a moderator decides


class Screening(NamedTuple):
    """security's verdict on an accepted post."""

    audience: Audience
    # Why the filter wanted a moderator to see it first, or "": kept whatever the
    # audience, so a shadowbanned author is told of a hold as anyone else is.
    review_reason: str


def check_not_blocked(identity):
    remaining = blocks.blocked_for(identity)
    if remaining:
        audit.rate_limited(
            identity, "ip_blocked", "You are temporarily blocked; try again later.", code="ip_blocked", retry_after_seconds=remaining
        )


def admit_action(identity, endpoint):
    """Every action (post, reveal, report, visitor count) passes the write limits first.

    ``endpoint`` names the action and its target for the burst profiler; None for an
    action a page load fires, which the profiler must not count.
    """
    steps = [ratelimit.burst_hit(identity), ratelimit.network_writes_hit(identity)]
    if endpoint is not None:
        steps.append(profiler.action_hit(identity, endpoint))
    results = iter(store.hits(steps))  # one round trip, stopping at the first refusal
    ratelimit.judge_burst(identity, next(results))
    ratelimit.judge_network_writes(identity, next(results))
    if endpoint is not None:
        profiler.judge_actions(identity, next(results)[2])


def screen_post(identity, text, honeypot):
    """Refuse a post (403/429) or return its ``Screening``."""
    if honeypot:
        audit.bot_detected(identity, Reason.HONEYPOT)
        shadowban.shadowban_key(identity, reason=Reason.HONEYPOT)
        audit.reject(identity, "honeypot", PolicyViolation("This post cannot be published.", code="policy_violation"))

    verdict = _content_filter().check(text)
    if verdict is not None:
        metrics.content_filter_violations_total.labels(rule=verdict.rule).inc()
        if _count_violation(identity):
            # Past the limit the refusal names no rule: a shadowbanned spammer must
            # not learn which variant of the text would get through.
            audit.reject(identity, "content_filter", PolicyViolation(_REPEATED_VIOLATION, code="policy_violation"))
        audit.reject(identity, "content_filter", PolicyViolation(verdict.message, code="content_filter", rule=verdict.rule))

    # The reputation, the post slot, the network's post ceiling and the shadowbans: one round trip.
    policy, shadowbanned = ratelimit.claim_post(identity)

    review_reason = _review_reason(text)
    if policy.shadowbanned or shadowbanned:
        return Screening(Audience.POSTER_ONLY, review_reason)
    rule = automation.automation_rule(identity)
    if rule is not None:
        audit.bot_detected(identity, rule)
    if review_reason:
        metrics.posts_held_total.labels(reason=review_reason).inc()
        return Screening(Audience.REVIEW, review_reason)
    return Screening(Audience.POSTERS_NETWORK if rule is not None or policy.throttled else Audience.EVERYONE, "")


def _review_reason(text):
    """Why a post the filter passed should wait for a moderator, or "" (HOLD_FOR_REVIEW)."""
    if not kirb_setting("HOLD_FOR_REVIEW"):
        return ""
    return _content_filter().review(text) or ""


_REPEATED_VIOLATION = "This post cannot be published."


@contextmanager
def post_slot_returned_on_failure(identity):
    """Around storing an accepted post: if storing fails (a 503), the poster gets the
    slot back and may retry at once, instead of meeting a cooldown for a post that
    never was."""
    try:
        yield
    except Exception:
        try:
            ratelimit.release_post_slot(identity)
        except Exception:  # Redis is down too: the slot expires with its cooldown
            pass
        raise


def _count_violation(identity):
    """FILTER_VIOLATION_LIMIT refused posts within the window earn a shadowban.

    Returns True once the identity is at or past the limit.
    """
    violations = store.distinct_in_window(
        store.key("violations", identity.key), window_ms=kirb_setting("FILTER_VIOLATION_WINDOW_SECONDS") * 1000
    )
    if violations == kirb_setting("FILTER_VIOLATION_LIMIT"):
        shadowban.shadowban_key(identity, reason=Reason.CONTENT_FILTER, seconds=kirb_setting("FILTER_SHADOWBAN_SECONDS"))
    return violations >= kirb_setting("FILTER_VIOLATION_LIMIT")


def screen_reveal(identity):
    """Refuse a reveal (always as an ordinary 429) or return the reveals left."""
    if shadowban.is_shadowbanned(identity):
        ratelimit.reject_reveal(identity, "shadowbanned_reveal", kirb_setting("REVEAL_WINDOW_SECONDS"))
    rule = automation.automation_rule(identity)
    if rule is not None:
        audit.bot_detected(identity, rule)
        ratelimit.reject_reveal(identity, "automation_reveal", kirb_setting("REVEAL_WINDOW_SECONDS"))
    reveals_left, claim = ratelimit.claim_reveal(identity)
    try:
        ratelimit.check_network_ceiling(identity, "reveal")
    except RateLimited:
        # Refused for its network, not for itself: the reveal was not made, so it
        # must not count against this client's own limit.
        ratelimit.return_reveal(identity, claim)
        raise
    return reveals_left


def check_report_ceiling(identity):
    ratelimit.check_network_ceiling(identity, "report")


def reporter_counts(identity):
    """Whether ``identity``'s reports count towards automatic action: never those of a
    shadowbanned or automated client (its report is still stored, and answered alike)."""
    return not shadowban.is_shadowbanned(identity) and automation.automation_rule(identity) is None


def cooldown(identity):
    """Read-only: what the post cooldown has left, consuming nothing."""
    remaining = ratelimit.post_cooldown_remaining(identity)
    return {"can_post": remaining <= 0, "remaining_seconds": int(-(-remaining // 1))}


def load_content_filter():
    """Build the content filter (its lists and model) now rather than during the first post."""
    _content_filter()


@lru_cache(maxsize=4)
def _filter_for(config):
    return ContentFilter(config)


def _content_filter():
    return _filter_for(FilterConfig.from_settings(kirb_setting))
