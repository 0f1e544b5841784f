"""The change hub: one change stream per product source, fanned out to its subscribers."""

import asyncio
from contextlib import aclosing
from typing import Any

import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from resolvers.db import Catalog
from resolvers.product_changes import ChangeHub, ProductChange, SubscriberLaggedError
from resolvers.workflow.source import published, working_copy


@pytest.fixture
async def catalog(db: AsyncDatabase[dict[str, Any]]) -> Catalog:
    return Catalog(db)


async def take(changes: Any, n: int) -> list[tuple[str, str, int | None]]:
    got: list[tuple[str, str, int | None]] = []
    async for change in changes:
        assert isinstance(change, ProductChange)
        got.append((change.sku, change.kind, change.revision))
        if len(got) == n:
            break
    return got


async def test_a_channel_sees_publish_republish_and_unpublish_in_order(catalog: Catalog) -> None:
    hub = ChangeHub()
    web = catalog.publications("web")
    product_id = ObjectId()
    await catalog.products.insert_one({"_id": product_id, "sku": "A-1", "revision": 2})
    changes = await hub.subscribe(published(catalog, "web"), catalog.products)
    async with aclosing(changes):
        await web.insert_one({"_id": product_id, "sku": "A-1", "revision": 1})
        await web.replace_one({"_id": product_id}, {"sku": "A-1", "revision": 2})
        await web.delete_one({"_id": product_id})
        assert await asyncio.wait_for(take(changes, 3), 30) == [
            ("A-1", "CREATED", 1),
            ("A-1", "UPDATED", 2),
            ("A-1", "REMOVED", None),
        ]
    # The last subscriber left: the stream is closed.
    assert hub.watching(published(catalog, "web")) == 0
    await hub.aclose()


async def test_subscribers_of_one_source_share_one_stream_and_filter_by_sku(
    catalog: Catalog,
) -> None:
    hub = ChangeHub()
    source = working_copy(catalog)
    every = await hub.subscribe(source, catalog.products)
    only_b = await hub.subscribe(source, catalog.products, frozenset({"B-1"}))
    assert hub.watching(source) == 2
    assert len(hub._feeds) == 1
    async with aclosing(every), aclosing(only_b):
        await catalog.products.insert_many([{"sku": "A-1"}, {"sku": "B-1"}])
        await catalog.products.update_one({"sku": "B-1"}, {"$set": {"revision": 2}})
        assert await asyncio.wait_for(take(every, 3), 30) == [
            ("A-1", "CREATED", None),
            ("B-1", "CREATED", None),
            ("B-1", "UPDATED", 2),
        ]
        assert await asyncio.wait_for(take(only_b, 2), 30) == [
            ("B-1", "CREATED", None),
            ("B-1", "UPDATED", 2),
        ]
    await hub.aclose()


async def test_a_product_leaving_the_keys_view_is_removed(catalog: Catalog) -> None:
    hub = ChangeHub()
    # A principal without drafts reads only published products of the working copy.
    source = working_copy(catalog, {"status": "PUBLISHED"})
    await catalog.products.insert_one({"sku": "A-1", "status": "PUBLISHED", "revision": 1})
    changes = await hub.subscribe(source, catalog.products)
    async with aclosing(changes):
        await catalog.products.update_one({"sku": "A-1"}, {"$set": {"status": "ARCHIVED"}})
        assert await asyncio.wait_for(take(changes, 1), 30) == [("A-1", "REMOVED", None)]
    await hub.aclose()


async def test_a_subscriber_that_falls_behind_is_ended_not_buffered(catalog: Catalog) -> None:
    hub = ChangeHub(backlog=2)
    source = working_copy(catalog)
    slow = await hub.subscribe(source, catalog.products)
    keeping_up = await hub.subscribe(source, catalog.products, frozenset({"Z"}))
    async with aclosing(slow), aclosing(keeping_up):
        await catalog.products.insert_many([{"sku": f"A-{n}"} for n in range(4)])
        await catalog.products.insert_one({"sku": "Z"})
        # The other subscriber goes on: only the slow one was ended.
        assert await asyncio.wait_for(take(keeping_up, 1), 30) == [("Z", "CREATED", None)]
        with pytest.raises(SubscriberLaggedError):
            await take(slow, 4)
    await hub.aclose()
