"""store.hits: several windows in one round trip, step for step what ``hit`` and
``distinct_in_window`` do one by one, stopping at the first refusal."""

import uuid

from security import store


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
