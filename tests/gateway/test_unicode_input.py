"""A lone UTF-16 surrogate anywhere in a request is the client's error, refused at the edge."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import Settings
from gateway.unicode_guard import first_invalid_unicode
from resolvers.db import Catalog
from tests.fixtures.small_catalog import load_small_catalog
from tests.http_helpers import serve

pytestmark = pytest.mark.indexed

GQL = "application/graphql-response+json"
LONE = "\ud800"

PRODUCTS = "query($s: ProductFilterInput) { products(filter: $s) { totalCount } }"
ENTITIES = "query($s: [_Any!]!) { _entities(representations: $s) { __typename } }"

# Every place a string reaches MongoDB, as the fuzz found them: id, query, variable $s, where.
ENTRY_POINTS: list[tuple[str, str, Any, str]] = [
    ("product-sku", "query($s: ID) { product(sku: $s) { sku } }", LONE, "variables.s"),
    ("search", PRODUCTS, {"search": LONE}, "variables.s.search"),
    ("brand", PRODUCTS, {"brand": ["Acme", LONE]}, "variables.s.brand[1]"),
    ("category-filter", PRODUCTS, {"category": LONE}, "variables.s.category"),
    ("slug", "query($s: String!) { category(slug: $s) { slug } }", LONE, "variables.s"),
    ("parent", "query($s: String) { categories(parent: $s) { slug } }", LONE, "variables.s"),
    (
        "entities-sku",
        ENTITIES,
        [{"__typename": "Product", "sku": LONE}],
        "variables.s[0].sku",
    ),
    (
        "entities-slug",
        ENTITIES,
        [{"__typename": "Category", "slug": LONE}],
        "variables.s[0].slug",
    ),
    (
        "entities-publicId",
        ENTITIES,
        [{"__typename": "MediaAsset", "publicId": LONE}],
        "variables.s[0].publicId",
    ),
    (
        "variantOptions",
        PRODUCTS,
        {"variantOptions": [{"code": "size", "value": LONE}]},
        "variables.s.variantOptions[0].value",
    ),
    (
        "attribute-equals",
        PRODUCTS,
        {"attributes": [{"code": "color", "equals": LONE}]},
        "variables.s.attributes[0].equals",
    ),
    # In a key of a JSON scalar: it would become a field name in a MongoDB filter.
    (
        "attribute-equals-key",
        PRODUCTS,
        {"attributes": [{"code": "color", "equals": {LONE: 1}}]},
        "variables.s.attributes[0].equals.\\ud800",
    ),
]


@pytest.fixture
async def client(settings: Settings, db: Any) -> AsyncIterator[httpx.AsyncClient]:
    await load_small_catalog(Catalog(db))
    async with serve(create_app(settings)) as http:
        yield http


def post(client: httpx.AsyncClient, body: dict[str, Any], accept: str = GQL) -> Any:
    # json.dumps escapes the surrogate as \ud800, as a JavaScript client's JSON.stringify does;
    # httpx's own encoder would fail on it.
    return client.post(
        "/graphql",
        content=json.dumps(body),
        headers={"content-type": "application/json", "accept": accept},
    )


def assert_refused(response: httpx.Response, where: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["message"].startswith(f"'{where}' is not valid Unicode")
    assert "U+D800" in error["message"]


@pytest.mark.parametrize(
    "method",
    [pytest.param("POST", id="post"), pytest.param("GET", id="get")],
)
@pytest.mark.parametrize(
    ("query", "value", "where"),
    [pytest.param(*case, id=name) for name, *case in ENTRY_POINTS],
)
async def test_lone_surrogate_in_a_variable_is_bad_user_input(
    client: httpx.AsyncClient, method: str, query: str, value: Any, where: str
) -> None:
    if method == "POST":
        response = await post(client, {"query": query, "variables": {"s": value}})
    else:
        params = {"query": query, "variables": json.dumps({"s": value})}
        response = await client.get("/graphql", params=params, headers={"accept": GQL})
    assert_refused(response, where)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"query": '{ product(sku: "' + LONE + '") { sku } }'}, "query"),
        ({"query": "{ channels { name } }", "operationName": LONE}, "operationName"),
        (
            {"query": "{ channels { name } }", "extensions": {"trace": [LONE]}},
            "extensions.trace[0]",
        ),
    ],
)
async def test_lone_surrogate_in_the_document_or_other_parameters(
    client: httpx.AsyncClient, body: dict[str, Any], where: str
) -> None:
    assert_refused(await post(client, body), where)


async def test_escaped_surrogate_in_a_string_literal_is_a_parse_error(
    client: httpx.AsyncClient,
) -> None:
    """graphql-core's lexer refuses \\uD800 in a literal: it never reaches a resolver."""
    response = await post(client, {"query": '{ product(sku: "\\uD800") { sku } }'})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}


async def test_legacy_json_clients_get_200_with_the_error(client: httpx.AsyncClient) -> None:
    body = {"query": "query($s: ID) { product(sku: $s) { sku } }", "variables": {"s": LONE}}
    response = await post(client, body, accept="application/json")
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}


async def test_surrogate_pairs_are_characters_not_errors(client: httpx.AsyncClient) -> None:
    body = {"query": "query($s: ID) { product(sku: $s) { sku } }", "variables": {"s": "NW-😀"}}
    response = await post(client, body)
    assert response.status_code == 200
    assert response.json()["data"] == {"product": None}


def test_the_walk_survives_the_deepest_json_the_parser_accepts() -> None:
    deep: Any = LONE
    for _ in range(100_000):
        deep = [deep]
    found = first_invalid_unicode({"a": deep})
    assert found is not None
    path, character = found
    assert len(path) == 100_001
    assert character == LONE
