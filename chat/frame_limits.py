"""What one WebSocket client may send: frames per window, and error replies it gets.

A client that exceeds the frame rate is closed with 1008 (policy violation); error
replies are capped per socket, so a flood of junk cannot make the server write back
more than it reads. The consumers apply these on every incoming frame.
"""

import collections
import time

from core.conf import kirb_setting


class IncomingFrameLimit:
    """A sliding window over the last WS_MAX_INCOMING_FRAMES arrival times (bounded
    memory, exact count), and a budget of WS_MAX_ERROR_REPLIES error replies."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.max_frames = kirb_setting("WS_MAX_INCOMING_FRAMES")
        self.window_seconds = kirb_setting("WS_INCOMING_FRAME_WINDOW_SECONDS")
        self.arrivals = collections.deque(maxlen=max(1, self.max_frames))
        self.error_replies_left = kirb_setting("WS_MAX_ERROR_REPLIES")
        self.exceeded = False

    def allow_frame(self):
        """Count a frame; False (for good) once the window holds more than allowed."""
        now = self.clock()
        if len(self.arrivals) >= self.max_frames and (
            not self.arrivals or now - self.arrivals[0] < self.window_seconds
        ):
            self.exceeded = True
            return False
        self.arrivals.append(now)
        return True

    def allow_error_reply(self):
        if self.error_replies_left <= 0:
            return False
        self.error_replies_left -= 1
        return True


def for_socket(consumer):
    """The consumer's limit, made on its first frame."""
    limit = consumer.__dict__.get("incoming_frame_limit")
    if limit is None:
        limit = consumer.incoming_frame_limit = IncomingFrameLimit()
    return limit
