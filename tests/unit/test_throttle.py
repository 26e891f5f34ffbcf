from bot.middlewares.throttle import TokenBuckets


def test_burst_then_refill():
    buckets = TokenBuckets(rate=1.0, burst=3)
    assert [buckets.allow(1, now=0.0) for _ in range(4)] == [True, True, True, False]
    assert buckets.allow(2, now=0.0)  # others are not affected
    assert buckets.allow(1, now=1.01)
    assert not buckets.allow(1, now=1.02)


def test_memory_stays_bounded():
    buckets = TokenBuckets(rate=1.0, burst=2, max_keys=100)
    for key in range(1000):
        buckets.allow(key, now=float(key))
    assert len(buckets._state) <= 100
