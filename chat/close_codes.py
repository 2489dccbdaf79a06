"""WebSocket close codes Kirb uses, in one place (also listed in docs/API.md).

Standard codes where one fits; 4xxx mirror the HTTP status of the same refusal.
"""

UNSUPPORTED_DATA = 1003  # a binary frame: Kirb speaks JSON text only
POLICY_VIOLATION = 1008  # more frames than WS_MAX_INCOMING_FRAMES per WS_INCOMING_FRAME_WINDOW_SECONDS
MESSAGE_TOO_BIG = 1009  # an incoming frame over WS_MAX_INCOMING_FRAME_BYTES
INTERNAL_ERROR = 1011
SERVICE_RESTART = 1012  # the instance is draining: reconnect (elsewhere) with since=
TRY_AGAIN_LATER = 1013  # a dependency is down or the instance is full
BAD_REQUEST = 4400  # invalid query string (location, since)
SLOW_CONSUMER = 4408  # the client stopped reading (WS_MAX_UNSENT_BYTES, or a full outbox): reconnect with since=
RATE_LIMITED = 4429  # the IP is blocked, or has too many sockets open


def for_error(error):
    """The close code for a refusal: 4000 + its HTTP status; 1012 or 1013 for a 503."""
    if error.code == "draining":
        return SERVICE_RESTART
    return TRY_AGAIN_LATER if error.status >= 500 else 4000 + error.status
