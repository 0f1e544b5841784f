"""A small JSON path: ``products.edges[*].node``, ``media[0].url``, ``heroImage.url``.

Dots separate keys; ``[*]`` takes every item of a list, ``[N]`` one. Every match comes with
its concrete path (``["products", "edges", 3, "node"]``) so a violation names the exact place,
and a key that is missing or null along the way is a match whose value is None (the place a
non-null expectation fails at).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_STEP = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[(?:\*|\d+)\])*)$")
_INDEX = re.compile(r"\[(\*|\d+)\]")

Concrete = tuple[str | int, ...]


class PathError(ValueError):
    """A path that is not of this small syntax."""


@dataclass(frozen=True, slots=True)
class JsonPath:
    text: str
    steps: tuple[str | int | None, ...]
    """Keys (str), indices (int) and ``[*]`` (None)."""

    @classmethod
    def parse(cls, text: str) -> JsonPath:
        return _parse(text)

    def matches(self, root: Any, at: Concrete = ()) -> Iterator[tuple[Concrete, Any]]:
        """Every (concrete path, value) the path reaches from ``root``."""
        yield from _walk(root, self.steps, at)


@lru_cache(maxsize=512)
def _parse(text: str) -> JsonPath:
    """Contracts name a few paths, each judged on thousands of products: parsed once."""
    steps: list[str | int | None] = []
    if not text.strip():
        raise PathError("an empty path")
    for part in text.split("."):
        match = _STEP.match(part)
        if match is None:
            raise PathError(f"{text!r}: {part!r} is not a key optionally followed by [*] or [N]")
        steps.append(match.group(1))
        for index in _INDEX.findall(match.group(2)):
            steps.append(None if index == "*" else int(index))
    return JsonPath(text, tuple(steps))


def _walk(
    value: Any, steps: tuple[str | int | None, ...], at: Concrete
) -> Iterator[tuple[Concrete, Any]]:
    if not steps:
        yield at, value
        return
    step, rest = steps[0], steps[1:]
    if value is None:
        # Missing along the way: the place itself is what is null.
        yield (*at, *(s for s in steps if s is not None)), None
        return
    if isinstance(step, str):
        child = value.get(step) if isinstance(value, dict) else None
        yield from _walk(child, rest, (*at, step))
    elif step is None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from _walk(item, rest, (*at, index))
    else:
        item = value[step] if isinstance(value, list) and step < len(value) else None
        yield from _walk(item, rest, (*at, step))


def shown(path: Concrete) -> str:
    """``products.edges[3].node.name``: how reports print a concrete path."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text
