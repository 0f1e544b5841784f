"""The peer rounds of the gateway benchmark: the cells issue 17's targets need, run for the
gateway and the Node.js peers in interleaved rounds and judged on the median over rounds.

On a shared machine the CPU per request of one server drifts by ±20 % between cells minutes
apart, so comparing two servers' cells taken minutes apart compares the machine's moods as much
as the servers. Rounds measure every server close together, in an order rotated each round so
that no server always follows the same one, and the median over rounds drops a round that
drift (or a neighbour's burst) spoiled."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_ROUNDS = 3


def round_order(servers: Sequence[str], round_index: int) -> list[str]:
    """The servers in round ``round_index`` (from 0): starting with server r mod n, then the
    others forward in even rounds and backward in odd ones. Rotation alone would keep every
    server's predecessor whenever it does not open the round (with four servers and three
    rounds the fourth would follow the third every time); going both ways runs each pair of
    neighbours in both orders."""
    if not servers:
        return []
    start = round_index % len(servers)
    rotated = [*servers[start:], *servers[:start]]
    return rotated if round_index % 2 == 0 else [rotated[0], *reversed(rotated[1:])]


@dataclass(frozen=True, slots=True)
class Series:
    """One measure of one server, a value per round (in round order)."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("a series needs at least one round")

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def spread(self) -> float | None:
        """max/min over the rounds: how far the machine moved this measure (None below 0)."""
        low = min(self.values)
        return max(self.values) / low if low > 0 else None

    def listed(self, digits: int = 1) -> str:
        return ", ".join(f"{value:.{digits}f}" for value in self.values)


def paired_difference(first: Series, second: Series, per: float) -> Series | None:
    """Round by round (second - first) / per, over the rounds both have: a difference taken
    within a round, where both cells ran seconds apart, before any median is taken."""
    if len(first.values) != len(second.values):
        return None
    return Series(tuple((b - a) / per for a, b in zip(first.values, second.values, strict=True)))
