"""Dashboard results shared between requests: one computation for concurrent callers, reused
for the TTL, failures never kept."""

import asyncio
from datetime import UTC, datetime

import pytest

from resolvers.shared_result import SharedResults

MOMENT = datetime(2026, 6, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Counter:
    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.calls = 0
        self.delay = delay
        self.fail = fail

    async def __call__(self) -> int:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("aggregation failed")
        return self.calls


async def test_concurrent_callers_share_one_computation() -> None:
    shared: SharedResults[int] = SharedResults(5, wall_clock=lambda: MOMENT)
    compute = Counter(delay=0.05)
    results = await asyncio.gather(*(shared.get("k", compute) for _ in range(10)))
    assert compute.calls == 1
    assert {r.value for r in results} == {1}
    assert {r.at for r in results} == {MOMENT}


async def test_results_are_reused_for_the_ttl_then_recomputed() -> None:
    clock = Clock()
    shared: SharedResults[int] = SharedResults(5, clock=clock)
    compute = Counter()
    assert (await shared.get("k", compute)).value == 1
    clock.now += 4.9
    assert (await shared.get("k", compute)).value == 1
    assert (await shared.get("other", compute)).value == 2  # keys are separate
    clock.now += 0.2
    assert (await shared.get("k", compute)).value == 3


async def test_failures_are_not_kept() -> None:
    shared: SharedResults[int] = SharedResults(60)
    failing = Counter(fail=True)
    with pytest.raises(RuntimeError):
        await shared.get("k", failing)
    working = Counter()
    assert (await shared.get("k", working)).value == 1


async def test_one_caller_giving_up_does_not_cancel_the_others() -> None:
    shared: SharedResults[int] = SharedResults(60)
    compute = Counter(delay=0.05)
    impatient = asyncio.ensure_future(shared.get("k", compute))
    patient = asyncio.ensure_future(shared.get("k", compute))
    await asyncio.sleep(0.01)
    impatient.cancel()
    assert (await patient).value == 1
    assert compute.calls == 1


async def test_a_ttl_of_zero_computes_every_time() -> None:
    shared: SharedResults[int] = SharedResults(0)
    compute = Counter()
    assert [(await shared.get("k", compute)).value for _ in range(3)] == [1, 2, 3]


async def test_an_aggregation_slower_than_the_ttl_is_still_shared() -> None:
    clock = Clock()
    shared: SharedResults[int] = SharedResults(5, clock=clock)
    calls = 0

    async def slow() -> int:
        nonlocal calls
        calls += 1
        clock.now += 30  # longer than the TTL
        return calls

    assert (await shared.get("k", slow)).value == 1
    clock.now += 4
    assert (await shared.get("k", slow)).value == 1
