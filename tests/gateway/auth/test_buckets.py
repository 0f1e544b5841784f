from __future__ import annotations

from gateway.auth import TokenBuckets, retry_after_header


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_says_how_long_to_wait() -> None:
    clock = Clock()
    buckets = TokenBuckets(clock=clock)
    assert [buckets.take("k", 3, 1.0) for _ in range(3)] == [None, None, None]
    assert buckets.take("k", 3, 1.0) == 1.0
    assert buckets.take("other", 3, 1.0) is None  # buckets are independent
    clock.now += 0.5
    assert buckets.take("k", 3, 1.0) == 0.5
    clock.now += 0.5
    assert buckets.take("k", 3, 1.0) is None


def test_empty_does_not_take_a_token() -> None:
    clock = Clock()
    buckets = TokenBuckets(clock=clock)
    assert buckets.empty("k", 2, 1.0) is None
    buckets.take("k", 2, 1.0)
    assert buckets.empty("k", 2, 1.0) is None
    buckets.take("k", 2, 1.0)
    assert buckets.empty("k", 2, 1.0) == 1.0


def test_a_flood_of_names_does_not_grow_memory_without_bound() -> None:
    clock = Clock()
    buckets = TokenBuckets(max_buckets=100, clock=clock)
    for n in range(1000):
        buckets.take(f"client-{n}", 10, 1.0)
        clock.now += 0.001
    assert len(buckets) <= 100


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.2) == "2"
