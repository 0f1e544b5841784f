"""Demo seeding at start-up: it survives crashes and concurrent replicas."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from demo.seeding import DEMO_SEED_LOCK, seed_demo_if_empty
from gateway.settings import Settings
from resolvers.db import Catalog, ensure_indexes


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
