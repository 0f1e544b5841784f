from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry

from resolvers.access import Scope
from resolvers.audit import AuditReport
from resolvers.errors import BadUserInputError, ForbiddenError
from resolvers.loaders import object_id
from schema.context import Context
from schema.global_ids import from_global_id
from schema.lookahead import Needs, prefetch_products, project_products
from schema.permissions import requires
from schema.types import arguments as args
from schema.types.access import ApiKeyType, Viewer, resolve_api_keys
from schema.types.audit import CatalogAudit, resolve_catalog_audit
from schema.types.category import Category
from schema.types.channel import Channel
from schema.types.connection import ProductConnection, product_connection
from schema.types.events import EventDelivery, EventDeliveryStatus, resolve_event_deliveries
from schema.types.history import (
    ChangeEventConnection,
    ChangeEventFilterInput,
    resolve_change_events,
)
from schema.types.import_job import TYPE_NAME as IMPORT_JOB
from schema.types.import_job import load_import_job
from schema.types.node import Node
from schema.types.product import Product, ProductVariant, load_product
from schema.types.readiness import CatalogReadiness, resolve_catalog_readiness

Info = strawberry.Info[Context, None]

MAX_NODES = 100


async def _node(info: Info, global_id: str) -> Node | None:
    type_name, key = from_global_id(global_id)
    project_products(info)
    loaders = info.context.loaders
    oid = object_id(key)
    if type_name == "Product" and oid is not None:
        product = await loaders.product_by_id.load(oid)
        return Product.from_document(product) if product else None
    if type_name == "Category" and oid is not None:
        category = await loaders.category_by_id.load(oid)
        return Category.from_document(category) if category else None
    if type_name == "ProductVariant":
        product_key, _, variant_sku = key.partition(":")
        product_oid = object_id(product_key)
        product = await loaders.product_by_id.load(product_oid) if product_oid else None
        if product is None:
            return None
        for variant in product.get("variants") or []:
            if variant.get("sku") == variant_sku:
                return ProductVariant.from_document(variant, product)
        return None
    if type_name == IMPORT_JOB:
        if not info.context.principal.has(Scope.CATALOG_WRITE):
            raise ForbiddenError("reading an import job needs catalog:write")
        return await load_import_job(info, key)
    raise BadUserInputError(
        f"{global_id!r} is not the ID of a Product, a ProductVariant, a Category or an ImportJob"
    )


