"""Token buckets keyed by key id or client address, in this process's memory.

Buckets are per process: with N replicas behind a load balancer a client gets up to N times
its budget. That bounds abuse without a shared store on the request path.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

# Beyond this many buckets the idle (full) ones are forgotten: a flood of client addresses
# must not grow memory without bound.
MAX_BUCKETS = 50_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """``take(name, capacity, per_second)``: None when allowed, else seconds to wait."""

    def __init__(
        self,
        *,
        max_buckets: int = MAX_BUCKETS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._max = max_buckets
        self._clock = clock

    def take(self, name: str, capacity: int, per_second: float, cost: float = 1.0) -> float | None:
        bucket = self._refilled(name, capacity, per_second)
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return None
        return (cost - bucket.tokens) / per_second

    def empty(self, name: str, capacity: int, per_second: float) -> float | None:
        """Seconds until ``name`` has a token again, without taking one (None: it has one)."""
        bucket = self._buckets.get(name)
        if bucket is None:
            return None
        bucket = self._refilled(name, capacity, per_second)
        return None if bucket.tokens >= 1 else (1 - bucket.tokens) / per_second

    def available(self, name: str, capacity: int, per_second: float) -> float:
        """Tokens ``name`` has now (a bucket not used yet is full), without taking any."""
        if name not in self._buckets:
            return float(capacity)
        return self._refilled(name, capacity, per_second).tokens

    def _refilled(self, name: str, capacity: int, per_second: float) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(name)
        if bucket is None:
            if len(self._buckets) >= self._max:
                self._forget_idle(now, per_second, capacity)
            bucket = self._buckets[name] = _Bucket(float(capacity), now)
        else:
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * per_second)
            bucket.updated = now
        return bucket

    def _forget_idle(self, now: float, per_second: float, capacity: int) -> None:
        full_after = capacity / per_second
        idle = [n for n, b in self._buckets.items() if now - b.updated >= full_after]
        for name in idle:
            del self._buckets[name]
        if len(self._buckets) >= self._max:  # nobody idle: forget the oldest half
            ordered = sorted(self._buckets.items(), key=lambda item: item[1].updated)
            for name, _ in ordered[: len(ordered) // 2]:
                del self._buckets[name]

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after_header(seconds: float) -> str:
    """Whole seconds, at least 1 (``Retry-After: 0`` invites an immediate retry storm)."""
    return str(max(1, math.ceil(seconds)))
