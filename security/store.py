"""Enforcement state in Redis: key names and the atomic operations on them.

Every read-then-write runs as one Lua script, so instances racing on one identity
cannot exceed a limit. Scripts take the time from Redis (TIME), so instances with
skewed clocks agree on windows. Keys live under ``<REDIS_PREFIX>:sec:``.
"""

import uuid
from functools import cache

from django.conf import settings
from django_redis import get_redis_connection

# One step in a sliding window: a sorted set of hits scored by time in ms. With a
# limit (>= 0), a hit is counted unless the window holds ``limit`` already; with limit
# -1, ``member`` is recorded among the distinct members and the step is always allowed.
# Returns count, retry_after_ms, allowed (1/0). Each script below starts with it.
_WINDOW_STEP = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function window_step(window_key, limit, window, member)
    redis.call('ZREMRANGEBYSCORE', window_key, '-inf', now - window)
    local count = 0
    if limit >= 0 then
        count = redis.call('ZCARD', window_key)
        if count >= limit then
            local oldest = redis.call('ZRANGE', window_key, 0, 0, 'WITHSCORES')
            return count, tonumber(oldest[2]) + window - now, 0
        end
    end
    redis.call('ZADD', window_key, now, member)
    redis.call('PEXPIRE', window_key, window)
    if limit < 0 then
        return redis.call('ZCARD', window_key), 0, 1
    end
    return count + 1, 0, 1
end
"""

# Several window steps in one round trip, in order, stopping at the first that refuses:
# KEYS[i] with ARGV limit, window_ms, member per step. Returns {count, retry_after_ms,
# allowed (1/0)} per step run; a refused step is the last.
_WINDOWS = _WINDOW_STEP + """
local results = {}
for i, window_key in ipairs(KEYS) do
    local count, retry_after, allowed = window_step(
        window_key, tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1]), ARGV[3 * i]
    )
    table.insert(results, count)
    table.insert(results, retry_after)
    table.insert(results, allowed)
    if allowed == 0 then
        return results
    end
end
return results
"""

# A claim whose length depends on a set's size, then a window step, then reads, in one
# round trip. KEYS: the set, the claim, the window, the keys to read. ARGV: the
# window's limit, window_ms, member; then pairs (size at least, claim ms), ascending.
# Returns {size, claimed (1/0), claim's pttl if not}, and once claimed {window allowed
# (1/0), retry_after_ms, count}: a refused window gives the claim back (DEL); allowed,
# the values of the keys to read follow (nil for a missing one).
_CLAIM_THEN_HIT = _WINDOW_STEP + """
local size = redis.call('SCARD', KEYS[1])
local claim_ms = 0
for i = 4, #ARGV, 2 do
    if size >= tonumber(ARGV[i]) then
        claim_ms = tonumber(ARGV[i + 1])
    end
end
if not redis.call('SET', KEYS[2], 1, 'NX', 'PX', claim_ms) then
    return {size, 0, redis.call('PTTL', KEYS[2])}
end
local count, retry_after, allowed = window_step(KEYS[3], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3])
if allowed == 0 then
    redis.call('DEL', KEYS[2])
    return {size, 1, 0, 0, retry_after, count}
end
local result = {size, 1, 0, 1, 0, count}
for i = 4, #KEYS do
    table.insert(result, redis.call('GET', KEYS[i]))
