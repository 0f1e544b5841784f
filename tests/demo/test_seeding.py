"""Demo seeding: one change event per product, in bulk; at start-up it survives crashes and
concurrent replicas."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from demo.seeding import DEMO_SEED_LOCK, seed_demo_catalog, seed_demo_if_empty
from gateway.settings import Settings
from resolvers.db import Catalog, ensure_indexes
from tests.command_counter import CommandCounter


async def test_replicas_starting_together_seed_once(db: Any, settings: Settings) -> None:
    catalog = Catalog(db)
    await ensure_indexes(catalog, settings.locales)
    reports = await asyncio.gather(
        *(seed_demo_if_empty(catalog, products=50, locales=settings.locales) for _ in range(3))
    )
    assert await catalog.products.count_documents({}) == 50
    assert [r.products for r in reports if r is not None] == [50]
    lock = await db["gateway_locks"].find_one({"_id": DEMO_SEED_LOCK})
    assert lock is not None
    assert "completedAt" in lock


async def test_a_seed_that_died_half_way_is_redone(db: Any, settings: Settings) -> None:
    catalog = Catalog(db)
    await ensure_indexes(catalog, settings.locales)
    # What a crash leaves: attributes written, no products, a lock never completed.
    await db["attributes"].insert_one(
        {"code": "color", "type": "enum", "label": {}, "localizable": False}
    )
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    await db["gateway_locks"].insert_one({"_id": DEMO_SEED_LOCK, "startedAt": long_ago})
    await seed_demo_if_empty(catalog, products=50, locales=settings.locales)
    assert await catalog.products.count_documents({}) == 50
    assert await db["attributes"].count_documents({"code": "color"}) == 1


async def test_a_seed_under_way_elsewhere_is_left_alone(db: Any, settings: Settings) -> None:
    catalog = Catalog(db)
    await db["gateway_locks"].insert_one({"_id": DEMO_SEED_LOCK, "startedAt": datetime.now(UTC)})
    assert await seed_demo_if_empty(catalog, products=50, locales=settings.locales) is None
    assert await catalog.products.count_documents({}) == 0


async def test_a_catalog_with_products_is_not_seeded(db: Any, settings: Settings) -> None:
    catalog = Catalog(db)
    await catalog.products.insert_one({"sku": "X-1"})
    assert await seed_demo_if_empty(catalog, products=50, locales=settings.locales) is None
    assert await db["gateway_locks"].count_documents({}) == 0


async def test_every_seeded_product_gets_one_event_inserted_in_bulk(
    db: Any, settings: Settings, command_counter: CommandCounter
) -> None:
    with command_counter.record(db.name) as recorded:
        report = await seed_demo_catalog(db, products=60, locales=settings.locales)

    # One insert for all the events (SEED_CHUNK per command), not one write per product.
    assert recorded.names()["insert:change_events"] == 1
    assert report.events == report.products == 60
    events = await db["change_events"].find({}, {"_id": 0}).to_list()
    products = {p["sku"]: p["_id"] async for p in db["products"].find({}, {"sku": 1})}
    assert sorted(e["sku"] for e in events) == sorted(products)
    assert {(e["operation"], e["revision"], e["importJob"], e["requestId"]) for e in events} == {
        ("seed", 1, None, None)
    }
    assert all(e["productId"] == products[e["sku"]] for e in events)
    assert all(e["changes"] == [] for e in events)
    assert {tuple(e["actor"].items()) for e in events} == {
        (
            ("label", "system"),
            ("keyId", None),
            ("name", "demo"),
            ("source", None),
            ("endUser", None),
        )
    }


async def test_replacing_the_catalog_replaces_its_history(db: Any, settings: Settings) -> None:
    catalog = Catalog(db)
    await ensure_indexes(catalog, settings.locales)
    await seed_demo_catalog(db, products=50, locales=settings.locales)
    # A later write's event: gone with the catalog it belonged to.
    await db["change_events"].insert_one({"sku": "GONE-1", "revision": 2})

    # Same SKUs at revision 1 again: the unique (sku, revision) index would refuse them.
    report = await seed_demo_catalog(db, products=50, locales=settings.locales, replace=True)

    assert report.events == 50
    assert await db["change_events"].count_documents({}) == 50
