"""Keyset pagination with opaque cursors.

A cursor holds the sort key and the last row's sort value and ``_id``; the next page starts
strictly after that pair, so rows inserted between two requests shift nothing and are never
returned twice.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId

from resolvers.errors import BadUserInputError

MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class SortSpec:
    """Sort on one document field, ties broken by ``_id`` in the same direction."""

    key: str  # public name stored in cursors, e.g. "name:de-DE"
    field: str  # document path, e.g. "name.de-DE"
    descending: bool = False
    # Language-aware ordering for text (Ä sorts with A in German); comparisons in the keyset
    # clause follow the same collation because the query carries it.
    collation: dict[str, str] | None = None
    # When ``field`` is not stored but derived: the aggregation expression that computes it
    # (e.g. the name a locale's fallback chain shows). Pages then come from an aggregation that
    # adds ``field`` to every document, so the cursor reads it like a stored one.
    computed: dict[str, Any] | None = None

    @property
    def mongo_sort(self) -> list[tuple[str, int]]:
        direction = -1 if self.descending else 1
        return [(self.field, direction), ("_id", direction)]


@dataclass(frozen=True, slots=True)
class Cursor:
    sort_key: str
    descending: bool
    value: Any
    id: ObjectId


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$date": value.isoformat()}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    # Sorting only ever happens on scalar fields; anything else means a malformed document.
    return None


def _decode_value(value: Any) -> Any:
    """Only what ``_encode_value`` writes: a crafted cursor must not smuggle in an operator."""
    if isinstance(value, dict) and set(value) == {"$date"} and isinstance(value["$date"], str):
        return datetime.fromisoformat(value["$date"])
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError("cursor values are scalars")


def get_path(document: dict[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of a document, or None."""
    current: Any = document
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def encode_cursor(sort: SortSpec, document: dict[str, Any]) -> str:
    payload = [
        sort.key,
        int(sort.descending),
        _encode_value(get_path(document, sort.field)),
        str(document["_id"]),
    ]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: SortSpec) -> Cursor:
    """Parse a cursor made by ``encode_cursor`` for the same sort, or raise BAD_USER_INPUT."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, descending, value, oid = json.loads(raw)
        parsed = Cursor(str(key), bool(descending), _decode_value(value), ObjectId(oid))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadUserInputError(f"invalid cursor {cursor!r}", argumentName="after") from exc
    if parsed.sort_key != sort.key or parsed.descending != sort.descending:
        raise BadUserInputError(
            "the cursor was issued for another sort; restart pagination without 'after'",
            argumentName="after",
        )
    return parsed


def after_clause(sort: SortSpec, cursor: Cursor) -> dict[str, Any]:
    """Filter for the rows strictly after ``cursor`` in ``sort`` order.

    MongoDB sorts missing and null values first ascending and last descending, and its
    comparison operators never match across types, so nulls need clauses of their own.
    """
    field, value = sort.field, cursor.value
    op = "$lt" if sort.descending else "$gt"
    tie = {field: {"$eq": value}, "_id": {op: cursor.id}}
    if value is None:
        return tie if sort.descending else {"$or": [tie, {field: {"$ne": None}}]}
    if sort.descending:
        return {"$or": [{field: {"$lt": value}}, tie, {field: None}]}
    return {"$or": [{field: {"$gt": value}}, tie]}


def check_page_size(first: int) -> int:
    if first < 0:
        raise BadUserInputError("'first' must not be negative", argumentName="first")
    if first > MAX_PAGE_SIZE:
        raise BadUserInputError(
            f"'first' is {first}, above the maximum page size of {MAX_PAGE_SIZE}; "
            "use 'after' to page through larger results",
            argumentName="first",
            maximum=MAX_PAGE_SIZE,
        )
    return first
