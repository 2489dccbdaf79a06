"""Quiet outages: one log line when a dependency goes down, a reminder now and then,
one line when it is back; counted in metrics instead of a traceback per request.

During an outage every request and every background loop fails the same way; a
traceback each (about 3.5 KB) buries the one line an operator needs.
"""

import logging
import threading
import time

from core import metrics
from core.conf import kirb_setting

logger = logging.getLogger(__name__)


class Outage:
    """The state of one dependency as this process sees it (thread-safe)."""

    def __init__(self, dependency):
        self.dependency = dependency
        self.down_since = None
        self._last_log = 0.0
        self._failures = 0
        self._lock = threading.Lock()

    @property
    def is_down(self):
        return self.down_since is not None

    def failed(self, error):
        """Record a failure caused by the dependency; logs only at start and as a reminder."""
        metrics.dependency_failures_total.labels(dependency=self.dependency).inc()
        now = time.monotonic()
        with self._lock:
            self._failures += 1
            if self.down_since is None:
                self.down_since = now
                self._last_log = now
                self._failures = 1
                metrics.dependency_outages_total.labels(dependency=self.dependency).inc()
                logger.error("%s unavailable: %s", self.dependency, _one_line(error))
            elif now - self._last_log >= kirb_setting("OUTAGE_REMINDER_SECONDS"):
                self._last_log = now
                logger.error(
                    "%s still unavailable after %.0f s (%d failures): %s",
                    self.dependency, now - self.down_since, self._failures, _one_line(error),
                )

    def recovered(self):
        if self.down_since is None:  # the common case: no lock taken
            return
        with self._lock:
            if self.down_since is None:
                return
            down_for, failures = time.monotonic() - self.down_since, self._failures
            self.down_since = None
        logger.warning("%s available again after %.1f s (%d failures)", self.dependency, down_for, failures)


def _one_line(error):
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:200]}"


database = Outage("database")
redis = Outage("redis")
channel_layer = Outage("channel layer")
