"""The prefetch contract: every field that reads loaders declares it (``schema.reads``), so the
prefetch loads it and the field reads nothing for itself; a failing prefetch costs latency,
never the page, and says so in the log.

The queries are generated from the schema: a field added to Product (or to any type below it)
is checked without being named here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLUnionType,
    Undefined,
    get_named_type,
    is_non_null_type,
)
from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField

import schema.lookahead
from resolvers.db import Document
from resolvers.services import Services
from schema import build_schema
from schema.reads import Roles, declared_reads, reads
from schema.schema import MAX_DEPTH
from schema.types.manifest import HERO
from schema.types.product import BundleItem, Product, ProductVariant
from tests.graphql_helpers import data_of, execute
from tests.schema.fallback_loads import FallbackLoads, fallback_loads

# A query of every field is priced far over the gateway's limit (schema.cost): these tests are
# about what each field reads, not about what a client may ask for.
EVERY_FIELD = 10**9

__all__ = ["fallback_loads"]  # the fixture

# The roles given to fields that take a ``roles`` argument (besides leaving it out).
ROLES = "[HERO, SWATCH]"


@cache
def object_types() -> dict[str, GraphQLObjectType]:
    type_map = build_schema().schema_converter.type_map
    return {
        name: t.implementation
        for name, t in type_map.items()
        if isinstance(t.implementation, GraphQLObjectType)
    }


def product_type() -> GraphQLObjectType:
    return object_types()[get_object_definition(Product, strict=True).name]


@dataclass(frozen=True)
class Selections:
    """Selections of every field, with arguments valid for one channel."""

    channel: str
    slot: str  # an image slot of the channel, for MediaAsset.url(slot:) and the like

    def required(self, name: str) -> str:
        values = {"channel": self.channel, "slot": self.slot}
        assert name in values, f"no test value for the required argument {name!r}: add one"
        return json.dumps(values[name])

    def arguments(self, field: GraphQLField, given: dict[str, str]) -> str:
        values = [f"{name}: {value}" for name, value in given.items()]
        values += [
            f"{name}: {self.required(name)}"
            for name, argument in field.args.items()
            if name not in given
            and is_non_null_type(argument.type)
            and argument.default_value is Undefined
        ]
        return f"({', '.join(values)})" if values else ""

    def field(
        self,
        name: str,
        field: GraphQLField,
        depth: int,
        chain: tuple[str, ...],
        given: dict[str, str] | None = None,
    ) -> str | None:
        """``name`` with its arguments and every field below it, in ``depth`` levels (the field's
        own included); None when it does not fit."""
        text = name + self.arguments(field, given or {})
        below = get_named_type(field.type)
        if not isinstance(below, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            return text
        if depth < 2:
            return None
        declared = declared_reads(field)
        # A type is expanded twice on a chain: products, and the products they link to.
        if (declared is not None and declared.loads_itself) or chain.count(below.name) >= 2:
            return f"{text} {{ __typename }}"
        return f"{text} {self.every_field(below, depth - 1, (*chain, below.name))}"

    def every_field(self, named: GraphQLNamedType, depth: int, chain: tuple[str, ...]) -> str:
        parts = []
        if isinstance(named, GraphQLObjectType):
            for name, field in named.fields.items():
                part = self.field(name, field, depth, chain)
                if part is not None:
                    parts.append(part)
        return "{ " + " ".join(parts or ["__typename"]) + " }"


def reachable_fields() -> Iterator[tuple[list[tuple[str, GraphQLField]], str, GraphQLField]]:
    """Every field of every type below Product (not below fields that load for themselves),
    with the chain of fields that leads there from Product, shortest first."""
    root = product_type()
    chains: dict[str, list[tuple[str, GraphQLField]]] = {root.name: []}
    queue = [root]
    while queue:
        owner = queue.pop(0)
        for name, field in owner.fields.items():
            yield chains[owner.name], name, field
            below = get_named_type(field.type)
            declared = declared_reads(field)
            if (
                isinstance(below, GraphQLObjectType)
                and below.name not in chains
                and not (declared is not None and declared.loads_itself)
            ):
                chains[below.name] = [*chains[owner.name], (name, field)]
                queue.append(below)


def argument_choices(field: GraphQLField, channels: list[str]) -> list[tuple[str, dict[str, str]]]:
    """(channel, arguments given) for each way to select ``field`` worth checking: each channel
    when it takes one, with and without roles when it takes them."""
    if "channel" not in field.args:
        return [(channels[0], {})]
    roles: list[dict[str, str]] = [{}, {"roles": ROLES}] if "roles" in field.args else [{}]
    return [
        (channel, {"channel": json.dumps(channel), **given})
        for channel in channels
        for given in roles
    ]


def image_slot(services: Services, channel: str) -> str:
    profile = services.channels.profiles[channel]
    lead = profile.lead_slot("hero")
    if lead is not None:
        return lead[0]
    return next(name for name, slot in profile.slots.items() if slot.resource_type == "image")


def representations(products: list[Document]) -> list[dict[str, Any]]:
    """Fresh each time: resolving them consumes their ``__typename``."""
    return [{"__typename": "Product", "sku": p["sku"]} for p in products]


async def interesting_products(services: Services) -> list[Document]:
    """A few products, plus ones with a bundle, variant media and accessories."""
    products = services.catalog.products
    found = await products.find().sort("sku", 1).limit(3).to_list()
    for query in (
        {"bundle.0": {"$exists": True}},
        {"media.variantSku": {"$exists": True}},
        {"accessories.0": {"$exists": True}},
        {"related.0": {"$exists": True}},
    ):
        found += await products.find(query).limit(1).to_list()
    return list({d["sku"]: d for d in found}.values())


ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Product {
  %s
} } }"""


