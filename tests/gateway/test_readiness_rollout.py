"""A rolling deploy that changes channels.toml: replicas of two rules over one database.

Stored scores follow one rules hash at a time: the old one until a majority of live replicas
runs the new one, then the new one, switched once by the new rules' follower; neither
replica's own rescoring rewrites scores stored under the other's rules meanwhile.
"""

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from gateway.app import create_app
from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.channels import Channels
from resolvers.db import Catalog
from resolvers.readiness import stale_query
from resolvers.readiness.rollout import Heartbeat, adopted_rules, beating
from resolvers.readiness.store import load_context, materialize, rules_hash, stored_readiness
from tests.demo_fixtures import NOW
from tests.fixtures.small_catalog import load_small_catalog
from tests.gateway.test_webhooks import SECRET, signed
from tests.http_helpers import api_key, eventually, serve
from tests.resolvers.readiness.test_follower import CHANNELS, LOCALES, SKU

HERO = f"catalog/{SKU}/hero-1"
ROLLOUT = """{ catalogReadiness(channel: "web") {
    stale rules { rulesHash replicas scores adopted thisReplica } } }"""
BEAT = timedelta(seconds=0.2)


def replica_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "readiness_follower": True,
            "replica_heartbeat_s": BEAT.total_seconds(),
            "dashboard_ttl_s": 0,
            "emulator_secret": SECRET,
        }
    )


def with_hero_weighing(settings: Settings, weight: int, directory: Path) -> Settings:
    """``settings`` with channels.toml's hero_image rule weighing ``weight`` (shipped: 20)."""
    shipped = settings.channels_path.read_text()
    rule = '[readiness.rules.hero_image]\ndescription = "A hero image is present and deliverable"\n'
    changed = shipped.replace(f"{rule}weight = 20\n", f"{rule}weight = {weight}\n")
    assert changed != shipped
    directory.mkdir()
    (directory / "channels.toml").write_text(changed)
    return settings.model_copy(
        update={"channels": directory / "channels.toml", "data_dir": directory / "data"}
    )


async def rollout(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": ROLLOUT}, headers=headers)
    data: dict[str, Any] = response.json()["data"]["catalogReadiness"]
    return {"stale": data["stale"], **{row.pop("rulesHash"): row for row in data["rules"]}}


async def stored_as_live(catalog: Catalog, channels: Channels) -> bool:
    """The product's stored web score is the one ``channels`` give it now, under their hash."""
    product = await catalog.products.find_one({"sku": SKU})
    assert product is not None
    live = stored_readiness(
        product, channels, LOCALES, datetime.now(UTC), await load_context(catalog, [product])
    )["web"]
    stored = product["readiness"]["web"]
    return (stored["score"], stored["failed"], stored["rulesHash"]) == (
        live["score"],
        live["failed"],
        rules_hash(channels),
    )


async def stored_under(catalog: Catalog) -> set[str]:
    """The rules hashes of the product's stored scores."""
    product = await catalog.products.find_one({"sku": SKU})
    assert product is not None
    return {scores["rulesHash"] for scores in product["readiness"].values()}


async def notify(http: httpx.AsyncClient, payload: dict[str, Any], after_s: float = 0) -> None:
    """Cloudinary's signed notification of ``payload``, sent ``after_s`` from now."""
    if after_s:
        await asyncio.sleep(after_s)
    body, headers = signed(payload)
    response = await http.post("/webhooks/cloudinary", content=body, headers=headers)
    assert response.status_code == 200, response.text


def hero_upload(version: int) -> dict[str, Any]:
    return {
        "notification_type": "upload",
        "public_id": HERO,
        "resource_type": "image",
        "type": "upload",
        "version": version,
        "width": 2400,
        "height": 2400,
        "format": "jpg",
        "bytes": 123456,
        "context": {"custom": {"alt_en-US": "Trail shoe", "alt_de-DE": "Schuh"}},
    }


def hero_deletion(version: int) -> dict[str, Any]:
    resource = {"public_id": HERO, "resource_type": "image", "type": "upload", "version": version}
    return {"notification_type": "delete", "resources": [resource]}


async def test_a_rolling_deploy_switches_stored_scores_once_a_majority_runs_the_new_rules(
    settings: Settings, db: Any, tmp_path: Path
) -> None:
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    await materialize(catalog, CHANNELS, LOCALES, NOW)
    total = await catalog.products.count_documents({})
    old = replica_settings(settings)
    new = with_hero_weighing(old, 30, tmp_path / "new")
    new_channels = load_profiles(new).channels
    old_hash, new_hash = rules_hash(CHANNELS), rules_hash(new_channels)
    headers = await api_key(db, "admin")

    async with serve(create_app(old)) as old_http:
        adopted = await adopted_rules(db)
        assert adopted is not None
        assert adopted.rules_hash == old_hash
        async with serve(create_app(new)) as new_http:
            # One replica of each: no majority, the stored scores stay with the old rules,
            # and the dashboard says so instead of calling them stale.
            assert await rollout(new_http, headers) == {
                "stale": 0,
                old_hash: {"replicas": 1, "scores": total, "adopted": True, "thisReplica": False},
                new_hash: {"replicas": 1, "scores": 0, "adopted": False, "thisReplica": True},
            }
            # The new replica's own rescoring (a webhook) leaves the old rules' scores alone;
            # the old rules' follower rescores what the notification changed.
            await notify(new_http, hero_upload(100))
            assert await stored_under(catalog) == {old_hash}
            await eventually(lambda: stored_as_live(catalog, CHANNELS))

            # A third replica of the new rules: a majority. Its follower rescores every
            # product once; the old replica's follower let go of the lease.
            rewrites = await catalog.products.watch(
                [{"$match": {"operationType": "update"}}], max_await_time_ms=200
            )
            async with rewrites, beating(Heartbeat(db, new_hash, interval=BEAT)):

                async def switched() -> bool:
                    return not await catalog.products.count_documents(stale_query(new_channels))

                await eventually(switched)
                rescored: Counter[Any] = Counter()
                while (change := await rewrites.try_next()) is not None:
                    fields = change["updateDescription"]["updatedFields"]
                    if any(name.startswith("readiness") for name in fields):
                        rescored[change["documentKey"]["_id"]] += 1
                assert len(rescored) == total
                assert set(rescored.values()) == {1}

                # The old replica's webhook no longer rewrites the new rules' scores; the new
                # rules' follower rescores what it changed.
                await notify(old_http, hero_deletion(200))
                assert await stored_under(catalog) == {new_hash}
                await eventually(lambda: stored_as_live(catalog, new_channels))
                assert await rollout(old_http, headers) == {
                    "stale": 0,
                    old_hash: {
                        "replicas": 1,
                        "scores": 0,
                        "adopted": False,
                        "thisReplica": True,
                    },
                    new_hash: {
                        "replicas": 2,
                        "scores": total,
                        "adopted": True,
                        "thisReplica": False,
                    },
                }
    adopted = await adopted_rules(db)
    assert adopted is not None
    assert (adopted.rules_hash, adopted.by) == (new_hash, "majority")
    # Replicas that stopped take their heartbeat with them.
    assert await db["replicas"].count_documents({}) == 0
