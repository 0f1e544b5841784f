"""Perceptual hashes as Cloudinary reports them (64 bits, 16 hex digits) and their distances."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_PHASH = re.compile(r"^[0-9a-fA-F]{16}$")


def is_phash(value: object) -> bool:
    return isinstance(value, str) and bool(_PHASH.match(value))


def hamming_distance(first: str, second: str) -> int:
    """How many of the 64 bits differ; raises ValueError unless both are 16 hex digits."""
    for value in (first, second):
        if not is_phash(value):
            raise ValueError(f"{value!r} is not a 64-bit perceptual hash (16 hex digits)")
    return (int(first, 16) ^ int(second, 16)).bit_count()


@dataclass(frozen=True, slots=True)
class Match:
    public_id: str
    distance: int


def closest(phash: str, candidates: Iterable[tuple[str, str]], max_distance: int) -> list[Match]:
    """``(public_id, phash)`` candidates within ``max_distance``, nearest first.

    Candidates whose hash is malformed are skipped: one bad mirror record must not hide the
    duplicates among the others.
    """
    matches = [
        Match(public_id, hamming_distance(phash, other))
        for public_id, other in candidates
        if is_phash(other)
    ]
    return sorted(
        (m for m in matches if m.distance <= max_distance),
        key=lambda m: (m.distance, m.public_id),
    )
