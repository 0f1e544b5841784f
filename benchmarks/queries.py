"""The four benchmark queries, their REST equivalents, and the request sets the load rotates over.

Q1  listing page: ``first`` products with name, one numeric attribute, the mobile thumbnail URL
    of the hero image and the mobile readiness score.
Q2  product detail: every web slot (media manifest), variants with swatches, accessories,
    bundle items and the full web readiness checks.
Q3  ``_entities`` with 100 product representations by SKU (what a federation router sends).
Q4  ``catalogReadiness`` for one channel (the dashboard aggregation).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlencode

from resolvers.db import Catalog
from resolvers.pagination import SortSpec, encode_cursor

QueryName = Literal["Q1", "Q2", "Q3", "Q4"]
QUERY_NAMES: tuple[QueryName, ...] = ("Q1", "Q2", "Q3", "Q4")

LOCALE = "en-US"
LISTING_CHANNEL = "mobile"
LISTING_SLOT = "thumbnail"
LISTING_ATTRIBUTE = "weight"
DETAIL_CHANNEL = "web"
DASHBOARD_CHANNEL = "mobile"
PAGE_SIZE = 48
SMALL_PAGE_SIZE = 12
# Q1's marginal cost per extra product is measured between PAGE_SIZE and this (the most a page
# may hold).
LARGE_PAGE_SIZE = 100
ENTITIES = 100
# The default sort of `products` (SKU ascending), for computing the cursors of later pages.
SKU_SORT = SortSpec("sku", "sku", False)

Q1 = """
query Listing($first: Int!, $after: String) {
  products(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        sku
        name(locale: "en-US")
        attributes(codes: ["weight"]) { code value }
        heroImage(channel: "mobile") { url(slot: "thumbnail") }
        readiness(channel: "mobile") { score }
      }
    }
  }
}
"""

Q2 = """
query Detail($sku: ID!) {
  product(sku: $sku) {
    sku
    name(locale: "en-US")
    mediaManifest(channel: "web") {
      channel
      locale
      complete
      slots {
        slot
        resourceType
        asset { publicId }
        url
        srcset
        width
        height
        format
        alt { text locale isFallback }
        role
        posterUrl
        isFallback
        isPlaceholder
        reasons
      }
    }
    variants {
      sku
      options { code value }
      swatch(channel: "web") { publicId url(slot: "swatch") }
    }
    accessories {
      sku
      name(locale: "en-US")
      heroImage(channel: "web") { url(slot: "thumbnail") }
    }
    bundleItems { sku quantity product { sku name(locale: "en-US") } }
    readiness(channel: "web") {
      score
      ready
      missingLocales
      missingRoles
      checks { id passed severity weight message hint }
    }
  }
}
"""

Q3 = """
query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Product {
      sku
      brand
      name(locale: "en-US")
      heroImage(channel: "mobile") { url(slot: "thumbnail") }
    }
  }
}
"""

Q4 = """
query Dashboard {
  catalogReadiness(channel: "mobile") {
    channel
    products
    scored
    stale
    ready
    averageScore
    bands { min max count }
    failingChecks { id count }
  }
}
"""

DOCUMENTS: dict[QueryName, str] = {"Q1": Q1, "Q2": Q2, "Q3": Q3, "Q4": Q4}


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request of the load: a GraphQL POST body, or a REST GET (body None)."""

    method: Literal["GET", "POST"]
    path: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()  # beyond GRAPHQL_HEADERS, e.g. Authorization


GRAPHQL_HEADERS = {
    "content-type": "application/json",
    "accept": "application/graphql-response+json",
}


