"""Lean resolvers (schema.lean_resolvers): the fields that take them answer exactly as through
Strawberry's resolver wrapper: the benchmark queries, argument errors, locale fallbacks."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from resolvers.services import Services
from schema import build_schema
from schema.lean_resolvers import lean_resolver
from schema.schema import CatalogSchema
from tests.benchmark_cases import benchmark_cases
from tests.graphql_helpers import execute, shared_schema


@cache
def strawberry_schema() -> CatalogSchema:
    """The same schema with Strawberry's resolver wrapper on every field."""
    return build_schema(lean_resolvers=False)


def field_resolver(type_name: str, field_name: str) -> Any:
    graphql_type: Any = shared_schema()._schema.type_map[type_name]
    return graphql_type.fields[field_name].resolve


@pytest.mark.parametrize(
    ("type_name", "field_name"),
    [
        ("Product", "name"),
        ("Product", "heroImage"),
        ("Product", "readiness"),
        ("MediaAsset", "url"),
    ],
)
def test_fields_with_plain_arguments_and_no_extensions_are_lean(
    type_name: str, field_name: str
) -> None:
    assert field_resolver(type_name, field_name).__qualname__.startswith("lean_resolver")


@pytest.mark.parametrize(
    ("type_name", "field_name"),
    [
        ("Product", "publishing"),  # a permission extension
        ("Product", "media"),  # an enum list argument
        ("MediaAsset", "srcset"),  # an enum argument
        ("Query", "products"),  # input objects
    ],
)
def test_other_fields_keep_strawberrys_resolver(type_name: str, field_name: str) -> None:
    graphql_type: Any = shared_schema()._schema.type_map[type_name]
    assert lean_resolver(graphql_type.fields[field_name]) is None
    assert not field_resolver(type_name, field_name).__qualname__.startswith("lean_resolver")


PROBLEMS = """query($locale: String, $channel: String!, $slot: String!) {
  products(first: 5) { edges { node {
    sku
    name(locale: $locale)
    heroImage(channel: $channel) { url(slot: $slot) }
    attributes(codes: ["weight", "nope"]) { code value }
  } } }
}"""


async def test_lean_and_strawberry_resolvers_answer_alike(demo: Services) -> None:
    cases = [
        *await benchmark_cases(demo),
        # A locale without its own text (fallbacks), an unknown locale, channel and slot.
        (PROBLEMS, {"locale": "de-AT", "channel": "mobile", "slot": "thumbnail"}),
        (PROBLEMS, {"locale": "xx-NOPE", "channel": "mobile", "slot": "thumbnail"}),
        (PROBLEMS, {"locale": None, "channel": "nope", "slot": "thumbnail"}),
        (PROBLEMS, {"locale": None, "channel": "web", "slot": "nope"}),
    ]
    errors = 0
    for query, variables in cases:
        lean = await execute(demo, query, variables)
        strawberry = await execute(demo, query, variables, schema=strawberry_schema())
        assert lean.data == strawberry.data, variables
        assert [e.formatted for e in lean.errors or []] == [
            e.formatted for e in strawberry.errors or []
        ], variables
        assert lean.extensions == strawberry.extensions, variables
        errors += len(lean.errors or [])
    assert errors > 0  # the error cases did go wrong
