"""Read less: a query reads only the top-level product fields its selected fields declare
(``reads(fields=...)``), and answers exactly as with whole documents.

A field of a product type that declares nothing makes the request read whole documents: a
forgotten declaration is slower, never wrong. Each field's declaration is checked by running
it both ways.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLObjectType, get_named_type

import schema.lookahead
from benchmarks.queries import ENTITIES, PAGE_SIZE, Q1, Q2, Q3
from gateway.services import load_profiles, product_writer
from resolvers.db import Document
from resolvers.products import PRODUCT_FIELDS
from resolvers.services import Services
from schema.global_ids import to_global_id
from schema.reads import declared_reads, has_resolver, product_document_reads
from schema.schema import MAX_DEPTH
from schema.types.product import Product, variant_id
from tests.command_counter import CommandCounter
from tests.demo_fixtures import SETTINGS
from tests.graphql_helpers import data_of, execute, services_for
from tests.schema.test_prefetch import (
    ENTITIES as ENTITIES_OF,
)
from tests.schema.test_prefetch import (
    EVERY_FIELD,
    Selections,
    argument_choices,
    image_slot,
    interesting_products,
    object_types,
    product_type,
    reachable_fields,
    representations,
    strawberry_field,
)

# What building a Product reads (``from_document``) and what loading one needs.
PRODUCT_BASE = {"_id", "sku", "status", "brand", "schemaVersion", "createdAt", "updatedAt"}


def product_reads(sent: list[Any]) -> list[dict[str, Any] | None]:
    """The projection of each command that read products (find or aggregate)."""
    projections: list[dict[str, Any] | None] = []
    for command in sent:
        if command.get("find") == "products":
            projections.append(command.get("projection"))
        elif command.get("aggregate") == "products":
            stages = [s["$project"] for s in command.get("pipeline", []) if "$project" in s]
            projections.append(stages[-1] if stages else None)
    return projections


async def projections_of(
    services: Services, counter: CommandCounter, query: str, variables: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any] | None]]:
    with counter.record(services.catalog.products.database.name) as recorded:
        data = await data_of(services, query, variables)
    return data, product_reads(recorded.sent)


async def test_entities_read_only_what_their_fields_declare(
    demo: Services, command_counter: CommandCounter
) -> None:
    products = await demo.catalog.products.find().sort("sku", 1).limit(ENTITIES).to_list()
    data, projections = await projections_of(
        demo, command_counter, Q3, {"representations": representations(products)}
    )
    assert len(data["_entities"]) == ENTITIES
    # One batch, reading what sku, brand, name and heroImage read (and building a Product).
    assert projections == [dict.fromkeys(sorted(PRODUCT_BASE | {"name", "media"}), 1)]


async def test_a_listing_reads_what_readiness_and_its_cursor_read(
    demo: Services, command_counter: CommandCounter
) -> None:
    data, projections = await projections_of(demo, command_counter, Q1, {"first": PAGE_SIZE})
    assert len(data["products"]["edges"]) == PAGE_SIZE
    readiness = {"media", "variants", "name", "description", "attributes", "categories"}
    assert projections == [dict.fromkeys(sorted(PRODUCT_BASE | readiness), 1)]
    # Sorted by a field the page does not show: the cursor reads it all the same.
    query = """{ products(first: 3, sort: {field: UPDATED_AT}) {
      pageInfo { endCursor } edges { cursor node { sku } } } }"""
    _, projections = await projections_of(demo, command_counter, query, {})
    assert projections == [dict.fromkeys(sorted(PRODUCT_BASE), 1)]


async def test_a_field_that_declares_nothing_reads_whole_documents(
    demo: Services, command_counter: CommandCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    products = await demo.catalog.products.find().sort("sku", 1).limit(5).to_list()
    declared, _ = await projections_of(
        demo, command_counter, Q3, {"representations": representations(products)}
    )
    monkeypatch.setattr(strawberry_field(Product, "name"), "metadata", {})
    undeclared, projections = await projections_of(
        demo, command_counter, Q3, {"representations": representations(products)}
    )
    assert undeclared == declared
    assert projections == [PRODUCT_FIELDS]


async def test_mutations_read_whole_documents(
    fresh_demo: Services, command_counter: CommandCounter
) -> None:
    """A mutation's products may be written back: they are read whole, related ones too."""
    catalog = fresh_demo.catalog
    services = services_for(catalog, writer=product_writer(catalog, load_profiles(SETTINGS)))
    products = catalog.products
    document = await products.find_one({"related.0": {"$exists": True}}, sort=[("sku", 1)])
    assert document is not None
    mutation = """mutation($i: ProductUpdateInput!) { productUpdate(input: $i) {
      product { sku brand related { sku name } } } }"""
    change = {"sku": document["sku"], "expectedRevision": document["revision"], "brand": "P"}
    with command_counter.record(products.database.name) as recorded:
        data = await data_of(services, mutation, {"i": change})
    assert data["productUpdate"]["product"]["brand"] == "P"
    assert data["productUpdate"]["product"]["related"]
    reads = product_reads(recorded.sent)
    assert reads
    assert all(p in (None, PRODUCT_FIELDS) for p in reads), reads


