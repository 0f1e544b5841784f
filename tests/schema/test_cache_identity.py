"""Cache identity: what normalised client caches (Apollo Client's InMemoryCache) key objects by,
and the possibleTypes they need; checked with Apollo Client itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLObjectType

from resolvers.db import Catalog
from resolvers.services import Services
from schema.possible_types import possible_types, possible_types_json
from tests.fixtures.small_catalog import load_small_catalog
from tests.graphql_helpers import data_of, services_for, shared_schema
from tests.node_tools import run_node_script

pytestmark = pytest.mark.indexed

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "docs" / "possible-types.json"

# A storefront's screens: web thumbnails, and the same products' mobile thumbnails; with the
# __typename Apollo Client adds to every selection it sends.
THUMBNAILS = """query %s { products(first: 2) { __typename edges { __typename node {
  __typename id sku
  heroImage(channel: "%s") {
    __typename id publicId url(slot: "thumbnail") alt { __typename text }
  }
  variants { __typename id sku }
} } } }"""
WEB = THUMBNAILS % ("Web", "web")
MOBILE = THUMBNAILS % ("Mobile", "mobile")


@pytest.fixture
async def services(db: Any) -> Services:
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    return services_for(catalog)


def test_published_possible_types_are_the_schemas() -> None:
    assert PUBLISHED.read_text(encoding="utf-8") == possible_types_json(shared_schema()._schema), (
        "docs/possible-types.json is stale: run `make schema`"
    )


def test_entities_and_nodes_have_an_id() -> None:
    schema = shared_schema()._schema
    keyed = {"Product", "Category", "MediaAsset", *possible_types(schema)["Node"]}
    for name in sorted(keyed):
        type_ = schema.type_map[name]
        assert isinstance(type_, GraphQLObjectType)
        assert str(type_.fields["id"].type) == "ID!", name


async def test_apollo_client_keeps_channels_and_products_apart(services: Services) -> None:
    web = await data_of(services, WEB)
    mobile = await data_of(services, MOBILE)
    results = [{"query": WEB, "data": web}, {"query": MOBILE, "data": mobile}]
    possible = possible_types(shared_schema()._schema)
    # By id, as Apollo Client normalises by default: each screen reads back what it got.
    by_id = run_node_script(
        "apollo_cache.mjs", stdin={"possibleTypes": possible, "results": results}
    )
    assert by_id["reads"] == [web, mobile]
    # By publicId, as the storefront team first configured it: both products show the web
    # hero slot's placeholder, whose alt is the product's name, so the second one reads the
    # first one's name. That is why MediaAsset's id is qualified by product and channel.
    by_public_id = run_node_script(
        "apollo_cache.mjs",
        stdin={
            "possibleTypes": possible,
            "typePolicies": {"MediaAsset": {"keyFields": ["publicId"]}},
            "results": results,
        },
    )
    second_hero = by_public_id["reads"][0]["products"]["edges"][1]["node"]["heroImage"]
    assert web["products"]["edges"][1]["node"]["heroImage"]["alt"]["text"] == "Sprint Spike"
    assert second_hero["alt"]["text"] == "Kettle"


async def test_a_variant_id_is_a_global_id(services: Services) -> None:
    query = '{ product(sku: "NW-RUN-001") { variants { id sku } } }'
    variants = (await data_of(services, query))["product"]["variants"]
    assert variants
    ids = [variant["id"] for variant in variants]
    nodes = await data_of(
        services,
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on ProductVariant { sku } } }",
        {"ids": ids},
    )
    assert nodes["nodes"] == [
        {"__typename": "ProductVariant", "id": v["id"], "sku": v["sku"]} for v in variants
    ]
