"""Planned field execution (schema.execution) answers exactly as graphql-core's: every benchmark
query, argument errors at each item's path, and a corpus of schema-generated operations."""

from __future__ import annotations

import enum
from functools import cache
from typing import Any

import pytest
import strawberry
from hypothesis import HealthCheck, given, settings
from hypothesis_graphql import Mode

from benchmarks.queries import Q4
from resolvers.services import Services
from schema import build_schema
from schema.execution import CatalogExecutionContext
from schema.schema import CatalogSchema
from tests.benchmark_cases import benchmark_cases
from tests.fuzz.test_fuzz_schema import operations
from tests.graphql_helpers import execute, shared_schema


@cache
def unplanned_schema() -> CatalogSchema:
    """The same schema executing every field through graphql-core's ``execute_field``."""
    return build_schema(planned_fields=False)


# Fields that measure the run itself (catalogAudit's seconds) differ between any two runs.
MEASURED = frozenset({"seconds"})


def steady(value: Any) -> Any:
    """``value`` with the measured fields left out."""
    if isinstance(value, dict):
        return {k: steady(v) for k, v in value.items() if k not in MEASURED}
    if isinstance(value, list):
        return [steady(v) for v in value]
    return value


async def assert_alike(services: Services, query: str, variables: dict[str, Any]) -> int:
    """Both paths give the same data, errors and extensions; how many errors."""
    planned = await execute(services, query, variables)
    unplanned = await execute(services, query, variables, schema=unplanned_schema())
    assert steady(planned.data) == steady(unplanned.data), (query, variables)
    assert [e.formatted for e in planned.errors or []] == [
        e.formatted for e in unplanned.errors or []
    ], (query, variables)
    assert planned.extensions == unplanned.extensions, (query, variables)
    return len(planned.errors or [])


def test_the_schema_plans_its_fields() -> None:
    assert shared_schema().execution_context_class is CatalogExecutionContext
    assert unplanned_schema().execution_context_class is not CatalogExecutionContext


# An unknown slot (a literal) and an unknown locale (a variable) fail on every item, and a
# nullable variable is left out: each item must report its own error at its own path.
PROBLEMS = """query($first: Int!, $locale: String, $slot: String!) {
  products(first: $first) { edges { node {
    sku
    name(locale: $locale)
    fallback: name
    heroImage(channel: "mobile") { url(slot: $slot) w: url(slot: "nope") }
    attributes(codes: ["weight", "nope"]) { code value }
    readiness(channel: "mobile") { score }
  } } }
}"""


async def test_benchmark_queries_and_errors_answer_alike(demo: Services) -> None:
    cases = [
        *await benchmark_cases(demo),
        (Q4, {}),
        (PROBLEMS, {"first": 6, "locale": "de-AT", "slot": "thumbnail"}),
        (PROBLEMS, {"first": 6, "locale": "xx-NOPE", "slot": "nope"}),
        (PROBLEMS, {"first": 6, "slot": "thumbnail"}),
    ]
    errors = 0
    for query, variables in cases:
        errors += await assert_alike(demo, query, variables)
    assert errors >= 2 * 6  # every item of the error cases went wrong on its own


MIXED_ENTITIES = """query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Product { sku name }
    ... on Category { slug }
    ... on MediaAsset { publicId }
  }
}"""


async def test_entities_of_every_type_answer_alike(demo: Services) -> None:
    product = await demo.catalog.products.find_one({}, sort=[("sku", 1)])
    category = await demo.catalog.categories.find_one({}, sort=[("slug", 1)])
    asset = await demo.catalog.assets.find_one({}, sort=[("publicId", 1)])
    assert product is not None
    assert category is not None
    assert asset is not None
    representations = [
        {"__typename": "Product", "sku": product["sku"]},
        {"__typename": "Category", "slug": category["slug"]},
        {"__typename": "MediaAsset", "publicId": asset["publicId"]},
        {"__typename": "Product", "sku": "NOPE"},
        {"__typename": "Category", "slug": "nope"},
        {"__typename": "Product", "sku": product["sku"]},
    ]
    variables = {"representations": representations}
    assert await assert_alike(demo, MIXED_ENTITIES, variables) == 0
    data = (await execute(demo, MIXED_ENTITIES, variables)).data
    assert data is not None
    assert [e and e["__typename"] for e in data["_entities"]] == [
        "Product",
        "Category",
        "MediaAsset",
        None,
        None,
        "Product",
    ]


@settings(
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # ``demo`` is only read
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(query=operations(Mode.POSITIVE))
async def test_schema_generated_operations_answer_alike(demo: Services, query: str) -> None:
    await assert_alike(demo, query, {})


# Attribute fields are answered in place; the ways they can fail must fail as in graphql-core.


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"


@strawberry.type
class Item:
    sku: str
    label: str | None
    colour: Colour
    count: int


@strawberry.type
class Parcel:
    item: Item
    items: list[Item | None]


@strawberry.type
class ParcelQuery:
    @strawberry.field
    def parcel(self) -> Parcel | None:
        good = Item(sku="A", label=None, colour=Colour.RED, count=1)
        null_sku = Item(sku=None, label="x", colour=Colour.RED, count=2)  # type: ignore[arg-type]
        bad_colour = Item(sku="C", label="y", colour="mauve", count=3)  # type: ignore[arg-type]
        bad_count = Item(sku="D", label="z", colour=Colour.RED, count="many")  # type: ignore[arg-type]
        return Parcel(item=good, items=[good, null_sku, bad_colour, bad_count])


PARCEL = """query($withLabel: Boolean!) {
  parcel {
    __typename
    item { sku label colour count kind: __typename }
    items { sku sku label @include(if: $withLabel) ...More }
  }
}
fragment More on Item { colour count c: count __typename }"""


@pytest.mark.parametrize("with_label", [True, False])
def test_attribute_fields_fail_as_in_graphql_core(
    with_label: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned = strawberry.Schema(query=ParcelQuery, execution_context_class=CatalogExecutionContext)
    plain = strawberry.Schema(query=ParcelQuery)
    variables = {"withLabel": with_label}
    executed: list[str] = []
    execute_field = CatalogExecutionContext.execute_field

    def recording(self: CatalogExecutionContext, *args: Any) -> Any:
        executed.append(".".join(str(key) for key in args[3].as_list()))
        return execute_field(self, *args)

    monkeypatch.setattr(CatalogExecutionContext, "execute_field", recording)
    got = planned.execute_sync(PARCEL, variable_values=variables)
    # Only the fields with resolvers and the failing attributes went through execute_field.
    assert executed == [
        "parcel",
        "parcel.item",
        "parcel.items",
        "parcel.items.1.sku",
        "parcel.items.2.colour",
        "parcel.items.3.count",
    ]
    expected = plain.execute_sync(PARCEL, variable_values=variables)
    assert got.data == expected.data
    assert [e.formatted for e in got.errors or []] == [e.formatted for e in expected.errors or []]
    # The null SKU, the unknown colour and the count that is no Int: each its own item's error.
    assert [e.path for e in got.errors or []] == [
        ["parcel", "items", 1, "sku"],
        ["parcel", "items", 2, "colour"],
        ["parcel", "items", 3, "count"],
    ]
    assert got.data is not None
    assert got.data["parcel"]["item"] == {
        "sku": "A",
        "label": None,
        "colour": "RED",
        "count": 1,
        "kind": "Item",
    }
    assert got.data["parcel"]["items"][1:] == [None, None, None]
