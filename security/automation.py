"""Automation signals: a denied TLS fingerprint, or a headless/automation user agent.

A flagged client may read, but its posts are shadow-throttled and its reveals refused.
The TLS fingerprint (JA3/JA4) is believed only from a trusted load balancer
(security.identity); the user-agent patterns are in data/automation_user_agents.txt.
"""

from functools import lru_cache
from pathlib import Path

from core.conf import kirb_setting

DATA_DIR = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def _user_agent_patterns():
    lines = (DATA_DIR / "automation_user_agents.txt").read_text(encoding="utf-8").splitlines()
    return tuple(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _denied_tls_fingerprints():
    return {item.strip().lower() for item in kirb_setting("TLS_FINGERPRINT_DENYLIST").split(",") if item.strip()}


def automation_rule(identity):
    """The detection rule ``identity`` trips, or None for an ordinary browser."""
    if identity.tls_fingerprint and identity.tls_fingerprint.lower() in _denied_tls_fingerprints():
        return "tls_fingerprint"
    user_agent = identity.user_agent.lower()
    if not user_agent.strip():
        return "missing_user_agent"
    if any(pattern in user_agent for pattern in _user_agent_patterns()):
        return "automation_user_agent"
    return None
