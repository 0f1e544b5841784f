"""Change history in GraphQL: ``Product.history``, ``Category.history``, ``changeEvents`` and
their types.

Reads only (``resolvers.history``); ``productRevert`` is in ``schema.mutations.history``.
``Product.history`` and ``Category.history`` are read through per-request loaders: selected on
a page of products (or on a category's children), their histories are one MongoDB command, not
one per product or category.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from bson import ObjectId
from strawberry.scalars import JSON

from resolvers.batching import Loader
from resolvers.db import Catalog, Document
from resolvers.history import (
    CategoryHistoryKey,
    EventFilter,
    EventPage,
    HistoryKey,
    category_history_pages,
    category_history_query,
    event_page,
    history_pages,
    history_query,
)
from resolvers.pagination import MAX_PAGE_SIZE, check_page_size
from schema.context import Context
from schema.types.connection import PageInfo
from schema.types.enums import described

Info = strawberry.Info[Context, None]

_LOADER = ("history", "loader")
_CATEGORY_LOADER = ("history", "category loader")


@strawberry.enum(description="What a write did to a product.")
class ChangeOperation(Enum):
    CREATE = described("create", "The product was created.")
    UPDATE = described("update", "Fields of the product changed.")
    ARCHIVE = described("archive", "The product was archived.")
    RESTORE = described("restore", "An archived product was brought back as a draft.")
    REVERT = described("revert", "Fields were set back to an earlier revision's values.")
    SEED = strawberry.enum_value("seed", description="Written by the demo seeder.")


@strawberry.enum(description="What a write did to a category.")
class CategoryChangeOperation(Enum):
    CREATE = described("create", "The category was created.")
    UPDATE = described("update", "The category's names changed.")
    MOVE = strawberry.enum_value("move", description="A new parent or position.")


@strawberry.type(description="Who made a change.")
class ChangeActor:
    label: str = strawberry.field(
        description="A key's id, jwt:<subject> for a token, or system for in-process writers "
        "(commands, the seeder); what changeEvents(filter: {actor}) matches."
    )
    key_id: str | None = strawberry.field(description="The API key, when a key wrote.")
    name: str | None = strawberry.field(description="The key's or the token subject's name.")
    source: str | None = strawberry.field(
        description="The source system the key writes for (roles.toml), e.g. erp."
    )
    end_user: str | None = strawberry.field(
        description="The person the client acted for, as its X-Actor header named them."
    )


@strawberry.type(name="FieldChange", description="One field's value before and after a change.")
class FieldChangeType:
    path: list[str] = strawberry.field(
        description='The field: ["name", "de-DE"] (one locale), ["attributes", code], '
        '["variants", sku, field] (["variants", sku] for a variant added or removed), or a '
        'top-level field such as ["status"] or ["media"].'
    )
    before: JSON | None = strawberry.field(description="null: the field was absent.")
    after: JSON | None = strawberry.field(description="null: the field was removed.")


@strawberry.type(description="One write to one product, recorded in the write's transaction.")
class ChangeEvent:
    id: strawberry.ID = strawberry.field(description="The event's ID.")
    sku: str = strawberry.field(description="The product's SKU.")
    revision: int = strawberry.field(description="The product's revision after the write.")
    at: datetime = strawberry.field(description="When the write committed.")
    operation: ChangeOperation = strawberry.field(description="What kind of write it was.")
    actor: ChangeActor = strawberry.field(description="Who wrote.")
    request_id: str | None = strawberry.field(
        description="The X-Request-ID of the request that wrote it."
    )
    import_job: str | None = strawberry.field(description="The import that wrote it, if any.")
    changes: list[FieldChangeType] = strawberry.field(
        description="The fields that changed, with before and after."
    )

    @classmethod
    def from_document(cls, document: Document) -> ChangeEvent:
        return cls(
            id=strawberry.ID(str(document["_id"])),
            sku=document["sku"],
            revision=int(document["revision"]),
            at=document["at"],
            operation=ChangeOperation(document["operation"]),
            actor=_actor(document),
            request_id=document.get("requestId"),
            import_job=document.get("importJob"),
            changes=_changes(document),
        )


@strawberry.type(description="One write to one category, recorded in the write's transaction.")
class CategoryChangeEvent:
    id: strawberry.ID = strawberry.field(description="The event's ID.")
    slug: str = strawberry.field(description="The category's slug.")
    revision: int = strawberry.field(description="The category's revision after the write.")
    at: datetime = strawberry.field(description="When the write committed.")
    operation: CategoryChangeOperation = strawberry.field(description="What kind of write it was.")
    actor: ChangeActor = strawberry.field(description="Who wrote.")
    request_id: str | None = strawberry.field(
        description="The X-Request-ID of the request that wrote it."
    )
    changes: list[FieldChangeType] = strawberry.field(
        description='Paths as ["name", locale], ["parent"], ["ancestors"], ["position"], '
        '["requiredAttributes"].'
    )

    @classmethod
    def from_document(cls, document: Document) -> CategoryChangeEvent:
        return cls(
            id=strawberry.ID(str(document["_id"])),
            slug=document["slug"],
            revision=int(document["revision"]),
            at=document["at"],
            operation=CategoryChangeOperation(document["operation"]),
            actor=_actor(document),
            request_id=document.get("requestId"),
            changes=_changes(document),
        )


def _actor(document: Document) -> ChangeActor:
    actor = document.get("actor") or {}
    return ChangeActor(
        label=str(actor.get("label", "")),
        key_id=actor.get("keyId"),
        name=actor.get("name"),
        source=actor.get("source"),
        end_user=actor.get("endUser"),
    )


def _changes(document: Document) -> list[FieldChangeType]:
    return [
        FieldChangeType(
            path=[str(p) for p in c["path"]],
            before=json_value(c.get("before")),
            after=json_value(c.get("after")),
        )
        for c in document.get("changes") or []
    ]


@strawberry.type(description="A change event and its cursor.")
class ChangeEventEdge:
    node: ChangeEvent = strawberry.field(description="The change event.")
    cursor: str = strawberry.field(description="Where this edge is, for 'after'.")


@strawberry.type(description="A page of change events, newest first (Relay connection).")
class ChangeEventConnection:
    edges: list[ChangeEventEdge] = strawberry.field(description="The page's events, newest first.")
    page_info: PageInfo = strawberry.field(
        description="Whether there is a next page, and its cursor."
    )

    @classmethod
    def of(cls, page: EventPage, after: str | None) -> ChangeEventConnection:
        return cls(
            edges=[
                ChangeEventEdge(node=ChangeEvent.from_document(e), cursor=page.cursor(e))
                for e in page.events
            ],
            page_info=_page_info(page, after),
        )


@strawberry.type(description="A category change event and its cursor.")
class CategoryChangeEventEdge:
    node: CategoryChangeEvent = strawberry.field(description="The change event.")
    cursor: str = strawberry.field(description="Where this edge is, for 'after'.")


@strawberry.type(description="A page of a category's change events, newest first.")
class CategoryChangeEventConnection:
    edges: list[CategoryChangeEventEdge] = strawberry.field(
        description="The page's events, newest first."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether there is a next page, and its cursor."
    )

    @classmethod
    def of(cls, page: EventPage, after: str | None) -> CategoryChangeEventConnection:
        return cls(
            edges=[
                CategoryChangeEventEdge(
                    node=CategoryChangeEvent.from_document(e), cursor=page.cursor(e)
                )
                for e in page.events
            ],
            page_info=_page_info(page, after),
        )


def _page_info(page: EventPage, after: str | None) -> PageInfo:
    return PageInfo(
        has_next_page=page.has_next_page,
        has_previous_page=after is not None,
        start_cursor=page.start_cursor,
        end_cursor=page.end_cursor,
    )


@strawberry.input(description="Events matching every condition given.")
class ChangeEventFilterInput:
    sku: str | None = strawberry.field(default=None, description="Only this product's events.")
    actor: str | None = strawberry.field(
        default=None, description="The actor's label: a key's id, jwt:<subject>, system."
    )
    source: str | None = strawberry.field(
        default=None, description="The source system of the key that wrote, e.g. erp."
    )
    since: datetime | None = strawberry.field(default=None, description="At or after.")
    until: datetime | None = strawberry.field(default=None, description="Before.")
    import_job: str | None = strawberry.field(
        default=None, description="Only events written by this import job."
    )
    request_id: str | None = strawberry.field(
        default=None, description="Only events written by the request with this X-Request-ID."
    )

    def to_domain(self) -> EventFilter:
        return EventFilter(
            sku=self.sku,
            actor=self.actor,
            source=self.source,
            since=self.since,
            until=self.until,
            import_job=self.import_job,
            request_id=self.request_id,
        )


class HistoryLoader(Loader[HistoryKey, EventPage]):
    """Pages of products' histories, batched per request (one command per batch)."""

    def __init__(self, catalog: Catalog) -> None:
        # Each key is a branch of one aggregation: bounded like a products page.
        super().__init__(max_batch_size=MAX_PAGE_SIZE)
        self.catalog = catalog

    async def batch_load_fn(self, keys: list[HistoryKey]) -> list[EventPage]:
        return await history_pages(self.catalog, keys)


