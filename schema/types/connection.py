from __future__ import annotations

from dataclasses import replace
from typing import Any

import strawberry

from resolvers.access import Scope
from resolvers.errors import ForbiddenError
from resolvers.pagination import SortSpec, encode_cursor
from resolvers.products import (
    KnownCodes,
    ProductFilter,
    build_query,
    count_products,
    fetch_page,
    sort_spec,
)
from schema.context import Context
from schema.lookahead import Needs, prefetch_products, project_products
from schema.reads import SAME_PRODUCTS, reads
from schema.types.inputs import ProductFilterInput, ProductSortInput
from schema.types.product import Product

Info = strawberry.Info[Context, None]


@strawberry.type(description="Where a page is in its list (Relay connection).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="More items follow; pass endCursor as 'after' to get them."
    )
    has_previous_page: bool = strawberry.field(
        description="This page was asked for with an 'after' cursor."
    )
    start_cursor: str | None = strawberry.field(
        description="The first edge's cursor; null on an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor; null on an empty page."
    )


@strawberry.type(description="A product and its cursor.")
class ProductEdge:
    node: Product = strawberry.field(
        metadata=reads(nested=SAME_PRODUCTS), description="The product."
    )
    sort: strawberry.Private[SortSpec]

    @strawberry.field(description="Where this edge is, for 'after'.")
    def cursor(self) -> str:
        # On demand: listings usually ask for pageInfo.endCursor only.
        return encode_cursor(self.sort, self.node.doc)


@strawberry.type(description="A page of products (Relay connection).")
class ProductConnection:
    edges: list[ProductEdge] = strawberry.field(
        metadata=reads(nested=SAME_PRODUCTS),
        description="The page's products, in the sort's order.",
    )
    page_info: PageInfo = strawberry.field(
        description="Whether there is a next page, and its cursor."
    )
    query: strawberry.Private[dict[str, Any]]

    @strawberry.field(description="Products matching the filter, over all pages.")
    async def total_count(self, info: Info) -> int:
        context = info.context
        return await count_products(context.catalog, self.query, context.source.collection)


async def product_connection(
    info: Info,
    first: int,
    after: str | None,
    product_filter: ProductFilterInput | None,
    sort: ProductSortInput | None,
    category: str | None = None,
) -> ProductConnection:
    """Resolve a products connection: one page query; the page primes the product loaders."""
    context = info.context
    sort = sort or ProductSortInput()
    # Channel names and locales become parts of document paths and cursors: canonical only.
    sort_channel = context.channel_name(sort.channel) if sort.channel is not None else None
    locale = context.locale(sort.locale)
    spec = sort_spec(
        sort.sort_field,
        sort.direction.value == "desc",
        locale,
        sort_channel,
        chain=context.locales.chain(locale),
    )
    domain_filter = product_filter.to_domain() if product_filter else ProductFilter()
    if domain_filter.readiness is not None:
        readiness = domain_filter.readiness
        channel = context.channel_name(readiness.channel)
        domain_filter = replace(domain_filter, readiness=replace(readiness, channel=channel))
    if domain_filter.publishing is not None:
        # Which products wait for review is not a storefront's business: as the field says.
        if not context.principal.has(Scope.CATALOG_READ_DRAFTS):
            raise ForbiddenError(
                "filtering by publishing state needs the 'catalog:read-drafts' scope",
                scope=Scope.CATALOG_READ_DRAFTS.value,
            )
        publishing = domain_filter.publishing
        channel = context.channel_name(publishing.channel)
        domain_filter = replace(domain_filter, publishing=replace(publishing, channel=channel))
    if domain_filter.attributes:
        # A locale becomes part of a document path: only supported, canonical tags get there.
        domain_filter = replace(
            domain_filter,
            attributes=tuple(
                replace(a, locale=context.locale(a.locale)) if a.locale is not None else a
                for a in domain_filter.attributes
            ),
        )
    if category is not None:
        domain_filter = replace(domain_filter, category=category)
    source = context.source
    visible = source.clause
    known = KnownCodes(
        context.catalog,
        definitions=context.loaders.taxonomy.attributes,
        shared=context.services.known_brands,
        visible=visible,
        products=source.collection,
        source_key=source.key,
    )
    query = await build_query(context.catalog, domain_filter, known, visible=visible)
    fields = project_products(info)
    page = await fetch_page(
        context.catalog, query, spec, first, after, source.collection, fields, context.loaders.raws
    )
    context.loaders.prime_products(page.documents)
    await prefetch_products(info, page.documents, Needs.of(info))
    documents = page.documents
    return ProductConnection(
        edges=[ProductEdge(node=Product.from_document(d), sort=spec) for d in documents],
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=after is not None,
            start_cursor=encode_cursor(spec, documents[0]) if documents else None,
            end_cursor=encode_cursor(spec, documents[-1]) if documents else None,
        ),
        query=query,
    )
