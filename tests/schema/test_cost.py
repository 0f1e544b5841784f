"""Static query cost: variables resolved, the plan kept with the document."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse, specified_rules

from schema import build_schema
from schema.cost import DEFAULT_LIST_SIZE, FIELD_WEIGHTS, LIST_SIZES, cost_plan
from schema.document_cache import DocumentCache, prepare
from schema.document_limits import DocumentLimits

SCHEMA = build_schema()

PAGE = """query($n: Int = 5) {
  products(first: $n) {
    edges { node { sku media(channel: "web") { publicId } } }
    pageInfo { hasNextPage }
  }
}"""


def price(query: str, variables: dict[str, Any] | None = None, name: str | None = None) -> int:
    return cost_plan(SCHEMA._schema, parse(query)).price(name, variables)


def test_scalars_cost_nothing_objects_one() -> None:
    assert price("{ __typename }") == 0
    assert price('{ product(sku: "A") { sku brand } }') == 1
    assert (
        price('{ category(slug: "a") { slug children { slug } } }')
        == 1 + LIST_SIZES["Category.children"]
    )


@pytest.mark.parametrize(
    ("variables", "size"),
    [(None, 5), ({"n": 40}, 40), ({"n": "forty"}, 5)],
)
def test_a_connection_multiplies_its_nodes_by_first(
    variables: dict[str, Any] | None, size: int
) -> None:
    # products 1, pageInfo 1, per node: itself 1 and its media list 10 x 1 (edges weigh 0).
    media = LIST_SIZES["Product.media"]
    assert price(PAGE, variables) == 1 + 1 + size * (1 + media)


def test_first_omitted_takes_the_arguments_default() -> None:
    assert price("{ products { edges { node { sku } } } }") == 1 + 20


def test_nested_lists_multiply() -> None:
    query = """{ products(first: 100) { edges { node {
      accessories { related { media(channel: "web") { url } } }
    } } } }"""
    per_accessory = 1 + LIST_SIZES["Product.related"] * (1 + LIST_SIZES["Product.media"])
    assert price(query) == 1 + 100 * (1 + LIST_SIZES["Product.accessories"] * per_accessory)
    assert price(query) == 111_101


def test_readiness_manifest_and_audits_weigh_more() -> None:
    query = """{ product(sku: "A") {
      readiness(channel: "web") { score }
      mediaManifest(channel: "web") { complete }
    } }"""
    weights = FIELD_WEIGHTS["Product.readiness"] + FIELD_WEIGHTS["Product.mediaManifest"]
    assert price(query) == 1 + weights
    assert price("{ catalogAudit { locales } }") == FIELD_WEIGHTS["Query.catalogAudit"]


def test_entities_and_nodes_count_what_they_are_given() -> None:
    entities = """query($r: [_Any!]!) {
      _entities(representations: $r) { ... on Product { sku categories { slug } } }
    }"""
    per_product = 1 + LIST_SIZES["Product.categories"]
    three = [{"__typename": "Product", "sku": s} for s in "ABC"]
    assert price(entities, {"r": three}) == 3 * per_product
    assert price('{ nodes(ids: ["a", "b"]) { id } }') == 2
    assert price("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["a"] * 7}) == 7


def test_mutations_cost_ten_beside_their_payload() -> None:
    query = 'mutation { apiKeyRevoke(id: "k") { errors { message } } }'
    assert price(query) == 10 + 1 + DEFAULT_LIST_SIZE


def test_the_operation_named_is_priced() -> None:
    query = '{ product(sku: "A") { sku } } query Two { channels { name } }'
    document = 'query One { product(sku: "A") { sku } } query Two { channels { name } }'
    assert price(document, name="One") == 1
    assert price(document, name="Two") == LIST_SIZES["Query.channels"]
    assert price(query, name="Missing") == 0


def test_the_plan_is_prepared_with_the_document_and_kept_with_it() -> None:
    prepared = prepare(SCHEMA._schema, PAGE, {}, tuple(specified_rules), DocumentLimits())
    assert prepared.cost is not None
    assert prepared.cost.price(None, {"n": 2}) == 1 + 1 + 2 * 11
    cache = DocumentCache()
    cache.put(PAGE, prepared)
    cached = cache.get(PAGE)
    assert cached is not None
    assert cached.cost is prepared.cost
    refused = prepare(
        SCHEMA._schema, "{ products { nope } }", {}, tuple(specified_rules), DocumentLimits()
    )
    assert refused.cost is None


def test_a_negative_size_does_not_pay_for_the_fields_beside_it() -> None:
    costly = "b: products(first: 100) { edges { node { accessories { sku } } } }"
    query = "{ a: products(first: -100000) { edges { node { sku } } } " + costly + " }"
    assert price(query) == 1 + 1 + 100 * (1 + LIST_SIZES["Product.accessories"])
    by_variable = "query($n: Int!) { products(first: $n) { edges { node { sku } } } }"
    assert price(by_variable, {"n": -5}) == 1
