"""Per-process caches follow MongoDB: a key revoked, or products changed, through one replica
(or the shell) show on another at once, not after its cache's TTL."""

from typing import Any

from gateway.app import create_app
from gateway.settings import Settings
from resolvers.access.api_keys import parse_key
from resolvers.db import Catalog
from tests.fixtures.small_catalog import load_small_catalog
from tests.http_helpers import api_key, eventually, key_store, serve

DASHBOARD = '{ catalogReadiness(channel: "web") { products } }'


async def test_a_revoked_key_and_a_changed_catalog_show_on_every_replica_at_once(
    settings: Settings, db: Any
) -> None:
    await load_small_catalog(Catalog(db))
    # Caches that would otherwise hold for an hour.
    cached = settings.model_copy(
        update={"cache_invalidation": True, "key_cache_s": 3600, "dashboard_ttl_s": 3600}
    )
    other = cached.model_copy(update={"data_dir": settings.data_dir.parent / "other"})
    viewer = await api_key(db, "viewer", settings)
    admin = await api_key(db, "admin", settings)
    async with serve(create_app(cached)) as replica, serve(create_app(other)):

        async def dashboard() -> int:
            response = await replica.post("/graphql", json={"query": DASHBOARD}, headers=admin)
            return int(response.json()["data"]["catalogReadiness"]["products"])

        async def viewer_status() -> int:
            response = await replica.post(
                "/graphql", json={"query": "{ __typename }"}, headers=viewer
            )
            return response.status_code

        assert await viewer_status() == 200  # the key is in this replica's cache now
        counted = await dashboard()  # and the dashboard
        # Revoked elsewhere (another replica's mutation, or the CLI): the same write.
        keys = key_store(db, settings)
        parsed = parse_key(viewer["Authorization"].removeprefix("Bearer "))
        assert parsed is not None
        await keys.revoke(parsed.key_id)

        async def refused() -> bool:
            return await viewer_status() == 401

        await eventually(refused)
        await db["products"].insert_one({"sku": "NEW-1", "status": "draft", "name": {}})

        async def recounted() -> bool:
            return await dashboard() == counted + 1

        await eventually(recounted)
