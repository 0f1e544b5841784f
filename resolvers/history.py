"""Reading change history: a product's or a category's events page by page, and events across
the catalog.

``resolvers.writes.history`` writes ``change_events`` (one event per write, in the write's
transaction); this module only reads it, always off an index:

- a product's history, newest revision first, off ``sku_revision``. Many products' first pages
  (``history`` selected on a products page) are one ``aggregate`` of ``$unionWith`` branches,
  each its own index walk stopping after the page, so a page of 100 products costs one command
  and examines at most 100 * (first + 1) events however long their histories are;
- a category's history in ``category_events``, the same way off ``slug_revision``;
- ``changeEvents(filter)``, newest first by ``(at, _id)``: an equality filter on the SKU, the
  actor, the source system, the import job or the request picks the index that starts with it
  and ends with ``at, _id``; without one, the ``at`` index. ``since``/``until`` bound ``at``.

Cursors are ``resolvers.pagination``'s, for a sort of their own (a history cursor holds a
revision, a changeEvents cursor a time and an ``_id``), so one is refused where the other is
expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pymongo.asynchronous.cursor import AsyncCursor

from resolvers.db import Catalog, Collection, Document
from resolvers.errors import BadUserInputError
from resolvers.pagination import SortSpec, check_page_size, decode_cursor, encode_cursor
from resolvers.writes.history import CONTENT_EVENTS

HISTORY_SORT = SortSpec("revision", "revision", descending=True)
EVENTS_SORT = SortSpec("at", "at", descending=True)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """``changeEvents``' filter: every given condition must hold."""

    sku: str | None = None
    actor: str | None = None
    """The actor's label: a key's id, ``jwt:<subject>``, ``system``."""
    source: str | None = None
    since: datetime | None = None
    """Inclusive."""
    until: datetime | None = None
    """Exclusive."""
    import_job: str | None = None
    request_id: str | None = None

    def query(self) -> Document:
        query: Document = {}
        for field, value in (
            ("sku", self.sku),
            ("actor.label", self.actor),
            ("actor.source", self.source),
            ("importJob", self.import_job),
            ("requestId", self.request_id),
        ):
            if value is not None:
                query[field] = value
        at: Document = {}
        if self.since is not None:
            at["$gte"] = self.since
        if self.until is not None:
            at["$lt"] = self.until
        if at:
            query["at"] = at
        return query


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[Document]
    has_next_page: bool
    sort: SortSpec

    def cursor(self, event: Document) -> str:
        return encode_cursor(self.sort, event)

    @property
    def end_cursor(self) -> str | None:
        return self.cursor(self.events[-1]) if self.events else None

    @property
    def start_cursor(self) -> str | None:
        return self.cursor(self.events[0]) if self.events else None


@dataclass(frozen=True, slots=True)
class HistoryKey:
    """One page of one product's history: what the batched read is keyed on."""

    sku: str
    first: int
    after: str | None = None


@dataclass(frozen=True, slots=True)
class CategoryHistoryKey:
    """One page of one category's history."""

    slug: str
    first: int
    after: str | None = None


def history_query(key: HistoryKey) -> Document:
    """The ``find`` condition of the page ``key`` names (a malformed cursor: BAD_USER_INPUT)."""
    query: Document = {"sku": key.sku, **CONTENT_EVENTS}
    if key.after is not None:
        query["revision"] = _before(key.after)
    return query


def category_history_query(key: CategoryHistoryKey) -> Document:
    """As ``history_query``, for a category's events."""
    query: Document = {"slug": key.slug}
    if key.after is not None:
        query["revision"] = _before(key.after)
    return query


def _before(after: str) -> Document:
    revision = decode_cursor(after, HISTORY_SORT).value
    if not isinstance(revision, int) or isinstance(revision, bool):
        raise BadUserInputError(f"invalid cursor {after!r}", argumentName="after")
    return {"$lt": revision}


async def history_pages(catalog: Catalog, keys: Sequence[HistoryKey]) -> list[EventPage]:
    """The pages ``keys`` name, in order, in one command whatever their number."""
    for key in keys:
        check_page_size(key.first)
    pages = [(history_query(key), key.first) for key in keys]
    return await _pages(catalog.change_events, pages)


async def category_history_pages(
    catalog: Catalog, keys: Sequence[CategoryHistoryKey]
) -> list[EventPage]:
    """The category pages ``keys`` name, in order, in one command whatever their number."""
    for key in keys:
        check_page_size(key.first)
    pages = [(category_history_query(key), key.first) for key in keys]
    return await _pages(catalog.category_events, pages)


async def _pages(collection: Collection, pages: Sequence[tuple[Document, int]]) -> list[EventPage]:
    """Each (condition, first) page of ``collection``, newest revision first: one aggregate."""
    branches: list[list[Document]] = [
        [
            {"$match": query},
            {"$sort": {"revision": -1}},
            {"$limit": first + 1},
            # Which page a row answers (one SKU may be asked for with two page sizes).
            {"$addFields": {"_key": n}},
        ]
        for n, (query, first) in enumerate(pages)
        if first > 0
    ]
    rows: list[Document] = []
    if branches:
        pipeline: list[Document] = branches[0] + [
            {"$unionWith": {"coll": collection.name, "pipeline": branch}} for branch in branches[1:]
        ]
        cursor = await collection.aggregate(pipeline)
        rows = await cursor.to_list()
    found: list[list[Document]] = [[] for _ in pages]
    for row in rows:
        found[row.pop("_key")].append(row)
    return [
        EventPage(events[:first], len(events) > first, HISTORY_SORT)
        for (_, first), events in zip(pages, found, strict=True)
    ]


async def event_page(
    catalog: Catalog, event_filter: EventFilter, first: int, after: str | None
) -> EventPage:
    """One page of events across the catalog, newest first, in one ``find``."""
    check_page_size(first)
    events = await event_cursor(catalog, event_filter, first, after).to_list() if first else []
    return EventPage(events[:first], len(events) > first, EVENTS_SORT)


def event_cursor(
    catalog: Catalog, event_filter: EventFilter, first: int, after: str | None
) -> AsyncCursor[Document]:
    """The ``find`` of a page (``first`` events after ``after``, and one more to peek)."""
    query = event_filter.query()
    if after is not None:
        cursor = decode_cursor(after, EVENTS_SORT)
        if not isinstance(cursor.value, datetime):
            raise BadUserInputError(f"invalid cursor {after!r}", argumentName="after")
        # The bound on ``at`` alone keeps the index scan tight; the $or breaks ties by _id.
        query["at"] = {**query.get("at", {}), "$lte": cursor.value}
        query["$or"] = [{"at": {"$lt": cursor.value}}, {"_id": {"$lt": cursor.id}}]
    return catalog.change_events.find(query).sort(EVENTS_SORT.mongo_sort).limit(first + 1)
