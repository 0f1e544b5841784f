"""Read less, reviewed: queries that reach products other than through the benchmark
queries answer the same projected and with whole documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import ExperimentalIncrementalExecutionResults
from pymongo.asynchronous.database import AsyncDatabase

import schema.lookahead
from resolvers.access import Principal
from resolvers.db import Catalog, Document
from resolvers.services import Services
from schema.global_ids import to_global_id
from schema.types.product import variant_id
from tests.graphql_helpers import execute
from tests.schema.test_prefetch import image_slot
from tests.schema.test_publishing import data, publish_on
from tests.workflow_fixtures import EDITOR, STOREFRONT, load, product, services


async def both_ways(services: Services, query: str, variables: dict[str, Any]) -> None:
    projected_data, whole_data = await answers(services, query, variables)
    assert projected_data == whole_data


async def answers(
    services: Services, query: str, variables: dict[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The data of ``query`` projected, then with whole documents (both must succeed)."""
    projected = await execute(services, query, variables, max_cost=10**6)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema.lookahead, "product_fields", lambda info: None)
        whole = await execute(services, query, variables, max_cost=10**6)
    assert whole.errors is None, whole.errors
    assert projected.errors is None, projected.errors
    return projected.data, whole.data


async def some(services: Services, query: dict[str, Any]) -> Document:
    found = await services.catalog.products.find_one(query, sort=[("sku", 1)])
    assert found is not None
    return found


QUERIES = {
    "category products": """{ categories { slug products(first: 3) { edges { node {
        sku name related { sku name readiness(channel: "web") { score } } } } } } }""",
    "fragment on Node": """query($id: ID!) { node(id: $id) { ... on Node { id }
        ... on Product { sku description } } }""",
    "named fragment two depths": """fragment F on Product { sku name description }
        query { products(first: 3) { edges { node { ...F accessories { ...F } } } } }""",
    "aliases": """{ products(first: 4) { edges { node { sku
        a: attributes(codes: ["color"]) { code } b: attributes { code value } } } } }""",
    "skip include": """query($t: Boolean!) { products(first: 4) { edges { node { sku
        name @include(if: $t) description @skip(if: $t) } } } }""",
    "two roots": """query($sku: ID!) { product(sku: $sku) { sku name }
        products(first: 5) { edges { node { sku description variants { sku } } } } }""",
    "bundle": """{ products(first: 30) { edges { node { sku
        bundleItems { sku product { sku name media(channel: "web") { publicId } } } } } } }""",
    "variants": """{ products(first: 10) { edges { node { sku variants { sku
        swatch(channel: "web") { publicId } attributes { code value }
        media(channel: "web") { publicId } } } } } }""",
    "publishing": """{ products(first: 5) { edges { node { sku
        publishing { channel state revision publishedRevision } revision } } } }""",
    "manifest": """{ products(first: 5) { edges { node { sku
        mediaManifest(channel: "web", locale: "de-DE") { complete slots { slot
        alt { text } url } } readiness(channel: "web", locale: "de-DE") { score ready } } } } }""",
    "sorts": """{ products(first: 3, sort: {field: NAME}) { pageInfo { endCursor }
        edges { cursor node { sku } } } }""",
    "filters": """query($q: String!) { products(first: 5, filter: {search: $q,
        status: [PUBLISHED, DRAFT], readiness: {channel: "web", minScore: 10}},
        sort: {field: NAME, locale: "fr-CA"}) { totalCount pageInfo { endCursor }
        edges { cursor node { sku name(locale: "fr-CA") } } } }""",
    "product with entities": """query($sku: ID!) { product(sku: $sku) { sku variants { sku } }
        p2: product(sku: $sku) { readiness(channel: "mobile", locale: "de-AT") { score } } }""",
}


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_answers_the_same(demo: Services, name: str) -> None:
    product = await some(demo, {"variants.0": {"$exists": True}})
    variables: dict[str, Any] = {}
    query = QUERIES[name]
    if "$id" in query:
        variables["id"] = to_global_id("Product", str(product["_id"]))
    if "$sku" in query:
        variables["sku"] = product["sku"]
    if "$q" in query:
        variables["q"] = str(next(iter(product["name"].values()))).split()[0]
        found = await execute(demo, query, variables)
        assert found.data is not None
        assert found.data["products"]["edges"]
    if "$t" in query:
        for flag in (True, False):
            await both_ways(demo, query, {"t": flag})
        return
    await both_ways(demo, query, variables)


async def test_variant_node(demo: Services) -> None:
    product = await some(demo, {"variants.0": {"$exists": True}})
    vid = variant_id(product, product["variants"][0]["sku"])
    query = """query($id: ID!) { node(id: $id) { ... on ProductVariant { sku
        swatch(channel: "web") { publicId } media(channel: "web") { publicId }
        attributes { code value } } } }"""
    await both_ways(demo, query, {"id": vid})


