"""The readiness follower: stored scores follow writes that bypass the gateway."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from bson import Timestamp
from pymongo.asynchronous.database import AsyncDatabase

from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.db import Catalog
from resolvers.locales import LocaleResolver
from resolvers.readiness.follower import LEASE, ReadinessFollower, following
from resolvers.readiness.store import (
    BASED_ON,
    _compare_and_set,
    load_context,
    materialize,
    rules_hash,
    stored_readiness,
)
from tests.demo_fixtures import NOW
from tests.fixtures.small_catalog import load_small_catalog

SETTINGS = Settings()
LOCALES = LocaleResolver(SETTINGS.locales, SETTINGS.default_locale, SETTINGS.fallback_chains)
CHANNELS = load_profiles(SETTINGS).channels
SKU = "NW-RUN-001"


@pytest.fixture
async def catalog(db: AsyncDatabase[dict[str, Any]]) -> Catalog:
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    await materialize(catalog, CHANNELS, LOCALES, NOW)
    return catalog


def follower(catalog: Catalog) -> ReadinessFollower:
    return ReadinessFollower(catalog, CHANNELS, LOCALES, clock=lambda: NOW)


@asynccontextmanager
async def running(f: ReadinessFollower) -> AsyncIterator[ReadinessFollower]:
    async with following(f):
        await asyncio.wait_for(f.following.wait(), 30)
        yield f


async def until(f: ReadinessFollower, condition: Callable[[], bool]) -> None:
    """Waits for the follower's progress (it handles changes in its own task)."""
    async with asyncio.timeout(30):
        while True:
            f.progressed.clear()
            if condition():
                return
            await f.progressed.wait()


async def stored_and_live(catalog: Catalog, sku: str) -> tuple[Any, Any]:
    product = await catalog.products.find_one({"sku": sku})
    assert product is not None
    context = await load_context(catalog, [product])
    live = stored_readiness(product, CHANNELS, LOCALES, NOW, context)
    keep = ("score", "ready", "failed")
    stored = {c: {k: product["readiness"][c][k] for k in keep} for c in CHANNELS.names()}
    return stored, {c: {k: live[c][k] for k in keep} for c in CHANNELS.names()}


async def test_a_direct_mongodb_write_is_rescored(catalog: Catalog) -> None:
    before, _ = await stored_and_live(catalog, SKU)
    async with running(follower(catalog)) as f:
        # An ERP sync writing MongoDB directly: a long name, the attributes gone.
        await catalog.products.update_one(
            {"sku": SKU},
            {"$set": {"name.en-US": "N" * 200}, "$unset": {"attributes": ""}},
        )
        await until(f, lambda: f.handled >= 1)
    stored, live = await stored_and_live(catalog, SKU)
    assert stored == live
    assert stored != before


async def test_an_asset_change_rescores_the_products_that_use_it(catalog: Catalog) -> None:
    product = await catalog.products.find_one({"sku": SKU})
    assert product is not None
    public_id = product["media"][0]["publicId"]
    async with running(follower(catalog)) as f:
        # The picture arrives in the mirror (an upload, or a sweep of Cloudinary).
        await catalog.assets.delete_many({"publicId": public_id})
        await catalog.assets.insert_one(
            {
                "publicId": public_id,
                "resourceType": "image",
                "format": "jpg",
                "width": 3000,
                "height": 3000,
                "bytes": 500_000,
            }
        )
        await until(f, lambda: f.handled >= 1)
    stored, live = await stored_and_live(catalog, SKU)
    assert stored == live


async def test_a_new_holder_resumes_where_the_last_one_stopped(catalog: Catalog) -> None:
    async with running(follower(catalog)):
        pass  # it saved its place when it stopped... or at least started from one
    first = follower(catalog)
    async with running(first):
        await catalog.products.update_one({"sku": SKU}, {"$set": {"brand": "Other"}})
        await until(first, lambda: first.handled >= 1)
    # Written while nobody follows: the next holder finds it from the saved resume token.
    await catalog.products.update_one({"sku": SKU}, {"$unset": {"attributes": ""}})
    second = follower(catalog)
    async with running(second):
        await until(second, lambda: second.handled >= 1)
    stored, live = await stored_and_live(catalog, SKU)
    assert stored == live


async def test_one_replica_follows_at_a_time(catalog: Catalog) -> None:
    one, other = follower(catalog), follower(catalog)
    async with running(one), following(other):
        holder = await catalog.db["leases"].find_one({"_id": LEASE})
        assert holder is not None
        assert holder["owner"] == one.owner
        assert not other.following.is_set()


async def test_an_older_recomputation_never_overwrites_a_newer_one(catalog: Catalog) -> None:
    product = await catalog.products.find_one({"sku": SKU})
    assert product is not None
    newer = product[BASED_ON]
    older = Timestamp(newer.time - 10, 1)
    late = _compare_and_set(product["_id"], {"readiness.web.score": -1}, older)
    result = await catalog.products.bulk_write([late])
    assert result.matched_count == 0
    fresh = _compare_and_set(
        product["_id"], {"readiness.web.score": 1}, Timestamp(newer.time + 1, 1)
    )
    assert (await catalog.products.bulk_write([fresh])).modified_count == 1


async def test_scores_written_with_other_rules_are_rescored(catalog: Catalog) -> None:
    """An import through a replica of other rules (a rolling deploy) writes its rows' scores
    with those: the follower rescores them with its own; scores written with its own rules
    are left as written."""
    product = await catalog.products.find_one({"sku": SKU})
    assert product is not None
    theirs = {**product["readiness"]["web"], "rulesHash": "2:other", "score": -1}
    async with running(follower(catalog)) as f:
        await catalog.products.update_one(
            {"sku": "NW-SOCK-001"},
            {"$set": {"readiness.web": {**theirs, "score": -2, "rulesHash": rules_hash(CHANNELS)}}},
        )
        await catalog.products.update_one(
            {"sku": SKU}, {"$set": {"brand": "Imported", "readiness.web": theirs}}
        )
        await until(f, lambda: f.handled >= 1)
    stored, live = await stored_and_live(catalog, SKU)
    assert stored == live
    untouched = await catalog.products.find_one({"sku": "NW-SOCK-001"})
    assert untouched is not None
    assert untouched["readiness"]["web"]["score"] == -2
    assert f.handled == 1
