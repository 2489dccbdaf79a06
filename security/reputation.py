"""IP reputation: reports against messages posted from an IP make posting from it harder.

The level is the number of distinct reporters of messages from that IP within
IP_RISK_WINDOW_SECONDS, measured against IP_RISK_REPORT_THRESHOLDS.
"""

from dataclasses import dataclass

from kirb_project.conf import kirb_setting
from security import store

THROTTLE_LEVEL = 4
SHADOWBAN_LEVEL = 5


@dataclass(frozen=True)
class PostPolicy:
    cooldown_seconds: int
    throttled: bool  # posts visible from the poster's IP only
    shadowbanned: bool  # posts visible to the author only


def _reporters_key(ip):
    return store.key("reports", "ip", ip)


def record_report(poster_ip, reporter_key):
    """Count ``reporter_key`` against ``poster_ip``; returns the distinct reporters."""
    return store.add_distinct(_reporters_key(poster_ip), reporter_key, ttl_seconds=kirb_setting("IP_RISK_WINDOW_SECONDS"))


def risk_level(ip):
    reporters = store.redis().scard(_reporters_key(ip))
    return sum(1 for threshold in kirb_setting("IP_RISK_REPORT_THRESHOLDS") if reporters >= threshold)


def post_policy(ip):
    level = risk_level(ip)
    cooldowns = (kirb_setting("POST_COOLDOWN_SECONDS"), *kirb_setting("IP_RISK_POST_COOLDOWNS_SECONDS"))
    return PostPolicy(
        cooldown_seconds=cooldowns[min(level, len(cooldowns) - 1)],
        throttled=level >= THROTTLE_LEVEL,
        shadowbanned=level >= SHADOWBAN_LEVEL,
    )
