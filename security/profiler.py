"""The burst profiler: many distinct actions in a blink is a script, not a person.

Only *actions* count (revealing, posting, reporting; each identified with its target,
so five reveals of five messages are five endpoints). What a page load fires (history,
stats, cooldown, visitor tracking, the WebSocket) never counts, so a real browser
opening the page, however many calls it makes at once, cannot trip it. Tripping it
shadowbans and cools down the composite key; the network is blocked only when several
keys on it trip (security.blocks.cool_down_offender).
"""

from core.conf import kirb_setting
from security import audit, blocks, shadowban, store
from security.models import Reason


def action_hit(identity, endpoint):
    """Recording ``endpoint`` among ``identity``'s distinct actions in the window: a step
    of ``store.hits`` (policy.admit_action counts it with the write limits)."""
    return store.Hit(store.key("profile", identity.key), window_ms=kirb_setting("PROFILER_WINDOW_MS"), member=endpoint)


def judge_actions(identity, distinct):
    """``distinct`` actions in the window: at PROFILER_DISTINCT_ENDPOINTS, a script."""
    if distinct >= kirb_setting("PROFILER_DISTINCT_ENDPOINTS"):
        audit.bot_detected(identity, Reason.BURST_PROFILER)
        shadowban.shadowban_key(identity, reason=Reason.BURST_PROFILER, seconds=kirb_setting("PROFILER_SHADOWBAN_SECONDS"))
        seconds = kirb_setting("PROFILER_BLOCK_SECONDS")
        blocks.cool_down_offender(identity, reason=Reason.BURST_PROFILER, seconds=seconds)
        audit.rate_limited(
            identity, "burst_profiler", "Too many requests; try again later.", code="ip_blocked", retry_after_seconds=seconds
        )
