"""The asset mirror's write guards: Cloudinary's notifications arrive late, twice, out of order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from resolvers.assets import asset_from_resource, upsert_assets
from resolvers.assets.mirror import mark_deleted
from resolvers.db import asset_indexes

NOW = datetime(2026, 12, 3, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def _indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    # The unique (publicId, resourceType) index is what turns a refused upsert into a no-op.
    await db["assets"].create_indexes(asset_indexes())


def resource(version: int) -> dict[str, Any]:
    return {
        "public_id": "products/a/hero",
        "resource_type": "image",
        "type": "upload",
        "format": "jpg",
        "version": version,
        "width": 1200,
        "height": 1200,
        "bytes": 1000,
        "secure_url": "https://example.test/a.jpg",
    }


async def status(db: AsyncDatabase[dict[str, Any]]) -> tuple[str | None, int]:
    stored = await db["assets"].find_one({"publicId": "products/a/hero"})
    assert stored is not None
    return stored.get("status"), stored["version"]


async def test_a_late_upload_of_the_deleted_version_does_not_resurrect_it(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    await upsert_assets(db["assets"], [asset_from_resource(resource(5), NOW, "webhook")])
    await mark_deleted(db["assets"], {("image", "products/a/hero"): 5}, NOW)
    assert await status(db) == ("deleted", 5)
    await upsert_assets(db["assets"], [asset_from_resource(resource(5), NOW, "webhook")])
    assert await status(db) == ("deleted", 5)
    # A re-upload is a new version and brings the asset back.
    await upsert_assets(db["assets"], [asset_from_resource(resource(6), NOW, "webhook")])
    assert (await status(db))[1] == 6
    assert (await status(db))[0] != "deleted"


async def test_an_older_record_never_overwrites_a_newer_one(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    await upsert_assets(db["assets"], [asset_from_resource(resource(7), NOW, "webhook")])
    await upsert_assets(db["assets"], [asset_from_resource(resource(6), NOW, "webhook")])
    await mark_deleted(db["assets"], {("image", "products/a/hero"): 6}, NOW)
    assert (await status(db))[1] == 7
    assert (await status(db))[0] != "deleted"
    assert await db["assets"].count_documents({}) == 1
