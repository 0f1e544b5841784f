"""Payload equality: where two JSON values differ, for loud failures before anything is timed."""

from __future__ import annotations

import re
from typing import Any

# With CLOUDINARY_URL unset every gateway worker runs its own emulator; with several workers
# each picks a free port, so delivery URLs differ only in that origin.
_EMULATOR_ORIGIN = re.compile(r"https?://127\.0\.0\.1:\d+/")
NORMALIZED_ORIGIN = "http://dam.invalid/"


class PayloadMismatchError(AssertionError):
    """A baseline (or another gateway deployment) answered differently from the gateway."""


def differences(expected: Any, actual: Any, path: str = "$", limit: int = 5) -> list[str]:
    """Up to ``limit`` JSON paths where ``actual`` differs from ``expected``, with both values."""
    found: list[str] = []
    _walk(expected, actual, path, found, limit)
    return found


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _walk(expected: Any, actual: Any, path: str, found: list[str], limit: int) -> None:
    if len(found) >= limit:
        return
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                found.append(f"{path}.{key}: missing (expected {_show(expected[key])})")
            elif key not in expected:
                found.append(f"{path}.{key}: unexpected {_show(actual[key])}")
            else:
                _walk(expected[key], actual[key], f"{path}.{key}", found, limit)
            if len(found) >= limit:
                return
        return
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            found.append(f"{path}: {len(actual)} items, expected {len(expected)}")
            return
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            _walk(e, a, f"{path}[{index}]", found, limit)
        return
    numbers = isinstance(expected, int | float) and isinstance(actual, int | float)
    same_type = type(expected) is type(actual) or (
        numbers and bool not in (type(expected), type(actual))
    )
    if not same_type or expected != actual:
        found.append(f"{path}: {_show(actual)}, expected {_show(expected)}")


def normalize_origins(value: Any) -> Any:
    """``value`` with every emulator origin (``http://127.0.0.1:PORT/``) replaced by one."""
    if isinstance(value, str):
        return _EMULATOR_ORIGIN.sub(NORMALIZED_ORIGIN, value)
    if isinstance(value, list):
        return [normalize_origins(v) for v in value]
    if isinstance(value, dict):
        return {k: normalize_origins(v) for k, v in value.items()}
    return value


def require_equal(what: str, expected: Any, actual: Any) -> None:
    """Raise PayloadMismatchError naming ``what`` and the first differences."""
    found = differences(expected, actual)
    if found:
        raise PayloadMismatchError(f"{what}: payloads differ:\n  " + "\n  ".join(found))
