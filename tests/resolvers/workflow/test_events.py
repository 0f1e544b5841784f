"""Workflow events share change_events with content events without breaking its guarantees."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from resolvers.db import OLD_EVENT_REVISION_INDEX, Catalog, ensure_indexes
from tests.workflow_fixtures import CHANNELS, PROFILES

pytestmark = pytest.mark.indexed


async def test_the_old_unique_revision_index_is_replaced(db: AsyncDatabase[dict[str, Any]]) -> None:
    catalog = Catalog(db)
    # A database from before workflow events.
    await catalog.change_events.create_index(
        [("sku", ASCENDING), ("revision", DESCENDING)], name=OLD_EVENT_REVISION_INDEX, unique=True
    )
    await ensure_indexes(catalog, PROFILES.locales.locales, CHANNELS)
    await ensure_indexes(catalog, PROFILES.locales.locales, CHANNELS)  # twice: idempotent
    names = {i["name"] async for i in await catalog.change_events.list_indexes()}
    assert OLD_EVENT_REVISION_INDEX not in names
    assert "sku_revision_transition" in names
    # Any number of workflow events per revision; still one content event per revision.
    content = {"sku": "P-1", "revision": 3, "operation": "update", "changes": []}
    await catalog.change_events.insert_one(dict(content))
    for _ in range(2):
        await catalog.change_events.insert_one(
            {**content, "operation": "workflow.submit", "transition": ObjectId()}
        )
    with pytest.raises(DuplicateKeyError):
        await catalog.change_events.insert_one(dict(content))