@strawberry.type(description="Reads: products, categories, channels, dashboards and the viewer.")
class Query:
    @strawberry.field(description="One product by SKU or by ID (give exactly one).")
    async def product(
        self,
        info: Info,
        sku: Annotated[
            strawberry.ID | None, strawberry.argument(description="The product's SKU.")
        ] = None,
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The product's global ID.")
        ] = None,
    ) -> Product | None:
        if (sku is None) == (id is None):
            raise BadUserInputError("give exactly one of 'sku' and 'id'")
        if id is not None and from_global_id(id)[0] != "Product":
            raise BadUserInputError(f"{id!r} is not the ID of a Product", argumentName="id")
        product = await load_product(info, sku=sku, global_id=id)
        if product is not None:
            await prefetch_products(info, [product.doc], Needs.of(info))
        return product

    @strawberry.field(description="Products, filtered and sorted, in pages of at most 100.")
    async def products(
        self,
        info: Info,
        first: args.First = 20,
        after: args.After = None,
        filter: args.ProductFilter = None,
        sort: args.ProductSort = None,
    ) -> ProductConnection:
        return await product_connection(info, first, after, filter, sort)

    @strawberry.field(description="One category by slug.")
    async def category(
        self,
        info: Info,
        slug: Annotated[str, strawberry.argument(description="The category's slug.")],
    ) -> Category | None:
        document = await info.context.loaders.category_by_slug.load(slug)
        return Category.from_document(document) if document else None

    @strawberry.field(
        description="Children of 'parent' (a slug) in tree order; the root categories when "
        "'parent' is omitted."
    )
    async def categories(
        self,
        info: Info,
        parent: Annotated[
            str | None,
            strawberry.argument(description="The parent's slug; omitted: the root categories."),
        ] = None,
    ) -> list[Category]:
        if parent is not None and await info.context.loaders.category_by_slug.load(parent) is None:
            raise BadUserInputError(f"unknown category {parent!r}", argumentName="parent")
        cursor = info.context.catalog.categories.find({"parent": parent}).sort(
            [("position", 1), ("slug", 1)]
        )
        return [Category.from_document(d) async for d in cursor]

    @strawberry.field(
        description="The channel profiles (channels.toml) media is delivered for; those the "
        "key may read when it is restricted to some."
    )
    def channels(self, info: Info) -> list[Channel]:
        profiles = info.context.services.channels.profiles
        return [Channel.from_profile(n, profiles[n]) for n in info.context.readable_channels()]

    @strawberry.field(
        description="Readiness dashboard for a channel: score bands, ready count and the most "
        "frequently failing checks. Needs audit:read.",
        extensions=requires(Scope.AUDIT_READ),
    )
    async def catalog_readiness(
        self,
        info: Info,
        channel: args.Channel,
        top: Annotated[
            int,
            strawberry.argument(
                description="How many failing checks to list, most frequent first."
            ),
        ] = 10,
    ) -> CatalogReadiness:
        return await resolve_catalog_readiness(info, channel, top)

    catalog_audit: AuditReport = strawberry.field(
        resolver=resolve_catalog_audit,
        graphql_type=CatalogAudit,
        description="Data-quality audit of the whole catalog: duplicate SKUs and names, fill "
        "rates, missing required attributes, orphaned and missing assets, duplicate media. "
        "Shared between requests for CATALOG_DASHBOARD_TTL_S seconds, like catalogReadiness; "
        "run once per request: aliases with other arguments than the first are refused. "
        "Needs audit:read.",
        extensions=requires(Scope.AUDIT_READ),
    )

    @strawberry.field(description="Any object by its global ID.")
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global ID.")],
    ) -> Node | None:
        return await _node(info, id)

    @strawberry.field(description=f"Objects by global IDs, in order (at most {MAX_NODES}).")
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description="Global IDs; nulls for unknown ones."),
        ],
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise BadUserInputError(
                f"'ids' has {len(ids)} entries; the maximum is {MAX_NODES}", argumentName="ids"
            )
        # Gathered, not awaited one by one, so the loaders see every key in one batch.
        return list(await asyncio.gather(*(_node(info, i) for i in ids)))

    @strawberry.field(
        description="Who this request runs as: kind, name, role, scopes, channels and when its "
        "credentials expire (never a secret). Any caller, anonymous ones included."
    )
    def viewer(self, info: Info) -> Viewer:
        return Viewer.of(info.context.principal)

    @strawberry.field(
        description="Every API key, oldest first, with its state and last use; never a secret. "
        "Needs keys:manage.",
        extensions=requires(Scope.KEYS_MANAGE),
    )
    async def api_keys(self, info: Info) -> list[ApiKeyType] | None:
        return await resolve_api_keys(info)

    @strawberry.field(
        description="Deliveries of change events to webhook subscriptions, newest first; "
        "status DEAD lists the dead letters (eventRedeliver sends one again). At most 200. "
        "Needs events:manage.",
        extensions=requires(Scope.EVENTS_MANAGE),
    )
    async def event_deliveries(
        self,
        info: Info,
        status: Annotated[
            EventDeliveryStatus | None,
            strawberry.argument(description="Only deliveries in this state; all when omitted."),
        ] = None,
        first: Annotated[
            int, strawberry.argument(description="How many, newest first (at most 200).")
        ] = 50,
    ) -> list[EventDelivery] | None:
        return await resolve_event_deliveries(info, status, first)

    @strawberry.field(
        description="Change events of every product, newest first, filtered by product, "
        "actor, source system, time, import job or request. Needs audit:read.",
        extensions=requires(Scope.AUDIT_READ),
    )
    async def change_events(
        self,
        info: Info,
        filter: Annotated[
            ChangeEventFilterInput | None,
            strawberry.argument(description="Which events; all when omitted."),
        ] = None,
        first: args.First = 20,
        after: args.After = None,
    ) -> ChangeEventConnection | None:
        return await resolve_change_events(info, filter, first, after)
