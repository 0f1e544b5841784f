"""Product documents of older schemaVersions read as the current shape (loaders, pages and the
GraphQL API); documents from the future are refused; ``migrate_products`` upgrades them in place
without overwriting concurrent writes."""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest

from demo.catalog import generate_demo_catalog
from resolvers.db import Catalog, Document
from resolvers.documents import SCHEMA_VERSION
from resolvers.loaders import Loaders
from resolvers.pagination import SortSpec
from resolvers.products import fetch_page
from resolvers.upcasting import (
    UPCASTERS,
    FutureDocumentError,
    MigrationReport,
    count_by_version,
    migrate_products,
    outdated_batch,
    upcast,
    upgrade_batch,
)
from tests.graphql_helpers import execute, services_for

DEMO_PRODUCTS = 60


def v1_demo_products(count: int = DEMO_PRODUCTS) -> list[Document]:
    """Demo products as the demo stored them before v2: schemaVersion 1, no revision."""
    products: list[Document] = []
    for generated in generate_demo_catalog(products=count).products:
        document: Document = {k: v for k, v in generated.items() if k != "revision"}
        products.append({**document, "schemaVersion": 1})
    return products


def test_every_old_version_has_exactly_one_step() -> None:
    assert sorted(UPCASTERS) == list(range(1, SCHEMA_VERSION))


def test_a_v1_document_upcasts_to_revision_1_without_being_changed() -> None:
    [old] = v1_demo_products(50)[:1]
    kept = copy.deepcopy(old)
    new = upcast(old)
    assert old == kept
    assert new == {**kept, "schemaVersion": 2, "revision": 1}
    without_version = {k: v for k, v in old.items() if k != "schemaVersion"}
    assert upcast(without_version) == new


def test_a_current_document_is_returned_as_it_is() -> None:
    current = {"sku": "C-1", "schemaVersion": SCHEMA_VERSION, "revision": 7}
    assert upcast(current) is current


@pytest.mark.parametrize("version", [SCHEMA_VERSION + 1, 0, "2", None, 1.5])
def test_an_unreadable_version_is_refused_naming_the_sku(version: Any) -> None:
    with pytest.raises(FutureDocumentError) as caught:
        upcast({"sku": "FUT-1", "schemaVersion": version})
    assert "product 'FUT-1' has schemaVersion" in str(caught.value)
    assert f"reads versions 1 to {SCHEMA_VERSION}" in str(caught.value)
    assert caught.value.sku == "FUT-1"


async def test_loaders_read_v1_documents_as_the_current_shape(db: Any) -> None:
    catalog = Catalog(db)
    await catalog.products.insert_many(v1_demo_products())
    stored = await catalog.products.find({}).sort("_id", 1).to_list()
    skus = [d["sku"] for d in stored[:5]]
    loaders = Loaders(catalog, 100)
    by_sku = await loaders.product_by_sku.load_many(skus)
    by_id = await loaders.product_by_id.load_many([d["_id"] for d in stored[:5]])
    for loaded in (*by_sku, *by_id):
        assert loaded is not None
        assert (loaded["schemaVersion"], loaded["revision"]) == (SCHEMA_VERSION, 1)
    # Reading upgrades nothing in the database: writes and `migrate` do.
    assert await count_by_version(catalog.products) == {1: DEMO_PRODUCTS}


async def test_a_page_reads_v1_documents_as_the_current_shape(db: Any) -> None:
    catalog = Catalog(db)
    await catalog.products.insert_many(v1_demo_products())
    page = await fetch_page(catalog, {}, SortSpec("sku", "sku", False), 10, None)
    assert len(page.documents) == 10
    assert {(d["schemaVersion"], d["revision"]) for d in page.documents} == {(2, 1)}


async def test_a_future_document_fails_its_own_key_only(db: Any) -> None:
    catalog = Catalog(db)
    products = v1_demo_products(50)[:2]
    products[1]["schemaVersion"] = SCHEMA_VERSION + 1
    await catalog.products.insert_many(products)
    loader = Loaders(catalog, 100).product_by_sku
    old, future = loader.load(products[0]["sku"]), loader.load(products[1]["sku"])
    assert (await old)["revision"] == 1  # type: ignore[index]
    with pytest.raises(FutureDocumentError, match=f"product '{products[1]['sku']}'"):
        await future


QUERY = """query ($sku: ID!) {
  product(sku: $sku) { sku schemaVersion revision }
  products(first: 100) { edges { node { sku schemaVersion revision } } }
}"""


async def test_the_api_serves_v1_documents_as_the_current_shape(db: Any) -> None:
    catalog = Catalog(db)
    products = v1_demo_products()
    await catalog.products.insert_many(products)
    result = await execute(services_for(catalog), QUERY, {"sku": products[0]["sku"]})
    assert result.errors is None, [e.formatted for e in result.errors]
    assert result.data is not None
    assert result.data["product"] == {
        "sku": products[0]["sku"],
        "schemaVersion": SCHEMA_VERSION,
        "revision": 1,
    }
    listed = [edge["node"] for edge in result.data["products"]["edges"]]
    assert len(listed) == DEMO_PRODUCTS
    assert {(node["schemaVersion"], node["revision"]) for node in listed} == {(SCHEMA_VERSION, 1)}


