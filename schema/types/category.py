from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers.access import Scope
from resolvers.db import Document
from resolvers.errors import BadUserInputError
from schema.context import Context
from schema.global_ids import to_global_id
from schema.permissions import requires
from schema.types import arguments as args
from schema.types.connection import ProductConnection, product_connection
from schema.types.node import Node

if TYPE_CHECKING:
    from schema.types.history import CategoryChangeEventConnection

Info = strawberry.Info[Context, None]
LazyHistory = Annotated["CategoryChangeEventConnection", strawberry.lazy("schema.types.history")]


async def _as_category(document: Awaitable[Document | None] | None) -> Category | None:
    found = await document if document is not None else None
    return Category.from_document(found) if found else None


@strawberry.federation.type(keys=["slug"], description="A node of the category tree.")
class Category(Node):
    id: strawberry.ID = strawberry.field(description="The category's global ID.")
    slug: str = strawberry.field(description="The category's slug, unique (the federation key).")
    position: int = strawberry.field(description="Its order among its siblings (lowest first).")
    level: int = strawberry.field(description="Depth in the tree; roots are level 0.")
    required_attributes: list[str] = strawberry.field(
        description="Attribute codes every product of this category must fill."
    )
    doc: strawberry.Private[Document]

    @classmethod
    def from_document(cls, doc: Document) -> Category:
        return cls(
            id=strawberry.ID(to_global_id("Category", str(doc["_id"]))),
            slug=doc["slug"],
            position=int(doc.get("position", 0)),
            level=len(doc.get("ancestors") or []),
            required_attributes=list(doc.get("requiredAttributes") or []),
            doc=doc,
        )

    @classmethod
    def resolve_reference(
        cls, info: Info, slug: str | None = None, **_: Any
    ) -> Awaitable[Category | None]:
        """Federation entry point; the load is queued now, so a batch shares one query."""
        if slug is not None and not isinstance(slug, str):
            raise BadUserInputError("Category representations need a string 'slug'")
        return _as_category(info.context.loaders.category_by_slug.load(slug) if slug else None)

    @strawberry.field(description="Name in the locale; see extensions.localeFallbacks.")
    def name(self, info: Info, locale: args.Locale = None) -> str | None:
        return info.context.localized(self.doc.get("name"), locale, info.path)  # type: ignore[no-any-return]

    @strawberry.field(description="The parent category; null for a root.")
    async def parent(self, info: Info) -> Category | None:
        document = await info.context.loaders.category_by_slug.load_optional(self.doc.get("parent"))
        return Category.from_document(document) if document else None

    @strawberry.field(description="Ancestors from the root down to the parent.")
    async def ancestors(self, info: Info) -> list[Category]:
        documents = await info.context.loaders.category_by_slug.load_existing(
            self.doc.get("ancestors") or []
        )
        return [Category.from_document(d) for d in documents]

    @strawberry.field(description="The child categories, in tree order.")
    async def children(self, info: Info) -> list[Category]:
        documents = await info.context.loaders.category_children.load(self.slug)
        return [Category.from_document(d) for d in documents]

    @strawberry.field(
        description="The category's change events (categoryCreate, categoryUpdate, "
        "categoryMove), newest first: who changed which fields, from what to what. Needs "
        "audit:read. On a list of categories, their histories are read in one batch.",
        extensions=requires(Scope.AUDIT_READ),
    )
    async def history(
        self, info: Info, first: args.First = 20, after: args.After = None
    ) -> LazyHistory | None:
        from schema.types.history import resolve_category_history

        return await resolve_category_history(info, self.slug, first, after)

    @strawberry.field(
        description="Products of this category and its descendants ('filter.category' is "
        "replaced by this category)."
    )
    async def products(
        self,
        info: Info,
        first: args.First = 20,
        after: args.After = None,
        filter: args.ProductFilter = None,
        sort: args.ProductSort = None,
    ) -> ProductConnection:
        return await product_connection(info, first, after, filter, sort, category=self.slug)
