"""Indexes that expire documents: import jobs are deleted CATALOG_IMPORT_JOB_TTL_DAYS after
their last update, and a changed setting changes the index in place."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from gateway.services import load_profiles, open_catalog
from gateway.settings import Settings
from resolvers.db import IMPORT_JOB_TTL_INDEX, Catalog, Collection, ensure_indexes

Db = AsyncDatabase[dict[str, Any]]
DAY = 24 * 3600


async def ttl_index(collection: Collection) -> dict[str, Any]:
    indexes = {i["name"]: i async for i in await collection.list_indexes()}
    index = indexes[IMPORT_JOB_TTL_INDEX]
    return {"key": dict(index["key"]), "expireAfterSeconds": index["expireAfterSeconds"]}


async def test_import_jobs_expire_30_days_after_their_last_update_by_default(db: Db) -> None:
    catalog = Catalog(db)
    await ensure_indexes(catalog, ["en-US"])
    assert await ttl_index(catalog.import_jobs) == {
        "key": {"updatedAt": 1},
        "expireAfterSeconds": 30 * DAY,
    }


async def test_the_setting_sets_the_ttl_and_a_changed_one_changes_the_index(
    settings: Settings, db: Db
) -> None:
    week = settings.model_copy(update={"import_job_ttl_days": 7})
    async with open_catalog(week, load_profiles(week), role="command") as connection:
        jobs = connection.catalog.import_jobs
        assert (await ttl_index(jobs))["expireAfterSeconds"] == 7 * DAY
    catalog = Catalog(db)
    # A replica started with another setting: createIndexes alone would refuse the change.
    await ensure_indexes(catalog, ["en-US"], import_job_ttl=timedelta(days=90))
    assert (await ttl_index(catalog.import_jobs))["expireAfterSeconds"] == 90 * DAY
    await ensure_indexes(catalog, ["en-US"], import_job_ttl=timedelta(days=90))
    assert (await ttl_index(catalog.import_jobs))["expireAfterSeconds"] == 90 * DAY
