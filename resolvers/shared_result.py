"""Results shared between requests for a few seconds, computed once however many ask at once.

For whole-catalog aggregations (the readiness dashboard): each call scans every product, so
ten dashboards polling every second would cost ten scans a second. Within ``ttl_s`` callers
get the same answer, and callers arriving while it is being computed wait for that one
computation instead of starting their own. Failures are not kept: the next caller tries again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from resolvers.batching import succeeded

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Computed(Generic[T]):
    value: T
    at: datetime  # when the computation started: the answer reflects the data as of then


class SharedResults(Generic[T]):
    """Per-process cache of recent results by key, with one computation in flight per key."""

    def __init__(
        self,
        ttl_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._wall_clock = wall_clock
        # key -> (when the computation finished, or None while it runs; the computation)
        self._entries: dict[Hashable, tuple[float | None, asyncio.Task[Computed[T]]]] = {}

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> Computed[T]:
        """The result for ``key`` finished at most ``ttl_s`` ago, else a fresh one.

        The TTL runs from when the computation finished: an aggregation slower than the TTL
        is still shared with the callers that come after it.
        """
        if self.ttl_s <= 0:
            return await self._timed(compute)
        entry = self._entries.get(key)
        if entry is not None:
            finished, task = entry
            if finished is None or self._clock() - finished < self.ttl_s:
                # Shielded: one caller giving up must not cancel the others' computation.
                return await asyncio.shield(task)
        task = asyncio.ensure_future(self._timed(compute))
        self._entries[key] = (None, task)
        task.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(task)

    def clear(self) -> None:
        """Forget every result (the data changed): the next caller computes afresh. A
        computation under way still answers the callers already waiting for it."""
        self._entries.clear()

    async def _timed(self, compute: Callable[[], Awaitable[T]]) -> Computed[T]:
        at = self._wall_clock()
        return Computed(await compute(), at)

    def _finished(self, key: Hashable, task: asyncio.Task[Computed[T]]) -> None:
        if self._entries.get(key, (None, None))[1] is not task:
            return
        if not succeeded(task):  # failures are not kept: the next caller tries again
            del self._entries[key]
        else:
            self._entries[key] = (self._clock(), task)