PAGED = """query($after: String, $sort: ProductSortInput) {
  products(first: 4, after: $after, sort: $sort) {
    pageInfo { endCursor } edges { cursor node { sku } } } }"""


@pytest.mark.parametrize(
    "sort",
    [
        {"field": "NAME", "locale": "de-AT"},
        {"field": "NAME", "locale": "de-DE", "direction": "DESC"},
        {"field": "READINESS", "channel": "web"},
        {"field": "UPDATED_AT"},
    ],
)
async def test_pages_follow_the_same(demo: Services, sort: dict[str, Any]) -> None:
    after = None
    for _ in range(3):
        variables = {"after": after, "sort": sort}
        await both_ways(demo, PAGED, variables)
        result = await execute(demo, PAGED, variables)
        assert result.data is not None
        after = result.data["products"]["pageInfo"]["endCursor"]


async def test_entities_and_nodes_mixed(demo: Services) -> None:
    product = await some(demo, {"variants.0": {"$exists": True}})
    category = await demo.catalog.categories.find_one({}, sort=[("slug", 1)])
    assert category is not None
    reference = product["media"][0]
    representations = [
        {"__typename": "Category", "slug": category["slug"]},
        {"__typename": "Product", "sku": product["sku"]},
        {"__typename": "MediaAsset", "publicId": reference["publicId"]},
    ]
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
      ... on Category { slug products(first: 2) { edges { node { sku description } } } }
      ... on Product { sku name }
      ... on Node { id } } }"""
    await both_ways(demo, query, {"r": representations})
    ids = [
        to_global_id("Category", str(category["_id"])),
        variant_id(product, product["variants"][0]["sku"]),
        to_global_id("Product", str(product["_id"])),
    ]
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { id
      ... on Category { products(first: 2) { edges { node { sku attributes { code } } } } }
      ... on ProductVariant { sku swatch(channel: "web") { publicId } }
      ... on Product { description } } }"""
    await both_ways(demo, query, {"ids": ids})


async def incremental(services: Services, query: str) -> list[Any]:
    """Every payload of a deferred operation, in order."""
    result = await execute(services, query, {}, max_cost=10**6)
    assert isinstance(result, ExperimentalIncrementalExecutionResults)
    payloads: list[Any] = [result.initial_result.formatted]
    async for later in result.subsequent_results:
        payloads.append(later.formatted)
    return payloads


async def test_deferred_fragments_answer_the_same(demo: Services) -> None:
    query = """query { products(first: 3) { edges { node { sku
      ... @defer { description related { sku description } } } } } }"""
    projected = await incremental(demo, query)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema.lookahead, "product_fields", lambda info: None)
        whole = await incremental(demo, query)
    assert len(projected) > 1
    assert projected == whole


CONSOLE = Path(__file__).parents[2] / "gateway" / "console" / "graphql"


@pytest.mark.parametrize(
    "name",
    [
        "ConsoleProduct",
        "ConsoleReadiness",
        "ConsoleReviewQueue",
        "ConsoleReviewItem",
        "ConsoleProductMedia",
    ],
)
async def test_console_operations_answer_the_same(demo: Services, name: str) -> None:
    product = await some(demo, {"variants.0": {"$exists": True}})
    query = (CONSOLE / f"{name}.graphql").read_text()
    variables = {
        "sku": product["sku"],
        "channel": "web",
        "slot": image_slot(demo, "web"),
        "first": 5,
        "states": ["DRAFT", "IN_REVIEW", "PUBLISHED"],
        "sort": {"field": "READINESS", "channel": "web"},
    }
    used = {k: v for k, v in variables.items() if f"${k}" in query}
    projected, whole = await answers(demo, query, used)
    for answer in (projected, whole):
        # When the shared dashboard was computed: not a product read.
        assert answer is not None
        answer.get("catalogReadiness", {}).pop("computedAt", None)
    assert projected == whole


@pytest.mark.indexed
async def test_published_copies_answer_the_same(db: AsyncDatabase[dict[str, Any]]) -> None:
    catalog = Catalog(db)
    await load(
        catalog,
        [
            product("PR-1", 1),
            product("PR-HUB", 2, accessories=["PR-1"], bundle=[{"sku": "PR-1", "quantity": 2}]),
        ],
    )
    svc = services(catalog)
    await publish_on(svc, ["PR-1", "PR-HUB"], ["web"])
    query = """{ products(first: 5) { edges { node { sku name description status
      accessories { sku name heroImage(channel: "web") { publicId } }
      bundleItems { quantity product { sku brand variants { sku } } } } } } }"""
    views: list[tuple[Principal, str | None]] = [(STOREFRONT, "web"), (EDITOR, None)]
    for principal, channel in views:
        projected = await data(svc, principal, query, read_channel=channel)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(schema.lookahead, "product_fields", lambda info: None)
            whole = await data(svc, principal, query, read_channel=channel)
        assert projected["products"]["edges"]
        assert projected == whole
