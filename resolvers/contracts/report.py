"""A simulation summed up per channel: pass rate, payload sizes and server times."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from resolvers.contracts.engine import Outcome, Run


@dataclass(frozen=True, slots=True)
class ChannelSummary:
    channel: str
    runs: int
    passed: int
    products: int
    """Product results judged (a product in three listings counts three times)."""
    violations: int
    bytes_p50: int
    bytes_p95: int
    bytes_max: int
    ms_p50: float
    ms_p95: float
    ms_max: float

    @property
    def pass_rate(self) -> float:
        return self.passed / self.runs if self.runs else 1.0

    def to_document(self) -> dict[str, Any]:
        return {**asdict(self), "passRate": round(self.pass_rate, 4)}


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(outcome: Outcome) -> list[ChannelSummary]:
    by_channel: dict[str, list[Run]] = {}
    for run in outcome.runs:
        by_channel.setdefault(run.channel, []).append(run)
    violations: dict[str, int] = {}
    for violation in outcome.violations:
        violations[violation.channel] = violations.get(violation.channel, 0) + 1
    summaries = []
    for channel, runs in by_channel.items():
        sizes = [float(r.wire_bytes) for r in runs]
        times = [r.server_ms for r in runs]
        summaries.append(
            ChannelSummary(
                channel,
                len(runs),
                sum(1 for r in runs if r.violations == 0),
                sum(r.products for r in runs),
                violations.get(channel, 0),
                int(percentile(sizes, 50)),
                int(percentile(sizes, 95)),
                int(max(sizes)),
                round(percentile(times, 50), 1),
                round(percentile(times, 95), 1),
                round(max(times), 1),
            )
        )
    return summaries


HEADER = ("channel", "runs", "pass", "violations", "bytes p50/p95/max", "ms p50/p95/max")


def table(summaries: Sequence[ChannelSummary]) -> str:
    rows = [HEADER] + [
        (
            s.channel,
            str(s.runs),
            f"{s.pass_rate:.1%}",
            str(s.violations),
            f"{s.bytes_p50:,}/{s.bytes_p95:,}/{s.bytes_max:,}",
            f"{s.ms_p50:.0f}/{s.ms_p95:.0f}/{s.ms_max:.0f}",
        )
        for s in summaries
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    return "\n".join(lines)
