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


def record_action(identity, endpoint):
    distinct = store.distinct_in_window(
        store.key("profile", identity.key), endpoint, window_ms=kirb_setting("PROFILER_WINDOW_MS")
    )
    if distinct >= kirb_setting("PROFILER_DISTINCT_ENDPOINTS"):
        audit.bot_detected(identity, Reason.BURST_PROFILER)
        shadowban.shadowban_key(identity, reason=Reason.BURST_PROFILER, seconds=kirb_setting("PROFILER_SHADOWBAN_SECONDS"))
        seconds = kirb_setting("PROFILER_BLOCK_SECONDS")
        blocks.cool_down_offender(identity, reason=Reason.BURST_PROFILER, seconds=seconds)
        audit.rate_limited(
            identity, "burst_profiler", "Too many requests; try again later.", code="ip_blocked", retry_after_seconds=seconds
        )
