"""HTTP quality lists (``Accept``, ``Accept-Encoding``): values and their ``q`` weights."""

from __future__ import annotations


def quality_list(header: str) -> list[tuple[str, float]]:
    """Each lower-cased value of a header with its ``q`` (1.0 when absent, 0.0 when garbled)."""
    values: list[tuple[str, float]] = []
    for part in header.split(","):
        value, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, weight = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(weight)
                except ValueError:
                    quality = 0.0
        values.append((value.lower(), quality))
    return values
