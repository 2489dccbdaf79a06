"""store.hits and store.claim_then_hit (ratelimit.claim_post): several checks in one
round trip, step for step what ``hit``, ``distinct_in_window``, a SET NX claim and the
reads do one by one, stopping at the first refusal."""

import asyncio
import tracemalloc
import uuid

import pytest
from asgiref.sync import sync_to_async

from core.errors import RateLimited
from security import ratelimit, reputation, shadowban, store
from security.identity import build_identity
from security.models import Reason


def fresh_key(name):
    return store.key("test-hits", name, uuid.uuid4().hex)


def test_hits_count_like_hit_and_distinct_in_window():
    a, b, c = fresh_key("a"), fresh_key("b"), fresh_key("c")
    steps = lambda endpoint: [  # noqa: E731
        store.Hit(a, limit=3, window_ms=60_000),
        store.Hit(b, limit=5, window_ms=60_000),
        store.Hit(c, window_ms=60_000, member=endpoint),
    ]
    assert store.hits(steps("x")) == [(True, 0.0, 1), (True, 0.0, 1), (True, 0.0, 1)]
    assert store.hits(steps("x")) == [(True, 0.0, 2), (True, 0.0, 2), (True, 0.0, 1)]  # x again: still one
    assert store.hits(steps("y")) == [(True, 0.0, 3), (True, 0.0, 3), (True, 0.0, 2)]
    # The same as the one-by-one operations see it.
    assert store.hit(fresh_key("d"), limit=3, window_seconds=60) == (True, 0.0, 1)
    assert store.distinct_in_window(c, "z", window_ms=60_000) == 3
    redis = store.redis()
    assert redis.zcard(a) == 3 and redis.zcard(b) == 3
    assert 0 < redis.pttl(a) <= 60_000 and 0 < redis.pttl(c) <= 60_000


def test_hits_stop_at_the_first_refusal_like_hit():
    a, b = fresh_key("a"), fresh_key("b")
    for _ in range(2):
        store.hits([store.Hit(a, limit=2, window_ms=30_000), store.Hit(b, limit=10, window_ms=30_000)])
    results = store.hits([store.Hit(a, limit=2, window_ms=30_000), store.Hit(b, limit=10, window_ms=30_000)])
    assert len(results) == 1  # b not counted
    allowed, retry_after, count = results[0]
    assert not allowed and count == 2 and 29 < retry_after <= 30
    assert store.redis().zcard(b) == 2
    # hit refuses the same window alike
    allowed, retry_after_one, count = store.hit(a, limit=2, window_seconds=30)
    assert (allowed, count) == (False, 2) and abs(retry_after_one - retry_after) < 1


def test_a_refusal_after_the_first_step_keeps_the_steps_before_it():
    a, b = fresh_key("a"), fresh_key("b")
    store.hit(b, limit=1, window_seconds=10)
    results = store.hits([store.Hit(a, limit=5, window_ms=10_000), store.Hit(b, limit=1, window_ms=10_000)])
    assert [allowed for allowed, _, _ in results] == [True, False]
    assert results[0][2] == 1 and store.redis().zcard(a) == 1


# --- ratelimit.claim_post: screen_post's reputation, slot, ceiling and shadowbans in one script


def someone(ip=None):
    return build_identity(ip or f"198.51.100.{uuid.uuid4().int % 200 + 1}", f"fp-{uuid.uuid4().hex[:12]}", "Mozilla/5.0")


@pytest.mark.parametrize("reporters", [0, 1, 2, 3, 4, 6, 9, 10, 12])
def test_claim_post_takes_the_cooldown_post_policy_gives(reporters):
    identity = someone()
    store.redis().delete(reputation.reporters_key(identity.ip), store.key("rate_limit", identity.network, "post"))
    for n in range(reporters):
        reputation.record_report(identity.ip, f"203.0.{n}.0/24")
    policy, shadowbanned = ratelimit.claim_post(identity)
    assert policy == reputation.post_policy_for(reporters) and not shadowbanned
    pttl = store.redis().pttl(store.key("cooldown", identity.key))
    assert policy.cooldown_seconds * 1000 - 2000 < pttl <= policy.cooldown_seconds * 1000
    store.redis().delete(reputation.reporters_key(identity.ip))


def test_claim_post_refuses_a_second_post_within_the_cooldown():
    identity = someone()
    store.redis().delete(store.key("rate_limit", identity.network, "post"))
    ratelimit.claim_post(identity)
    with pytest.raises(RateLimited) as refused:
        ratelimit.claim_post(identity)
    assert refused.value.code == "post_cooldown" and 59 <= refused.value.retry_after_seconds <= 60
    assert store.redis().zcard(store.key("rate_limit", identity.network, "post")) == 1  # the ceiling not counted


def test_claim_post_at_the_network_ceiling_gives_the_slot_back(settings):
    ip = "198.51.100.250"
    store.redis().delete(store.key("rate_limit", "198.51.100.250", "post"))
    limit = settings.KIRB["NETWORK_POST_LIMIT"]
    for _ in range(limit):
        ratelimit.claim_post(someone(ip))
    identity = someone(ip)
    with pytest.raises(RateLimited) as refused:
        ratelimit.claim_post(identity)
    assert refused.value.code == "ip_rate_limited"
    assert not store.redis().exists(store.key("cooldown", identity.key))  # may retry at once
    assert store.redis().zcard(store.key("rate_limit", ip, "post")) == limit
    store.redis().delete(store.key("rate_limit", ip, "post"))


@pytest.mark.django_db
@pytest.mark.parametrize("by", ["key", "fingerprint"])
def test_claim_post_sees_both_kinds_of_shadowban(by):
    identity = someone()
    store.redis().delete(store.key("rate_limit", identity.network, "post"))
    if by == "key":
        shadowban.shadowban_key(identity, reason=Reason.HONEYPOT, seconds=60)
    else:
        shadowban.shadowban_fingerprint(identity.fingerprint, reason=Reason.HONEYPOT, seconds=60)
    assert ratelimit.claim_post(identity)[1] is True
    assert shadowban.is_shadowbanned(identity)


def test_requests_share_the_process_client_and_leave_nothing_behind():
    """Each request runs in a task of its own. Where its context holds no client yet
    (nothing had touched Redis when it was copied), the scripts must still use the
    process's client, and keep nothing of the request once it is answered."""
    key = fresh_key("contexts")

    @sync_to_async(thread_sensitive=False)
    def request():
        store.hits([store.Hit(key, limit=10_000, window_ms=60_000)])
        return store.redis()

    async def requests(count):
        return [await asyncio.create_task(request()) for _ in range(count)]

    asyncio.run(requests(20))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        clients = asyncio.run(requests(200))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len({id(client) for client in clients}) == 1
    # A client per request, each kept by the script it ran, grew ~15 KB a request.
    assert grown < 256 * 1024, f"{grown // 1024} KiB kept by 200 requests"