def q2_sku(products: list[Document]) -> str:
    return str(next(p["sku"] for p in products if p.get("accessories") or p.get("bundle")))


def benchmark_variables(name: str, products: list[Document]) -> dict[str, Any]:
    """Fresh each time: resolving representations consumes their ``__typename``."""
    if name == "Q1":
        return {"first": PAGE_SIZE}
    if name == "Q2":
        return {"sku": q2_sku(products)}
    return {"representations": representations(products[:ENTITIES])}


@pytest.mark.parametrize("name", ["Q1", "Q2", "Q3"])
async def test_benchmark_queries_answer_the_same_with_whole_documents(
    demo: Services, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    products = await demo.catalog.products.find().sort("sku", 1).to_list()
    query = {"Q1": Q1, "Q2": Q2, "Q3": Q3}[name]
    projected = await data_of(demo, query, benchmark_variables(name, products))
    monkeypatch.setattr(schema.lookahead, "product_fields", lambda info: None)
    assert await data_of(demo, query, benchmark_variables(name, products)) == projected


def test_every_field_of_a_product_type_declares_what_it_reads() -> None:
    """A field with a resolver on a type built from product documents declares its fields;
    one that does not still answers, but makes every request that selects it read whole
    documents."""
    product_types = {
        name: t for name, t in object_types().items() if product_document_reads(t) is not None
    }
    assert {"Product", "ProductVariant"} <= set(product_types)
    undeclared = [
        f"{name}.{field_name}"
        for name, owner in product_types.items()
        for field_name, field in owner.fields.items()
        if has_resolver(field)
        and ((declared := declared_reads(field)) is None or declared.fields is None)
    ]
    assert undeclared == []


async def test_each_field_answers_the_same_from_its_declared_fields(demo: Services) -> None:
    """One query per field below Product, projected and with whole documents: a field that
    reads more than it declares answers differently (or fails) and is caught."""
    products = await interesting_products(demo)
    channels = list(demo.channels.profiles)
    failures: list[str] = []
    checked = 0
    for chain, name, field in reachable_fields():
        owner_chain = (product_type().name, *(get_named_type(f.type).name for _, f in chain))
        for channel, given in argument_choices(field, channels)[:2]:
            selections = Selections(channel, image_slot(demo, channel))
            depth = MAX_DEPTH - 1 - len(chain)
            selection = selections.field(name, field, depth, owner_chain, given)
            assert selection is not None
            for link, link_field in reversed(chain):
                selection = f"{link}{selections.arguments(link_field, {})} {{ {selection} }}"
            query = ENTITIES_OF % f"sku {selection}"
            variables = {"r": representations(products)}
            projected = await execute(demo, query, variables, max_cost=EVERY_FIELD)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(schema.lookahead, "product_fields", lambda info: None)
                whole = await execute(
                    demo, query, {"r": representations(products)}, max_cost=EVERY_FIELD
                )
            checked += 1
            if projected.errors or projected.data != whole.data:
                failures.append(f"{selection}: {projected.errors or 'different data'}")
    assert checked > 30
    assert not failures, "\n\n".join(failures)


def test_the_product_types_are_what_the_schema_builds_from_product_documents() -> None:
    """Product and ProductVariant are built from product documents; a page's edges and a
    bundle's items are not (their products are)."""
    types: dict[str, GraphQLObjectType] = object_types()
    assert product_document_reads(types["BundleItem"]) is None
    assert product_document_reads(types["ProductEdge"]) is None
    assert product_document_reads(types["Product"]) == frozenset(PRODUCT_BASE)


async def test_nodes_answer_the_same_with_whole_documents(
    demo: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A variant's node is found in its product's variants, whatever the selection names."""
    document = await demo.catalog.products.find_one({"variants.0": {"$exists": True}})
    assert document is not None
    ids = [
        to_global_id("Product", str(document["_id"])),
        variant_id(document, document["variants"][0]["sku"]),
    ]
    queries = [
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename } }",
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on ProductVariant { sku } } }",
        """query($ids: [ID!]!) { nodes(ids: $ids) { ... on Product { sku name } }
          products(first: 2) { edges { node { sku related { sku } } } } }""",
    ]
    projected = [await data_of(demo, query, {"ids": ids}) for query in queries]
    assert all(None not in answer["nodes"] for answer in projected), projected
    monkeypatch.setattr(schema.lookahead, "product_fields", lambda info: None)
    assert [await data_of(demo, query, {"ids": ids}) for query in queries] == projected
