"""Reconciliation with Cloudinary: a sweep of the Search API by last update brings the mirror
what no notification did, resumes where it stopped, keeps to its hourly bound and leaves a
failing Cloudinary alone; missing marks of published products' assets expire sooner."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import cloudinary.api
import pytest

from cloudinary_emulator import EmulatorServer
from gateway.app import create_app
from gateway.settings import Settings
from resolvers.assets import DamClient, DamUnavailableError
from resolvers.assets.mirror import AssetByKeyLoader, mark_missing
from resolvers.assets.reconcile import CURSOR, CURSORS, LEASE, Reconciler, SweepResult
from resolvers.db import Catalog, asset_indexes
from resolvers.leases import holder
from tests.http_helpers import eventually
from tests.media_fixtures import upload_image

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
async def _indexes(db: Any) -> None:
    # The unique (publicId, resourceType) index the mirror's upserts rely on.
    await db["assets"].create_indexes(asset_indexes())


def admin_calls(emulator: EmulatorServer) -> int:
    return emulator.emulator.stats.admin_calls


async def mirrored(catalog: Catalog, public_id: str) -> dict[str, Any]:
    document = await catalog.assets.find_one({"publicId": public_id, "resourceType": "image"})
    assert document is not None, public_id
    return document


async def sweep_counting(
    reconciler: Reconciler, emulator: EmulatorServer
) -> tuple[SweepResult, int]:
    before = admin_calls(emulator)
    result = await reconciler.sweep()
    return result, admin_calls(emulator) - before


async def test_a_change_made_without_notification_is_mirrored_by_one_sweep(
    db: Any, dam: DamClient, emulator: EmulatorServer
) -> None:
    catalog = Catalog(db)
    await upload_image(dam, "catalog/a/hero", alt={"en": "Before"})
    await upload_image(dam, "catalog/b/hero")
    reconciler = Reconciler(catalog, dam)
    result, calls = await sweep_counting(reconciler, emulator)
    assert (calls, result.listed, result.changed, result.stopped) == (1, 2, 2, "caught-up")
    assert (await mirrored(catalog, "catalog/a/hero"))["alt"] == {"en": "Before"}

    # Edited in Cloudinary; no notification reaches the gateway.
    cloudinary.api.update("catalog/a/hero", context="alt_en=After", **emulator.sdk_config())
    result, calls = await sweep_counting(reconciler, emulator)
    assert (calls, result.changed) == (1, 1)
    document = await mirrored(catalog, "catalog/a/hero")
    assert (document["alt"], document["source"]) == ({"en": "After"}, "reconcile")

    # Nothing changed since: the sweep lists its last second again and writes nothing.
    result, calls = await sweep_counting(reconciler, emulator)
    assert (calls, result.changed) == (1, 0)


async def test_a_missing_mark_is_cleared_once_the_asset_exists(
    db: Any, dam: DamClient, emulator: EmulatorServer
) -> None:
    catalog = Catalog(db)
    await mark_missing(catalog.assets, [("image", "catalog/late/hero")], T0)
    await upload_image(dam, "catalog/late/hero")
    rescored: list[list[str]] = []

    async def rescore(public_ids: list[str]) -> None:
        rescored.append(public_ids)

    result = await Reconciler(catalog, dam, rescore=rescore).sweep()
    assert result.changed == 1
    document = await mirrored(catalog, "catalog/late/hero")
    assert (document["status"], document["width"]) == ("active", 1600)
    # Without a follower, the reconciler asks for the products to be rescored, once.
    assert rescored == [["catalog/late/hero"]]


async def test_a_sweep_resumes_from_the_stored_cursor_within_its_hourly_bound(
    db: Any, dam: DamClient, emulator: EmulatorServer
) -> None:
    catalog = Catalog(db)
    for index in range(5):
        await upload_image(dam, f"catalog/p{index}/hero")
    clock = Clock()
    first = Reconciler(catalog, dam, calls_per_hour=2, page_size=2, clock=clock)
    result, calls = await sweep_counting(first, emulator)
    assert (calls, result.listed, result.stopped) == (2, 4, "budget")
    stored = await db[CURSORS].find_one({"_id": CURSOR})
    assert stored is not None
    assert stored["nextCursor"]
    assert stored["calls"] == 2

    # Another replica (or a restart) in the same hour: the budget is spent, no call.
    second = Reconciler(catalog, dam, calls_per_hour=2, page_size=2, clock=clock)
    result, calls = await sweep_counting(second, emulator)
    assert (calls, result.stopped) == (0, "budget")

    # The next hour: it carries on with the stored cursor, the fifth asset only.
    clock.now += timedelta(hours=1)
    result, calls = await sweep_counting(second, emulator)
    assert (calls, result.listed, result.stopped) == (1, 1, "caught-up")
    assert await catalog.assets.count_documents({"source": "reconcile"}) == 5


async def test_no_call_while_the_breaker_rests(
    db: Any, dam: DamClient, emulator: EmulatorServer
) -> None:
    catalog = Catalog(db)
    await upload_image(dam, "catalog/a/hero")
    emulator.emulator.faults.configure(error_rate=1.0)
    with pytest.raises(DamUnavailableError):
        await dam.resources_by_ids(["catalog/a/hero"])
    emulator.emulator.faults.reset()
    result, calls = await sweep_counting(Reconciler(catalog, dam), emulator)
    assert (calls, result.stopped) == (0, "breaker")
    assert await catalog.assets.count_documents({}) == 0


async def test_one_replica_sweeps(db: Any, dam: DamClient, emulator: EmulatorServer) -> None:
    catalog = Catalog(db)
    await upload_image(dam, "catalog/a/hero")
    before = admin_calls(emulator)
    replicas = [Reconciler(catalog, dam, every=timedelta(hours=1)) for _ in range(2)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(replica.run(stop)) for replica in replicas]
    waiters = [asyncio.create_task(replica.swept.wait()) for replica in replicas]
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    lease = await holder(db["leases"], LEASE)
    stop.set()
    await asyncio.gather(*tasks)
    for waiter in waiters:
        waiter.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    assert admin_calls(emulator) - before == 1
    [sweeper] = [replica for replica in replicas if replica.swept.is_set()]
    assert lease is not None
    assert lease.owner == sweeper.owner


async def test_missing_marks_of_published_products_assets_expire_sooner(
    db: Any, dam: DamClient, emulator: EmulatorServer
) -> None:
    catalog = Catalog(db)
    await catalog.products.insert_many(
        [
            {"sku": "LIVE-1", "status": "published", "media": [{"publicId": "catalog/live/hero"}]},
            {"sku": "DRAFT-1", "status": "draft", "media": [{"publicId": "catalog/draft/hero"}]},
        ]
    )
    keys = [("image", "catalog/live/hero"), ("image", "catalog/draft/hero")]
    clock = Clock()

    def loader() -> AssetByKeyLoader:
        return AssetByKeyLoader(
            catalog.assets,
            dam,
            max_batch_size=100,
            missing_ttl=timedelta(hours=1),
            published_missing_ttl=timedelta(minutes=5),
            now=clock,
            warn=lambda code, message: None,
        )

    first = await loader().load_many(keys)
    assert [document["status"] for document in first if document] == ["missing", "missing"]
    for _, public_id in keys:
        await upload_image(dam, public_id)

    clock.now += timedelta(minutes=6)
    before = admin_calls(emulator)
    later = await loader().load_many(keys)
    # The published product's asset is asked about again; the draft's mark still holds.
    assert [document["status"] for document in later if document] == ["active", "missing"]
    assert admin_calls(emulator) - before == 1


async def test_a_sweep_shortens_the_marks_of_assets_published_since(
    db: Any, dam: DamClient, emulator: EmulatorServer
) -> None:
    catalog = Catalog(db)
    await mark_missing(catalog.assets, [("image", "catalog/soon/hero")], T0)
    await catalog.products.insert_one(
        {"sku": "SOON-1", "status": "published", "media": [{"publicId": "catalog/soon/hero"}]}
    )
    await Reconciler(catalog, dam).sweep()
    document = await mirrored(catalog, "catalog/soon/hero")
    assert (document["status"], document["publishedReference"]) == ("missing", True)


async def test_a_serving_gateway_sweeps_and_rescores_without_a_follower(
    settings: Settings, db: Any
) -> None:
    catalog = Catalog(db)
    await catalog.products.insert_one(
        {"sku": "LATE-1", "status": "draft", "media": [{"publicId": "catalog/late/hero"}]}
    )
    serving = settings.model_copy(update={"dam_reconcile": True, "dam_reconcile_every_s": 0.05})
    app = create_app(serving)

    async def swept() -> bool:
        asset = await catalog.assets.find_one({"publicId": "catalog/late/hero"})
        product = await catalog.products.find_one({"sku": "LATE-1"})
        assert product is not None
        return asset is not None and asset["source"] == "reconcile" and "readiness" in product

    async with app.router.lifespan_context(app) as state:
        services = dict(state or {})["services"]
        # Straight into the gateway's emulator, its notification lost.
        await upload_image(services.dam, "catalog/late/hero")
        await eventually(swept)
        lease = await holder(db["leases"], LEASE)
    assert lease is not None
    assert lease.owner.startswith("reconcile:")
