"""IP reputation: reports against messages posted from a network make posting from it harder.

The level is the number of distinct reporter *networks* (IPv4 /24, IPv6 /48) that
reported messages posted from that network (IPv4 address, IPv6 /64) within
IP_RISK_WINDOW_SECONDS, measured against IP_RISK_REPORT_THRESHOLDS. One address
inventing fingerprints counts once, however many reports it files.
"""

from dataclasses import dataclass

from core.conf import kirb_setting
from security import store
from security.identity import network_of

THROTTLE_LEVEL = 4
SHADOWBAN_LEVEL = 5


@dataclass(frozen=True)
class PostPolicy:
    cooldown_seconds: int
    throttled: bool  # posts visible from the poster's IP only
    shadowbanned: bool  # posts visible to the author only


def reporters_key(ip):
    return store.key("reports", "ip", network_of(ip))


def record_report(poster_ip, reporter_network):
    """Count ``reporter_network`` against ``poster_ip``'s network; returns the distinct reporters."""
    return store.add_distinct(reporters_key(poster_ip), reporter_network, ttl_seconds=kirb_setting("IP_RISK_WINDOW_SECONDS"))


def _level(reporters):
    return sum(1 for threshold in kirb_setting("IP_RISK_REPORT_THRESHOLDS") if reporters >= threshold)


def cooldowns_by_reporters():
    """``(reporters, post cooldown seconds)`` from each level on, ascending: what
    ``post_policy_for(reporters).cooldown_seconds`` is, for a script to pick
    (security.ratelimit.claim_post)."""
    steps = {0, *(threshold for threshold in kirb_setting("IP_RISK_REPORT_THRESHOLDS") if threshold > 0)}
    return [(reporters, post_policy_for(reporters).cooldown_seconds) for reporters in sorted(steps)]


def post_policy_for(reporters):
    """The ``PostPolicy`` of a network with ``reporters`` distinct reporter networks."""
    level = _level(reporters)
    cooldowns = (kirb_setting("POST_COOLDOWN_SECONDS"), *kirb_setting("IP_RISK_POST_COOLDOWNS_SECONDS"))
    return PostPolicy(
        cooldown_seconds=cooldowns[min(level, len(cooldowns) - 1)],
        throttled=level >= THROTTLE_LEVEL,
        shadowbanned=level >= SHADOWBAN_LEVEL,
    )
