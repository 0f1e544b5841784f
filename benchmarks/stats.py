"""Numbers the gateway benchmark reports: percentiles, ratios, throughput, slopes.

Pure functions over plain lists, so that ``tests/test_benchmarks.py`` can check them on fixed
inputs without running any load.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation between closest ranks.

    The same definition as NumPy's default (``method="linear"``): the value at fractional rank
    ``(n - 1) * p / 100`` of the sorted values. Raises ValueError on an empty sequence.
    """
    if not values:
        raise ValueError("percentile of an empty sequence")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0-100, got {p}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, or None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def throughput(completed: int, elapsed_s: float) -> float:
    """Requests per second; 0 when nothing completed or no time passed."""
    if completed <= 0 or elapsed_s <= 0:
        return 0.0
    return completed / elapsed_s


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ``ys`` over ``xs`` (0 for fewer than two distinct xs)."""
    if len(xs) != len(ys):
        raise ValueError("xs and ys differ in length")
    n = len(xs)
    if n < 2:
        return 0.0
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    var_x = sum((x - mean_x) ** 2 for x in xs)
    if var_x == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var_x


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Latency percentiles in milliseconds over one cell's requests."""

    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float


def summarize_latencies(latencies_s: Sequence[float]) -> LatencySummary:
    """p50/p95/p99/max/mean in milliseconds of latencies given in seconds."""
    if not latencies_s:
        raise ValueError("no latencies to summarize")
    ms = [value * 1000 for value in latencies_s]
    return LatencySummary(
        count=len(ms),
        p50_ms=percentile(ms, 50),
        p95_ms=percentile(ms, 95),
        p99_ms=percentile(ms, 99),
        max_ms=max(ms),
        mean_ms=sum(ms) / len(ms),
    )


@dataclass(frozen=True, slots=True)
class MemoryTrend:
    """RSS over a soak: values in MiB, slope in MiB per minute after warm-up."""

    start_mib: float
    after_warmup_mib: float
    end_mib: float
    max_mib: float
    slope_mib_per_min: float
    flat: bool  # end within +10 % of the value after warm-up


FLAT_TOLERANCE = 0.10


def memory_trend(
    samples: Sequence[tuple[float, float]], warmup_s: float, tolerance: float = FLAT_TOLERANCE
) -> MemoryTrend:
    """Summarize ``(seconds since start, RSS in MiB)`` samples of a soak.

    The value after warm-up is the first sample at or after ``warmup_s``; the slope is fitted
    over the samples from there on. Flat means the last sample is at most ``tolerance`` above
    the value after warm-up.
    """
    if not samples:
        raise ValueError("no memory samples")
    settled = [s for s in samples if s[0] >= warmup_s] or [samples[-1]]
    baseline = settled[0][1]
    end = samples[-1][1]
    per_second = slope([t for t, _ in settled], [v for _, v in settled])
    return MemoryTrend(
        start_mib=samples[0][1],
        after_warmup_mib=baseline,
        end_mib=end,
        max_mib=max(v for _, v in samples),
        slope_mib_per_min=per_second * 60,
        flat=end <= baseline * (1 + tolerance),
    )