async def test_each_field_reads_only_what_it_declares(
    demo: Services, fallback_loads: FallbackLoads
) -> None:
    """One query per field below Product (per channel, with and without roles): a field that
    reads more than it declares is caught even when another field would have declared it."""
    products = await interesting_products(demo)
    assert any(p.get("bundle") for p in products)
    assert any(r.get("variantSku") for p in products for r in p["media"])
    channels = list(demo.channels.profiles)
    failures: list[str] = []
    checked = 0
    for chain, name, field in reachable_fields():
        for channel, given in argument_choices(field, channels):
            selections = Selections(channel, image_slot(demo, channel))
            # _entities is level 1; the chain's fields are levels 2, 3, ...
            depth = MAX_DEPTH - 1 - len(chain)
            chain_types = (product_type().name, *(get_named_type(f.type).name for _, f in chain))
            selection = selections.field(name, field, depth, chain_types, given)
            assert selection is not None, f"{name} does not fit in {MAX_DEPTH} levels"
            for link, link_field in reversed(chain):
                selection = f"{link}{selections.arguments(link_field, {})} {{ {selection} }}"
            fallback_loads.clear()
            result = await execute(
                demo, ENTITIES % selection, {"r": representations(products)}, max_cost=EVERY_FIELD
            )
            checked += 1
            if result.errors:
                failures.append(f"{selection}: {[e.formatted for e in result.errors][:3]}")
            elif fallback_loads.fallbacks():
                failures.append(f"{selection}:\n{fallback_loads.describe(5)}")
    assert checked > 50
    assert not failures, "\n\n".join(failures)


