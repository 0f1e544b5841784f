"""What a validation rule reports: where, which rule, and why, in words a client can show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# A place in a product document: ("name", "de-DE"), ("attributes", "weight"),
# ("variants", "SKU-1-RED", "options", "size"), ("media", 2, "publicId").
Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Violation:
    path: Path
    code: str
    """REQUIRED, TOO_LONG, TOO_SHORT, PATTERN, RANGE, UNIT, ENUM, TYPE, UNKNOWN_ATTRIBUTE, …"""
    message: str
    rule: str
    """The configuration key that decided, e.g. ``attributes.weight.max``."""
    limit: Any = None
