"""The app's lifespan: demo seeding that survives crashes and concurrent replicas."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.app import DEMO_SEED_LOCK, seed_demo_if_empty
from gateway.settings import Settings
from resolvers.db import Catalog, ensure_indexes


async def test_replicas_starting_together_seed_once(db: Any, settings: Settings) -> None:
    catalog = Catalog(db)
    await ensure_indexes(catalog, settings.locales)
    small = settings.model_copy(update={"demo_products": 50})
    await asyncio.gather(*(seed_demo_if_empty(catalog, small) for _ in range(3)))
    assert await catalog.products.count_documents({}) == 50
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
    await seed_demo_if_empty(catalog, settings.model_copy(update={"demo_products": 50}))
    assert await catalog.products.count_documents({}) == 50
    assert await db["attributes"].count_documents({"code": "color"}) == 1


async def test_a_seed_under_way_elsewhere_is_left_alone(db: Any, settings: Settings) -> None:
    catalog = Catalog(db)
    await db["gateway_locks"].insert_one({"_id": DEMO_SEED_LOCK, "startedAt": datetime.now(UTC)})
    await seed_demo_if_empty(catalog, settings.model_copy(update={"demo_products": 50}))
    assert await catalog.products.count_documents({}) == 0


def test_servers_keep_start_up_objects_out_of_the_collector(tmp_path: Any) -> None:
    """The ASGI factory freezes what start-up built; a test process is never frozen."""
    import gc
    import subprocess
    import sys

    code = (
        "import gc; from gateway.asgi import app_factory; app_factory(); "
        "print(gc.get_freeze_count())"
    )
    env = {"PATH": "/usr/bin:/bin", "CATALOG_DATA_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert int(out.stdout) > 10_000
    assert gc.get_freeze_count() == 0
