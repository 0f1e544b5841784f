"""What a request may spend on Cloudinary's Admin API (a total deadline, a number of calls), the
writes that mirroring causes, and the breaker's log lines while Cloudinary fails."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from cloudinary_emulator import EmulatorServer
from gateway.settings import Settings
from resolvers.assets import DamBudgetExhaustedError, DamClient, DamUnavailableError
from resolvers.db import Catalog
from tests.command_counter import CommandCounter
from tests.fixtures.small_catalog import load_small_catalog
from tests.graphql_helpers import data_of, execute, services_for
from tests.media_fixtures import upload_image, upload_video

pytestmark = pytest.mark.indexed

HERO = '{ product(sku: "NW-RUN-002") { heroImage(channel: "web") { isPlaceholder publicId } } }'
PAGE = """{ products(first: 10) { edges { node {
    heroImage(channel: "web") { isPlaceholder }
    media(channel: "web") { publicId } } } } }"""


def hero(sku: str) -> dict[str, Any]:
    return {"publicId": f"catalog/{sku}/hero-1", "role": "hero", "position": 0}


async def unmirrored_heroes(catalog: Catalog, dam: DamClient) -> list[str]:
    """Every product of the small catalog with a hero image Cloudinary has and the mirror not."""
    await load_small_catalog(catalog)
    skus = [document["sku"] async for document in catalog.products.find({}, {"sku": 1})]
    for sku in skus:
        await catalog.products.update_one({"sku": sku}, {"$set": {"media": [hero(sku)]}})
        await upload_image(dam, f"catalog/{sku}/hero-1")
    return skus


def warning_codes(result: Any) -> list[str]:
    return [warning["code"] for warning in (result.extensions or {}).get("warnings", [])]


async def test_a_slow_cloudinary_costs_one_call_and_the_deadline(
    db: Any, dam: DamClient, emulator: EmulatorServer
) -> None:
    catalog = Catalog(db)
    await unmirrored_heroes(catalog, dam)
    emulator.emulator.faults.configure(latency_ms=2000)
    impatient = DamClient(dam.config, timeout_s=0.3)
    stats = emulator.emulator.stats
    before = stats.admin_calls
    result = await execute(services_for(catalog, dam=impatient), HERO)
    assert result.errors is None
    assert result.data == {
        "product": {"heroImage": {"isPlaceholder": True, "publicId": "placeholders/banner"}}
    }
    assert warning_codes(result) == ["DAM_UNAVAILABLE"]
    # urllib3 retried the timed-out read three times inside the SDK: four calls, four timeouts.
    assert stats.admin_calls - before == 1


async def test_the_deadline_is_shared_by_every_call_of_a_request(
    dam: DamClient, emulator: EmulatorServer
) -> None:
    await upload_image(dam, "catalog/a/hero-1")
    emulator.emulator.faults.configure(latency_ms=2000)
    # No cool-down, so that only the deadline stops the second call.
    client = DamClient(dam.config, timeout_s=0.3, cooldown_s=0)
    request = client.for_request()
    stats = emulator.emulator.stats
    before = stats.admin_calls
    with pytest.raises(DamUnavailableError):
        await request.resources_by_ids(["catalog/a/hero-1"])
    with pytest.raises(DamBudgetExhaustedError):
        await request.resources_by_ids(["catalog/a/hero-1"])
    assert stats.admin_calls - before == 1
    # The next request has a deadline of its own.
    emulator.emulator.faults.configure(latency_ms=0)
    [found] = await client.for_request().resources_by_ids(["catalog/a/hero-1"])
    assert found["public_id"] == "catalog/a/hero-1"
    assert stats.admin_calls - before == 2


async def test_a_request_makes_at_most_its_budget_of_admin_calls(
    db: Any, dam: DamClient, emulator: EmulatorServer
) -> None:
    catalog = Catalog(db)
    skus = await unmirrored_heroes(catalog, dam)
    assert len(skus) == 6
    # Two keys per batch: the page's six heroes would take three Admin API calls.
    budgeted = DamClient(dam.config, timeout_s=5, admin_calls_per_request=2)
    services = services_for(catalog, Settings(loader_batch_size=2), dam=budgeted)
    stats = emulator.emulator.stats
    before = stats.admin_calls
    result = await execute(services, PAGE)
    assert result.errors is None
    assert result.data is not None
    heroes = [edge["node"]["heroImage"] for edge in result.data["products"]["edges"]]
    assert [h["isPlaceholder"] for h in heroes].count(True) == 2
    assert warning_codes(result) == ["DAM_BUDGET_EXHAUSTED"]
    assert stats.admin_calls - before == 2
    # The next request asks for the rest.
    again = await execute(services, PAGE)
    assert again.data is not None
    assert not any(e["node"]["heroImage"]["isPlaceholder"] for e in again.data["products"]["edges"])
    assert warning_codes(again) == []
    assert stats.admin_calls - before == 3


async def test_mirroring_images_and_videos_writes_once_per_collection(
    db: Any, dam: DamClient, emulator: EmulatorServer, command_counter: CommandCounter
) -> None:
    catalog = Catalog(db)
    skus = await unmirrored_heroes(catalog, dam)
    for sku in skus:
        video = {"publicId": f"catalog/{sku}/video-1", "role": "video", "position": 1}
        gone = {"publicId": f"catalog/{sku}/side-1", "role": "side", "position": 2}
        await catalog.products.update_one(
            {"sku": sku}, {"$push": {"media": {"$each": [video, gone]}}}
        )
        await upload_video(dam, f"catalog/{sku}/video-1")
    services = services_for(catalog, dam=dam)
    stats = emulator.emulator.stats
    before = stats.admin_calls
    with command_counter.record(db.name) as recorded:
        await data_of(services, PAGE)
        await services.background.drain()
    assert stats.admin_calls - before == 2  # the images, the videos
    names = recorded.names()
    # The mirrored assets, the tombstones of the side images Cloudinary lacks, and one rescore
    # of the products (it ran once per resource type).
    assert (names["update:assets"], names["update:products"]) == (2, 1)
    assert await catalog.assets.count_documents({"status": "missing"}) == len(skus)


async def test_an_open_breaker_logs_its_transitions_and_a_summary_not_every_call(
    db: Any, dam: DamClient, emulator: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = Catalog(db)
    await unmirrored_heroes(catalog, dam)
    clock = {"now": 1000.0}
    breaking = DamClient(dam.config, timeout_s=5, cooldown_s=30, clock=lambda: clock["now"])
    services = services_for(catalog, dam=breaking)
    emulator.emulator.faults.configure(error_rate=1.0)

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]

    caplog.set_level(logging.DEBUG)
    await execute(services, HERO)  # fails and opens the breaker
    for _ in range(20):
        result = await execute(services, HERO)
        assert warning_codes(result) == ["DAM_UNAVAILABLE"]
    [opened] = lines()
    assert "breaker open" in opened
    clock["now"] += 31
    await execute(services, HERO)  # the half-open trial fails: counted, not logged
    for _ in range(5):
        await execute(services, HERO)
    assert len(lines()) == 1
    clock["now"] += 31
    await execute(services, HERO)  # a minute after the first line: one summary
    assert len(lines()) == 2
    assert "25 call(s) short-circuited and 2 failed" in lines()[1]
    emulator.emulator.faults.reset()
    clock["now"] += 31
    healed = await data_of(services, HERO)
    assert healed["product"]["heroImage"]["isPlaceholder"] is False
    assert len(lines()) == 3
    assert "breaker closed" in lines()[2]
    assert "25 call(s) short-circuited meanwhile" in lines()[2]
