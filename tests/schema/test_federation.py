"""Federation 2: the subgraph SDL, batched entity resolution, and composition with a peer."""

from typing import Any

import pytest

from resolvers.db import Catalog
from resolvers.services import Services
from tests.command_counter import CommandCounter
from tests.fixtures.small_catalog import load_small_catalog
from tests.graphql_helpers import data_of, services_for, shared_schema
from tests.node_tools import run_node_script

pytestmark = pytest.mark.indexed

REVIEWS_SDL = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

type Product @key(fields: "sku") {
  sku: String!
  reviews: [Review!]!
}

type Review {
  id: ID!
  rating: Int!
}

type Query {
  latestReviews: [Review!]!
}
"""

ENTITIES = """query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Product { sku name }
    ... on Category { slug }
  }
}"""


@pytest.fixture
async def services(db: Any) -> Services:
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    return services_for(catalog)


def subgraph_sdl() -> str:
    result = shared_schema().execute_sync("{ _service { sdl } }")
    assert result.errors is None
    assert result.data is not None
    return str(result.data["_service"]["sdl"])


def test_sdl_declares_the_keys() -> None:
    sdl = subgraph_sdl()
    # v2.9: the newest The Guild's composition (Hive, Hive Gateway) knows; only @key is used.
    assert '@link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])' in sdl
    assert 'type Product implements Node @key(fields: "sku") @key(fields: "id")' in sdl
    assert 'type Category implements Node @key(fields: "slug")' in sdl


async def test_entities_by_sku_id_and_slug(services: Services) -> None:
    product = await data_of(services, '{ product(sku: "NW-RUN-002") { id } }')
    representations = [
        {"__typename": "Product", "sku": "NW-RUN-001"},
        {"__typename": "Product", "id": product["product"]["id"]},
        {"__typename": "Product", "sku": "UNKNOWN"},
        {"__typename": "Category", "slug": "socks"},
    ]
    data = await data_of(services, ENTITIES, {"representations": representations})
    assert data["_entities"] == [
        {"__typename": "Product", "sku": "NW-RUN-001", "name": "Trail Runner"},
        {"__typename": "Product", "sku": "NW-RUN-002", "name": "Road Runner"},
        None,
        {"__typename": "Category", "slug": "socks"},
    ]


async def test_hundred_representations_cost_one_products_query(
    services: Services, db: Any, command_counter: CommandCounter
) -> None:
    base = (await services.catalog.products.find_one({"sku": "NW-RUN-001"})) or {}
    base.pop("_id")
    await services.catalog.products.insert_many(
        [{**base, "sku": f"BULK-{i:03d}", "variants": []} for i in range(100)]
    )
    representations = [{"__typename": "Product", "sku": f"BULK-{i:03d}"} for i in range(100)]
    with command_counter.record(db.name) as recorded:
        data = await data_of(services, ENTITIES, {"representations": representations})
    assert [e["sku"] for e in data["_entities"]] == [f"BULK-{i:03d}" for i in range(100)]
    assert recorded.names() == {"find:products": 1}


@pytest.mark.parametrize("composer", ["apollo", "guild"])
def test_composes_with_a_subgraph_that_extends_product(composer: str) -> None:
    result = run_node_script(
        "compose.mjs",
        composer,
        stdin=[
            {"name": "catalog", "url": "http://catalog:8000/graphql", "sdl": subgraph_sdl()},
            {"name": "reviews", "url": "http://reviews:4000/graphql", "sdl": REVIEWS_SDL},
        ],
    )
    assert "errors" not in result, result.get("errors")
    supergraph = result["supergraphSdl"]
    assert '@join__type(graph: CATALOG, key: "sku")' in supergraph
    assert '@join__type(graph: REVIEWS, key: "sku")' in supergraph
    assert "reviews: [Review!]! @join__field(graph: REVIEWS)" in supergraph


@pytest.mark.parametrize("composer", ["apollo", "guild"])
def test_composition_reports_a_conflicting_peer(composer: str) -> None:
    conflicting = REVIEWS_SDL.replace("sku: String!", "sku: Int!")
    result = run_node_script(
        "compose.mjs",
        composer,
        stdin=[
            {"name": "catalog", "url": "http://catalog:8000/graphql", "sdl": subgraph_sdl()},
            {"name": "reviews", "url": "http://reviews:4000/graphql", "sdl": conflicting},
        ],
    )
    assert any('"Product.sku"' in error for error in result["errors"])


@pytest.mark.parametrize(
    ("representations", "message"),
    [
        ([{"__typename": "Nope"}], "'Nope' is not an entity of this subgraph"),
        (["text"], "each representation must be an object with __typename"),
        ([{"__typename": "Product", "sku": {"$ne": None}}], "need a string 'sku'"),
        ([{"__typename": "Product", "id": 5}], "need a string 'id'"),
        ([{"__typename": "Category", "slug": ["x"]}], "need a string 'slug'"),
        ([{"__typename": "MediaAsset", "publicId": 1}], "need a string 'publicId'"),
        ([{"__typename": "Product", "sku": "A"}] * 501, "at most 500 per request"),
    ],
)
async def test_malformed_representations_are_user_errors(
    services: Services, representations: list[Any], message: str
) -> None:
    from tests.graphql_helpers import execute

    result = await execute(services, ENTITIES, {"representations": representations})
    assert result.errors is not None
    error = result.errors[0].formatted
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in error["message"]


async def test_media_asset_entities_never_reach_the_admin_api(services: Services, db: Any) -> None:
    representations = [{"__typename": "MediaAsset", "publicId": f"junk/{i}"} for i in range(300)]
    query = "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }"
    data = await data_of(services, query, {"r": representations})
    assert data["_entities"] == [None] * 300
    assert services.dam.stats.admin_calls == 0
    assert await db["assets"].count_documents({}) == 0
