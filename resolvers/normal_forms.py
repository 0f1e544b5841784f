"""Normal forms under which the audit treats two names or SKUs as the same one.

The audit computes these in MongoDB aggregations; these functions are their Python twins, used
by the demo catalog to plant duplicates the audit must find and by tests to check both agree.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s_-]+")


def normalize_name(name: str) -> str:
    """Case-folded, runs of spaces, hyphens and underscores made one space, trimmed."""
    return _SEPARATORS.sub(" ", name.casefold()).strip()


def normalize_sku(sku: str) -> str:
    """Upper-cased, underscores made hyphens."""
    return sku.upper().replace("_", "-")
