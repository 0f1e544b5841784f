"""Two gateway replicas over one database: one follows the change stream, and a write made
directly in MongoDB is rescored without a cron."""

from typing import Any

from gateway.app import create_app
from gateway.settings import Settings
from resolvers.db import Catalog
from resolvers.readiness.follower import CURSOR, CURSORS, LEASE
from resolvers.readiness.store import load_context, materialize, stored_readiness
from tests.demo_fixtures import NOW
from tests.fixtures.small_catalog import load_small_catalog
from tests.http_helpers import eventually, serve
from tests.resolvers.readiness.test_follower import CHANNELS, LOCALES, SKU


async def test_two_replicas_one_follower_and_a_direct_write_is_rescored(
    settings: Settings, db: Any
) -> None:
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    await materialize(catalog, CHANNELS, LOCALES, NOW)
    first = settings.model_copy(update={"readiness_follower": True})
    # Each replica its own emulator (one emulator's storage is one process's).
    second = first.model_copy(update={"data_dir": settings.data_dir.parent / "second"})

    async def followed() -> bool:
        # A change the follower handled moves its saved place: then its stream is open.
        await catalog.products.update_one({"sku": "NW-SOCK-001"}, {"$inc": {"touched": 1}})
        return await db[CURSORS].find_one({"_id": CURSOR}) is not None

    async def rescored() -> bool:
        product = await catalog.products.find_one({"sku": SKU})
        assert product is not None
        live = stored_readiness(
            product, CHANNELS, LOCALES, NOW, await load_context(catalog, [product])
        )
        return all(product["readiness"][c]["failed"] == live[c]["failed"] for c in live)

    async with serve(create_app(first)), serve(create_app(second)):
        await eventually(followed)
        before = await catalog.products.find_one({"sku": SKU})
        await catalog.products.update_one({"sku": SKU}, {"$unset": {"attributes": ""}})
        await eventually(rescored)
        after = await catalog.products.find_one({"sku": SKU})
        lease = await db["leases"].find_one({"_id": LEASE})
    assert before is not None
    assert after is not None
    assert after["readiness"] != before["readiness"]
    assert lease is not None
    assert lease["owner"].startswith("readiness:")
