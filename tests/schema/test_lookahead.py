"""Prefetching by selection: a page loads what its selected fields read, once, before they
resolve; fields then answer without awaiting, and unselected media are never read."""

from typing import Any

import pytest

import schema.settled
from resolvers.assets import AssetByKeyLoader, AssetKey
from resolvers.db import Document
from resolvers.media import hero_slot
from resolvers.services import Services
from tests.command_counter import CommandCounter
from tests.graphql_helpers import data_of, execute


@pytest.fixture
def asset_batches(monkeypatch: pytest.MonkeyPatch) -> list[list[AssetKey]]:
    """The keys of every asset batch the request's loaders send to MongoDB."""
    batches: list[list[AssetKey]] = []
    original = AssetByKeyLoader.batch_load_fn

    async def recording(self: AssetByKeyLoader, keys: Any) -> list[Document | None]:
        batches.append(list(keys))
        return await original(self, keys)

    monkeypatch.setattr(AssetByKeyLoader, "batch_load_fn", recording)
    return batches


@pytest.fixture
def awaited_fields(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts product fields that had to wait for a loader (the slow path)."""
    calls: list[int] = []
    original = schema.settled._load_then_build

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(schema.settled, "_load_then_build", counting)
    return calls


LISTING = """query($first: Int!) { products(first: $first) { edges { node {
  sku
  attributes(codes: ["weight"]) { code value }
  heroImage(channel: "mobile") { publicId url(slot: "thumbnail") }
  readiness(channel: "mobile") { score }
} } } }"""


async def test_a_listing_page_is_prefetched_and_resolves_without_waiting(
    demo: Services, command_counter: CommandCounter, awaited_fields: list[int]
) -> None:
    with command_counter.record(demo.catalog.db.name) as recorded:
        data = await data_of(demo, LISTING, {"first": 48})
    nodes = [edge["node"] for edge in data["products"]["edges"]]
    assert len(nodes) == 48
    assert all(node["heroImage"]["url"].startswith("http") for node in nodes)
    assert dict(recorded.names()) == {
        "find:products": 1,
        "find:assets": 1,
        "find:categories": 1,
        "find:attributes": 1,
    }
    assert awaited_fields == []


async def test_prefetched_and_lazily_loaded_fields_agree(
    demo: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefetched = await data_of(demo, LISTING, {"first": 30})

    async def no_prefetch(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr("schema.types.connection.prefetch_products", no_prefetch)
    assert await data_of(demo, LISTING, {"first": 30}) == prefetched


@pytest.mark.parametrize(
    ("field", "roles"),
    [
        ('heroImage(channel: "web") { publicId }', None),
        ('media(channel: "web", roles: [HERO, SWATCH]) { publicId }', {"hero", "swatch"}),
    ],
)
async def test_media_fields_read_only_the_roles_they_can_use(
    demo: Services, asset_batches: list[list[AssetKey]], field: str, roles: set[str] | None
) -> None:
    query = f"{{ products(first: 20) {{ edges {{ node {{ sku {field} }} }} }} }}"
    data = await data_of(demo, query)
    assert len(data["products"]["edges"]) == 20
    (keys,) = asset_batches
    products = await demo.catalog.products.find().sort("sku", 1).limit(20).to_list()
    if roles is None:  # the roles of web's hero slot, not every channel's
        found = hero_slot(demo.channels.profiles["web"])
        assert found is not None
        roles = set(found[1].roles)
    assert len(keys) < sum(len(p["media"]) for p in products)
    assert {public_id for _, public_id in keys} == {
        r["publicId"] for p in products for r in p["media"] if r["role"] in roles
    }


async def test_a_malformed_media_reference_fails_only_its_own_field(fresh_demo: Services) -> None:
    demo = fresh_demo
    first = await demo.catalog.products.find().sort("sku", 1).limit(1).to_list()
    await demo.catalog.products.update_one(
        {"_id": first[0]["_id"]}, {"$push": {"media": {"role": "hero", "position": 99}}}
    )
    query = """{ products(first: 5) { edges { node {
        sku heroImage(channel: "web") { publicId } } } } }"""
    result = await execute(demo, query)
    assert result.data is not None
    edges = result.data["products"]["edges"]
    assert len(edges) == 5
    assert all(e["node"]["heroImage"] for e in edges[1:])
    assert result.errors is not None
    assert {tuple(e.path or ()) for e in result.errors} == {
        ("products", "edges", 0, "node", "heroImage")
    }


async def test_category_and_media_asset_entities_share_one_query_each(
    demo: Services, command_counter: CommandCounter
) -> None:
    categories = await demo.catalog.categories.find().limit(20).to_list()
    assets = await demo.catalog.assets.find({"status": "active"}).limit(30).to_list()
    representations = [{"__typename": "Category", "slug": c["slug"]} for c in categories] + [
        {"__typename": "MediaAsset", "publicId": a["publicId"]} for a in assets
    ]
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Category { slug } ... on MediaAsset { publicId } } }"""
    expected = len(representations)
    with command_counter.record(demo.catalog.db.name) as recorded:
        data = await data_of(demo, query, {"r": representations})
    assert len([e for e in data["_entities"] if e]) == expected
    assert dict(recorded.names()) == {"find:categories": 1, "find:assets": 1}


async def test_fields_behind_fragments_are_prefetched(
    demo: Services, command_counter: CommandCounter, awaited_fields: list[int]
) -> None:
    query = """
    fragment Card on Product { ...Score heroImage(channel: "web") { publicId } }
    fragment Score on Product { readiness(channel: "web") { score } }
    { products(first: 10) { edges { node { ... on Product { ...Card } } } } }"""
    with command_counter.record(demo.catalog.db.name) as recorded:
        await data_of(demo, query)
    assert recorded.names()["find:assets"] == 1
    assert awaited_fields == []


async def test_a_page_without_media_fields_reads_no_asset(
    demo: Services, command_counter: CommandCounter
) -> None:
    query = """{ products(first: 20) { edges { node {
        sku variants { sku options { code value } } } } } }"""
    with command_counter.record(demo.catalog.db.name) as recorded:
        await data_of(demo, query)
    assert dict(recorded.names()) == {"find:products": 1}


async def test_entities_are_prefetched_and_errors_stay_per_item(
    demo: Services, command_counter: CommandCounter, awaited_fields: list[int]
) -> None:
    skus = [p["sku"] for p in await demo.catalog.products.find().limit(3).to_list()]
    representations = [{"__typename": "Product", "sku": sku} for sku in skus]
    representations.insert(1, {"__typename": "Product", "sku": 42})
    representations.append({"__typename": "Product", "sku": "NO-SUCH-SKU"})
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Product { sku heroImage(channel: "mobile") { url(slot: "thumbnail") } } } }"""
    with command_counter.record(demo.catalog.db.name) as recorded:
        result = await execute(demo, query, {"r": representations})
    assert result.data is not None
    entities = result.data["_entities"]
    assert [e["sku"] if e else None for e in entities] == [skus[0], None, *skus[1:], None]
    assert result.errors is not None
    assert [error.path for error in result.errors] == [["_entities", 1]]
    assert dict(recorded.names()) == {"find:products": 1, "find:assets": 1}
    assert awaited_fields == []


async def test_related_products_are_prefetched_per_page(
    demo: Services, command_counter: CommandCounter, awaited_fields: list[int]
) -> None:
    query = """query($first: Int!) { products(first: $first) { edges { node {
        accessories { sku heroImage(channel: "web") { url(slot: "thumbnail") } }
        bundleItems { product { readiness(channel: "web") { score } } }
    } } } }"""
    counts = []
    for first in (10, 40):
        with command_counter.record(demo.catalog.db.name) as recorded:
            data = await data_of(demo, query, {"first": first})
        counts.append(dict(recorded.names()))
    accessories = [a for e in data["products"]["edges"] for a in e["node"]["accessories"]]
    assert accessories
    assert all(a["heroImage"]["url"] for a in accessories)
    # The page, its related products in one batch, their assets in one: whatever the page size.
    assert (
        counts[0]
        == counts[1]
        == {
            "find:products": 2,
            "find:assets": 1,
            "find:categories": 1,
            "find:attributes": 1,
        }
    )
    assert awaited_fields == []