async def test_the_api_refuses_a_future_document_loudly(
    db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = Catalog(db)
    products = v1_demo_products(50)
    products[0]["schemaVersion"] = SCHEMA_VERSION + 1
    await catalog.products.insert_many(products)
    services = services_for(catalog)
    # Separately: `products` is non-null, so its failure would cancel `product`.
    with caplog.at_level(logging.ERROR, logger="gateway.graphql"):
        one = await execute(
            services,
            "query ($sku: ID!) { product(sku: $sku) { sku } }",
            {"sku": products[0]["sku"]},
        )
        page = await execute(services, "{ products(first: 100) { edges { node { sku } } } }")
    for result, path in ((one, ("product",)), (page, ("products",))):
        assert result.errors is not None
        assert [(e.path, (e.extensions or {}).get("code")) for e in result.errors] == [
            (list(path), "INTERNAL_SERVER_ERROR")
        ]
    logged = [r.getMessage() for r in caplog.records]
    expected = f"product {products[0]['sku']!r} has schemaVersion {SCHEMA_VERSION + 1}"
    assert len([m for m in logged if expected in m]) == 2, logged
    # The other products still load one by one.
    other = await execute(
        services, "query ($sku: ID!) { product(sku: $sku) { sku } }", {"sku": products[1]["sku"]}
    )
    assert other.errors is None
    assert other.data == {"product": {"sku": products[1]["sku"]}}


# --- migrate_products ------------------------------------------------------------------------


async def test_a_dry_run_writes_nothing(db: Any) -> None:
    catalog = Catalog(db)
    await catalog.products.insert_many(v1_demo_products())
    before = await catalog.products.find({}).sort("_id", 1).to_list()
    report = await migrate_products(catalog.products, batch_size=7, dry_run=True)
    assert report.upgraded == {1: DEMO_PRODUCTS}
    assert report.batches == 9
    assert report.after == {}
    assert await catalog.products.find({}).sort("_id", 1).to_list() == before


async def test_migrate_upgrades_everything_once(db: Any) -> None:
    catalog = Catalog(db)
    products = v1_demo_products()
    del products[3]["schemaVersion"]  # no version at all: v1
    products[4]["schemaVersion"] = SCHEMA_VERSION + 1  # from the future: left alone
    current = upcast(products[5])
    products[5] = current
    await catalog.products.insert_many(products)
    future_before = await catalog.products.find_one({"sku": products[4]["sku"]})

    report = await migrate_products(catalog.products, batch_size=25)
    assert report.before == {1: DEMO_PRODUCTS - 3, 2: 1, 3: 1, None: 1}
    assert report.upgraded == {1: DEMO_PRODUCTS - 2}
    assert report.after == {2: DEMO_PRODUCTS - 1, 3: 1}
    assert (report.batches, report.skipped) == (3, 0)
    expected = {p["sku"]: upcast(p) for i, p in enumerate(products) if i != 4}
    async for stored in catalog.products.find({"sku": {"$ne": products[4]["sku"]}}):
        assert stored == expected[stored["sku"]]
    assert await catalog.products.find_one({"sku": products[4]["sku"]}) == future_before

    again = await migrate_products(catalog.products, batch_size=25)
    assert (again.upgraded, again.batches, again.skipped) == ({}, 0, 0)
    assert again.after == report.after


async def test_a_write_between_read_and_upgrade_is_never_overwritten(db: Any) -> None:
    catalog = Catalog(db)
    await catalog.products.insert_many(v1_demo_products(50))
    batch = await outdated_batch(catalog.products, None, 10)
    newer, readiness, old_replica = batch[0], batch[1], batch[2]
    # A writer of the current version, a readiness refresh and an older replica write after
    # the batch was read and before it is written back.
    await catalog.products.update_one(
        {"_id": newer["_id"]},
        {"$set": {"schemaVersion": 2, "revision": 2, "brand": "Rewritten"}},
    )
    await catalog.products.update_one(
        {"_id": readiness["_id"]}, {"$set": {"readiness.web": {"score": 80}}}
    )
    await catalog.products.update_one(
        {"_id": old_replica["_id"]}, {"$set": {"name.en-US": "Renamed by v1"}}
    )
    report = MigrationReport(dry_run=False, before={})
    await upgrade_batch(catalog.products, batch, report)
    assert (report.upgraded, report.skipped) == ({1: 9}, 1)

    stored = {
        d["_id"]: d
        async for d in catalog.products.find(
            {"_id": {"$in": [newer["_id"], readiness["_id"], old_replica["_id"]]}}
        )
    }
    assert (stored[newer["_id"]]["revision"], stored[newer["_id"]]["brand"]) == (2, "Rewritten")
    assert stored[readiness["_id"]]["readiness"] == {"web": {"score": 80}}
    assert stored[readiness["_id"]]["revision"] == 1
    assert stored[old_replica["_id"]]["name"]["en-US"] == "Renamed by v1"
    assert stored[old_replica["_id"]]["schemaVersion"] == 2


async def test_a_batch_size_out_of_bounds_is_refused(db: Any) -> None:
    with pytest.raises(ValueError, match="batch size must be 1 to 10000, not 0"):
        await migrate_products(Catalog(db).products, batch_size=0)