async def test_a_query_of_every_field_is_answered_from_the_prefetch(
    demo: Services, fallback_loads: FallbackLoads
) -> None:
    """Every field at once, through every way in: a page, a product and an entities batch
    (one channel: the fields' arguments are varied one field at a time above)."""
    products = await interesting_products(demo)
    channel = next(iter(demo.channels.profiles))
    selections = Selections(channel, image_slot(demo, channel))
    # A page's nodes are at level 3 (products, edges, node): their fields from level 4.
    every = selections.every_field(product_type(), MAX_DEPTH - 3, (product_type().name,))
    query = f"""
    query($r: [_Any!]!, $sku: ID!) {{
      products(first: 4) {{
        totalCount pageInfo {{ endCursor hasNextPage }} edges {{ cursor node {{ ...P }} }}
      }}
      product(sku: $sku) {{ ...P }}
      _entities(representations: $r) {{ ... on Product {{ ...P }} }}
    }}
    fragment P on Product {every}"""
    variables = {"r": representations(products), "sku": products[-1]["sku"]}
    result = await execute(demo, query, variables, max_cost=EVERY_FIELD)
    assert result.errors is None, [e.formatted for e in result.errors][:3]
    assert result.data is not None
    assert len(result.data["products"]["edges"]) == 4
    assert fallback_loads.fallbacks() == [], fallback_loads.describe()


def strawberry_field(owner: type, python_name: str) -> StrawberryField:
    found = get_object_definition(owner, strict=True).get_field(python_name)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("owner", "python_name", "declaration", "selection", "culprit"),  # culprit: who loads
    [
        # Declared nothing at all.
        (Product, "hero_image", {}, 'heroImage(channel: "web") { publicId }', "Product.heroImage"),
        # Declared, but another slot's roles than the ones it reads.
        (
            ProductVariant,
            "swatch",
            reads(media=HERO.roles),
            'variants { swatch(channel: "web") { publicId } }',
            "ProductVariant.swatch",
        ),
        # Not declared that its selection reads the component products.
        (
            BundleItem,
            "product",
            {},
            'bundleItems { product { heroImage(channel: "web") { publicId } } }',
            "Product.heroImage",  # the components' hero images, loaded one bundle at a time
        ),
    ],
)
async def test_a_field_that_reads_what_it_did_not_declare_is_caught(
    demo: Services,
    fallback_loads: FallbackLoads,
    monkeypatch: pytest.MonkeyPatch,
    owner: type,
    python_name: str,
    declaration: dict[Any, Any],
    selection: str,
    culprit: str,
) -> None:
    products = await interesting_products(demo)
    query = ENTITIES % f"sku {selection}"
    declared = await data_of(demo, query, {"r": representations(products)})
    assert fallback_loads.fallbacks() == [], fallback_loads.describe()

    monkeypatch.setattr(strawberry_field(owner, python_name), "metadata", declaration)
    fallback_loads.clear()
    # Still the same answer, only through the fields' own loads.
    assert await data_of(demo, query, {"r": representations(products)}) == declared
    assert fallback_loads.fallbacks()
    assert fallback_loads.fields() == {culprit}, fallback_loads.describe()


LISTING = """{ products(first: 8) { edges { node {
  sku heroImage(channel: "web") { publicId } readiness(channel: "web") { score }
} } } }"""


def raising(arguments: Any, channels: Any) -> frozenset[str]:
    raise RuntimeError("a declaration with a bug")


async def failing_load(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("a prefetch with a bug")


@pytest.mark.parametrize("failure", ["declaration", "load"])
async def test_a_failing_prefetch_is_a_warning_with_the_request_id_and_not_an_error(
    demo: Services,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    expected = await data_of(demo, LISTING)
    if failure == "declaration":
        bad: Roles = raising
        monkeypatch.setattr(strawberry_field(Product, "hero_image"), "metadata", reads(media=bad))
    else:
        monkeypatch.setattr(schema.lookahead, "load_needs", failing_load)
    with caplog.at_level(logging.WARNING, logger=schema.lookahead.__name__):
        assert await data_of(demo, LISTING) == expected
    (record,) = [r for r in caplog.records if r.name == schema.lookahead.__name__]
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("request test: ")
    assert record.exc_info is not None
    assert str(record.exc_info[1]) in {"a declaration with a bug", "a prefetch with a bug"}