class CategoryHistoryLoader(Loader[CategoryHistoryKey, EventPage]):
    """Pages of categories' histories, batched per request (one command per batch)."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__(max_batch_size=MAX_PAGE_SIZE)
        self.catalog = catalog

    async def batch_load_fn(self, keys: list[CategoryHistoryKey]) -> list[EventPage]:
        return await category_history_pages(self.catalog, keys)


def history_loader(info: Info) -> HistoryLoader:
    memo = info.context.memo
    loader = memo.get(_LOADER)
    if not isinstance(loader, HistoryLoader):
        loader = memo[_LOADER] = HistoryLoader(info.context.catalog)
    return loader


async def resolve_product_history(
    info: Info, sku: str, first: int, after: str | None
) -> ChangeEventConnection:
    key = HistoryKey(sku, check_page_size(first), after)
    history_query(key)  # a malformed cursor fails this field alone, not the batch
    page = await history_loader(info).load(key)
    return ChangeEventConnection.of(page, after)


async def resolve_category_history(
    info: Info, slug: str, first: int, after: str | None
) -> CategoryChangeEventConnection:
    key = CategoryHistoryKey(slug, check_page_size(first), after)
    category_history_query(key)  # a malformed cursor fails this field alone, not the batch
    memo = info.context.memo
    loader = memo.get(_CATEGORY_LOADER)
    if not isinstance(loader, CategoryHistoryLoader):
        loader = memo[_CATEGORY_LOADER] = CategoryHistoryLoader(info.context.catalog)
    page = await loader.load(key)
    return CategoryChangeEventConnection.of(page, after)


async def resolve_change_events(
    info: Info, filter: ChangeEventFilterInput | None, first: int, after: str | None
) -> ChangeEventConnection:
    domain = filter.to_domain() if filter is not None else EventFilter()
    page = await event_page(info.context.catalog, domain, first, after)
    return ChangeEventConnection.of(page, after)


def json_value(value: Any) -> Any:
    """A stored value as JSON: times as ISO 8601, object ids as strings."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value