end
return result
"""

# A set of distinct members with a TTL renewed on every add: KEYS[1]; ARGV: member,
# ttl_seconds (0: no expiry). Returns the set's size.
_ADD_DISTINCT = """
redis.call('SADD', KEYS[1], ARGV[1])
if tonumber(ARGV[2]) > 0 then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return redis.call('SCARD', KEYS[1])
"""


@cache
def redis():
    """One client per process, whatever context asks. Django's cache handler keeps its
    clients per context, so a request task copied from a context in which nothing had
    touched Redis yet builds a client of its own (~70 µs). ``manage.py serve`` touches
    Redis at start-up, so its requests share one anyway; a test or another server may not."""
    return get_redis_connection("default")


def key(*parts):
    return ":".join([settings.REDIS_PREFIX, "sec", *map(str, parts)])


def _script(source):
    """``run(keys, args)``: the Lua ``source`` run by EVALSHA (loaded on a miss). The
    Script object is made for every call (a hash of the source, ~3 µs), so none keeps a
    client alive: a registry of them by client kept every request's client (~15 KB)
    where requests had clients of their own."""

    def run(keys, args):
        return redis().register_script(source)(keys=keys, args=args)

    return run


_add_distinct = _script(_ADD_DISTINCT)
_windows = _script(_WINDOWS)
_claim_then_hit = _script(_CLAIM_THEN_HIT)


def hit(window_key, *, limit, window_seconds, member=None):
    """Count one hit in a sliding window. Returns ``(allowed, retry_after_seconds, count)``.

    ``member`` names the hit (default: a new name), for ``unhit`` to take it back.
    """
    return hits([Hit(window_key, limit=limit, window_ms=window_seconds * 1000, member=member)])[0]


def unhit(window_key, member):
    """Take back the hit ``member`` counted: the action it was for was refused after all."""
    redis().zrem(window_key, member)


def distinct_in_window(window_key, member=None, *, window_ms):
    """Record ``member`` (default: a new one) and count the distinct members in the window."""
    return hits([Hit(window_key, window_ms=window_ms, member=member)])[0][2]


class Hit:
    """One step of ``hits``: what ``hit`` counts (a ``limit``), or with ``limit`` None
    what ``distinct_in_window`` records."""

    __slots__ = ("window_key", "limit", "window_ms", "member")

    def __init__(self, window_key, *, limit=None, window_ms, member=None):
        self.window_key, self.limit, self.window_ms = window_key, limit, int(window_ms)
        self.member = member or uuid.uuid4().hex


def hits(steps):
    """``steps`` (``Hit``s) in one round trip, in order, as ``hit`` and
    ``distinct_in_window`` would one by one, stopping at the first refused: returns
    ``(allowed, retry_after_seconds, count)`` for each step run (a distinct step is
    always allowed, its count the distinct members)."""
    args = []
    for step in steps:
        args += [-1 if step.limit is None else step.limit, step.window_ms, step.member]
    flat = _windows([step.window_key for step in steps], args)
    return [(bool(flat[i + 2]), flat[i + 1] / 1000, flat[i]) for i in range(0, len(flat), 3)]


def claim_then_hit(sized_set, claim_key, claim_seconds_by_size, window, read_keys):
    """One round trip: ``claim(claim_key, seconds)`` for as many ``seconds`` as the last
    ``(size, seconds)`` of ``claim_seconds_by_size`` (ascending) that ``sized_set``'s size
    reaches; once claimed, ``window`` (a ``Hit`` with a limit) counted as ``hit`` does,
    the claim deleted again if the window refuses; once counted, ``read_keys`` read.

    Returns ``(size, (claimed, claim_retry_after_seconds), window_result or None, values
    or None)``, ``window_result`` as ``hits`` gives it.
    """
    args = [window.limit, window.window_ms, window.member]
    for size, seconds in claim_seconds_by_size:
        args += [size, int(seconds * 1000)]
    reply = _claim_then_hit([sized_set, claim_key, window.window_key, *read_keys], args)
    size, claimed, claim_pttl = reply[:3]
    if not claimed:
        return size, (False, max(claim_pttl, 0) / 1000), None, None
    allowed, retry_after_ms, count = reply[3:6]
    values = reply[6:] if allowed else None
    return size, (True, 0.0), (bool(allowed), retry_after_ms / 1000, count), values


def add_distinct(set_key, member, *, ttl_seconds=0):
    return _add_distinct([set_key], [member, ttl_seconds])


def remaining_seconds(some_key):
    """Seconds until ``some_key`` expires; 0 when absent, None when it never expires."""
    ttl_ms = redis().pttl(some_key)
    if ttl_ms == -2:
        return 0.0
    if ttl_ms == -1:
        return None
    return ttl_ms / 1000