def graphql_body(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


@dataclass(frozen=True, slots=True)
class Workload:
    """What the load rotates over, computed once from the seeded catalog."""

    listing_cursors: tuple[str | None, ...]  # `after` of each Q1 page (48 per page)
    small_listing_cursors: tuple[str | None, ...]  # the same for pages of 12
    detail_skus: tuple[str, ...]  # Q2 products (with accessories or bundle items)
    entity_batches: tuple[tuple[str, ...], ...]  # Q3 representation sets
    large_listing_cursors: tuple[str | None, ...] = (None,)  # pages of LARGE_PAGE_SIZE

    def listing_cursors_for(self, page_size: int) -> tuple[str | None, ...]:
        if page_size == SMALL_PAGE_SIZE:
            return self.small_listing_cursors
        if page_size == LARGE_PAGE_SIZE:
            return self.large_listing_cursors
        return self.listing_cursors

    def graphql(self, query: QueryName, page_size: int = PAGE_SIZE) -> list[Request]:
        """GraphQL requests for ``query`` (``page_size`` only matters for Q1)."""
        if query == "Q1":
            cursors = self.listing_cursors_for(page_size)
            return [
                Request("POST", "/graphql", graphql_body(Q1, {"first": page_size, "after": c}))
                for c in cursors
            ]
        if query == "Q2":
            return [
                Request("POST", "/graphql", graphql_body(Q2, {"sku": sku}))
                for sku in self.detail_skus
            ]
        if query == "Q3":
            return [
                Request("POST", "/graphql", graphql_body(Q3, {"representations": reps(batch)}))
                for batch in self.entity_batches
            ]
        return [Request("POST", "/graphql", graphql_body(Q4))]

    def rest(self, query: QueryName, page_size: int = PAGE_SIZE) -> list[Request]:
        """REST floor requests for Q1 and Q2 (the floor has no Q3 or Q4)."""
        if query == "Q1":
            cursors = self.listing_cursors_for(page_size)
            return [Request("GET", rest_listing_path(page_size, c)) for c in cursors]
        if query == "Q2":
            return [Request("GET", rest_detail_path(sku)) for sku in self.detail_skus]
        raise ValueError(f"the REST floor has no {query}")


def reps(skus: Sequence[str]) -> list[dict[str, str]]:
    return [{"__typename": "Product", "sku": sku} for sku in skus]


def rest_listing_path(first: int, after: str | None) -> str:
    params: dict[str, str | int] = {"first": first}
    if after is not None:
        params["after"] = after
    return f"/rest/products?{urlencode(params)}"


def rest_detail_path(sku: str) -> str:
    return f"/rest/products/{quote(sku, safe='')}"


async def build_workload(
    catalog: Catalog,
    *,
    pages: int = 20,
    details: int = 200,
    entity_batches: int = 20,
    seed: int = 5,
) -> Workload:
    """Cursors of the first ``pages`` listing pages, a deterministic sample of detail SKUs
    (products with accessories or bundle items first) and ``entity_batches`` sets of 100 SKUs."""
    rows = await catalog.products.find({}, {"sku": 1}).sort(SKU_SORT.mongo_sort).to_list()
    skus = [row["sku"] for row in rows]

    def cursors(size: int) -> tuple[str | None, ...]:
        out: list[str | None] = [None]
        for page in range(1, pages):
            last = page * size - 1
            if last >= len(skus) - 1:
                break
            out.append(encode_cursor(SKU_SORT, rows[last]))
        return tuple(out)

    rng = random.Random(seed)
    related = [
        d["sku"]
        async for d in catalog.products.find(
            {"$or": [{"accessories.0": {"$exists": True}}, {"bundle.0": {"$exists": True}}]},
            {"sku": 1},
        ).sort("sku", 1)
    ]
    bundles = [
        d["sku"]
        async for d in catalog.products.find({"bundle.0": {"$exists": True}}, {"sku": 1}).sort(
            "sku", 1
        )
    ]
    sample = rng.sample(related, min(details, len(related)))
    # Every tenth detail page is a bundle, so bundle items are exercised throughout.
    for index in range(0, len(sample), 10):
        if bundles:
            sample[index] = bundles[(index // 10) % len(bundles)]
    batches = tuple(
        tuple(rng.sample(skus, min(ENTITIES, len(skus)))) for _ in range(entity_batches)
    )
    return Workload(
        listing_cursors=cursors(PAGE_SIZE),
        small_listing_cursors=cursors(SMALL_PAGE_SIZE),
        large_listing_cursors=cursors(LARGE_PAGE_SIZE),
        detail_skus=tuple(dict.fromkeys(sample)),
        entity_batches=batches,
    )
