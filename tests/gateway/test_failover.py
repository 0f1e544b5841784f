"""A primary stepped down, then another killed, under load: a three-member replica set of real
mongods behind one gateway. Reads keep being served (primaryPreferred), with an API key looked
up on every request too, and /readyz stays ready,
webhooks are applied whole or refused with 503 and applied on Cloudinary's retry, and stored
readiness ends equal to the live scores."""

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from gateway.app import create_app
from gateway.settings import Settings
from resolvers.db import Catalog
from resolvers.readiness.store import load_context, materialize, stored_readiness
from tests.demo_fixtures import NOW
from tests.fixtures.small_catalog import load_small_catalog
from tests.gateway.test_webhooks import SECRET, UPLOAD, signed
from tests.http_helpers import api_key, serve
from tests.replica_set import replica_set
from tests.resolvers.readiness.test_follower import CHANNELS, LOCALES

LISTING = "{ products(first: 10) { edges { node { sku name } } } }"
READERS = 4
NOTIFIERS = 1


async def test_reads_webhooks_and_stored_scores_survive_a_step_down_and_a_killed_primary(
    settings: Settings, tmp_path: Path
) -> None:
    with replica_set() as members:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(members.uri, tz_aware=True)
        try:
            catalog = Catalog(client["failover"])
            await load_small_catalog(catalog)
            await materialize(catalog, CHANNELS, LOCALES, NOW)
            # Load beyond a storefront's rate: this is about failover, not the rate limit.
            roles = tmp_path / "roles.toml"
            roles.write_text(
                settings.roles_path.read_text().replace(
                    "rate = { burst = 120, per_minute = 1200 }",
                    "rate = { burst = 100000, per_minute = 6000000 }",
                )
            )
            configured = settings.model_copy(
                update={
                    "roles": roles,
                    "mongodb_uri": members.uri,
                    "db": "failover",
                    "emulator_secret": SECRET,
                    "read_preference": "primaryPreferred",
                    "readiness_follower": True,
                    # Every keyed request looks its key up: some of them during the elections.
                    "key_cache_s": 0,
                }
            )
            key = await api_key(catalog.db, "viewer", configured)
            async with serve(create_app(configured)) as http:
                outcome = await _under_load(http, members, key)
                await _redeliver(http, outcome["refused"])
            await _until_scores_follow(catalog)
            mirrored = await catalog.assets.count_documents({"source": "webhook"})
        finally:
            await client.close()
    assert outcome["failed_reads"] == []
    # Ready throughout, writes "unavailable" at most while no primary was known.
    assert {status for status, _ in outcome["readiness"]} == {200}
    assert outcome["reads_after"] > 0
    assert set(outcome["webhook_statuses"]) <= {200, 503, 409}
    assert mirrored == outcome["notifications"]


async def _under_load(http: httpx.AsyncClient, members: Any, key: dict[str, str]) -> dict[str, Any]:
    stop, progress = asyncio.Event(), asyncio.Event()
    failed: list[Any] = []
    reads = Counter[str]()
    statuses = Counter[int]()
    readiness = Counter[tuple[int, str | None]]()
    refused: list[tuple[str, dict[str, str]]] = []
    sent = 0

    async def reader(headers: dict[str, str]) -> None:
        while not stop.is_set():
            response = await http.post("/graphql", json={"query": LISTING}, headers=headers)
            body = response.json()
            if response.status_code != 200 or body.get("errors"):
                failed.append((response.status_code, body.get("errors")))
            reads["done"] += 1
            progress.set()
            await asyncio.sleep(0)  # an answer from a cache never suspends: let others run

    async def notifier() -> None:
        nonlocal sent
        while not stop.is_set():
            sent += 1
            payload = {**UPLOAD, "public_id": f"catalog/failover/{sent}", "version": sent}
            body, headers = signed(payload)
            response = await http.post("/webhooks/cloudinary", content=body, headers=headers)
            statuses[response.status_code] += 1
            if response.status_code != 200:
                refused.append((body, headers))
            await asyncio.sleep(0.05)

    async def prober() -> None:
        """A load balancer's health check: the replica must not leave it for an election."""
        while not stop.is_set():
            response = await http.get("/readyz")
            readiness[(response.status_code, response.json().get("writes"))] += 1
            await asyncio.sleep(0.1)

    async def reads_beyond(count: int) -> None:
        async with asyncio.timeout(120):
            while True:
                progress.clear()
                if reads["done"] >= count:
                    return
                await progress.wait()

    tasks = [asyncio.create_task(reader({})) for _ in range(READERS - 1)]
    tasks.append(asyncio.create_task(reader(key)))
    tasks += [asyncio.create_task(notifier()) for _ in range(NOTIFIERS)]
    tasks.append(asyncio.create_task(prober()))
    try:
        await reads_beyond(20)
        primary = await asyncio.to_thread(members.primary)
        await asyncio.to_thread(members.step_down, primary)
        successor = await asyncio.to_thread(members.primary)
        await asyncio.to_thread(members.kill, successor)
        await asyncio.to_thread(members.primary)
        before = reads["done"]
        await reads_beyond(before + 20)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    return {
        "failed_reads": failed,
        "reads_after": reads["done"] - before,
        "webhook_statuses": dict(statuses),
        "refused": refused,
        "notifications": sent,
        "readiness": dict(readiness),
    }


async def _redeliver(http: httpx.AsyncClient, refused: list[tuple[str, dict[str, str]]]) -> None:
    """What Cloudinary does with a 5xx (or a 409): deliver the same bytes again later."""
    for body, headers in refused:
        async with asyncio.timeout(120):
            while True:
                response = await http.post("/webhooks/cloudinary", content=body, headers=headers)
                if response.status_code == 200:
                    break
                await asyncio.sleep(0.2)


async def _until_scores_follow(catalog: Catalog) -> None:
    async with asyncio.timeout(120):
        while True:
            differing = 0
            async for product in catalog.products.find({}):
                context = await load_context(catalog, [product])
                live = stored_readiness(product, CHANNELS, LOCALES, NOW, context)
                stored = product.get("readiness") or {}
                differing += any(
                    (stored.get(c) or {}).get("failed") != live[c]["failed"] for c in live
                )
            if not differing:
                return
            await asyncio.sleep(0.2)
