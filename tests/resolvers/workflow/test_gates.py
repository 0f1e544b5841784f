"""Publish gates on a real database: what passes, and what each failing check says."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from resolvers.assets import DamClient
from resolvers.db import Catalog
from resolvers.workflow.gates import Gates
from tests.media_fixtures import image_bytes
from tests.workflow_fixtures import CHANNELS, NOW, PROFILES, hero, load, product, workflow

pytestmark = pytest.mark.indexed


@pytest.fixture
async def catalog(db: AsyncDatabase[dict[str, Any]]) -> Catalog:
    catalog = Catalog(db)
    await load(
        catalog,
        [
            product("WF-OK", 1),
            product("WF-NOHERO", 2, media=[]),
            product("WF-ARCH", 3, status="archived"),
            product("WF-LONG", 4, name={"en-US": "x" * 500}),
        ],
    )
    # Usage rights that leave out the marketplace.
    await catalog.assets.update_one(
        {"publicId": hero("WF-OK")}, {"$set": {"usageChannels": ["web", "mobile", "email"]}}
    )
    return catalog


async def gate(catalog: Catalog, sku: str, channels: list[str]) -> set[tuple[str, str]]:
    document = await catalog.products.find_one({"sku": sku})
    assert document is not None
    [failures] = await workflow(catalog).gates.check([document], channels, NOW)
    return {(f.check, f.channel) for f in failures}


async def test_a_complete_product_passes_where_its_assets_may_be_used(catalog: Catalog) -> None:
    assert await gate(catalog, "WF-OK", ["web", "mobile", "email"]) == set()
    assert await gate(catalog, "WF-OK", CHANNELS) == {
        ("readiness.hero_image", "marketplace"),
        ("readiness.asset_validity", "marketplace"),
        ("asset", "marketplace"),
    }
    document = await catalog.products.find_one({"sku": "WF-OK"})
    assert document is not None
    [failures] = await workflow(catalog).gates.check([document], ["marketplace"], NOW)
    rights = next(f for f in failures if f.check == "asset")
    assert rights.message == (
        "wf/WF-OK/hero: usage rights do not cover marketplace (only web, mobile, email)"
    )
    assert rights.path == ("media", 0, "publicId")
    assert rights.hint.startswith("Replace or re-license the asset")


async def test_a_readiness_blocker_names_the_rule_and_its_fix(catalog: Catalog) -> None:
    document = await catalog.products.find_one({"sku": "WF-NOHERO"})
    assert document is not None
    [failures] = await workflow(catalog).gates.check([document], ["web"], NOW)
    assert [(f.check, f.message) for f in failures] == [("readiness.hero_image", "no hero image")]
    assert failures[0].hint == "Upload one: catalog-gateway media ingest FILE --sku SKU --role hero"


async def test_archived_products_and_invalid_fields_fail(catalog: Catalog) -> None:
    assert await gate(catalog, "WF-ARCH", ["web", "email"]) == {
        ("status", "web"),
        ("status", "email"),
    }
    document = await catalog.products.find_one({"sku": "WF-LONG"})
    assert document is not None
    [failures] = await workflow(catalog).gates.check([document], ["email"], NOW)
    # A field rule is reported once; web's required locales do not concern the email channel.
    assert [(f.check, f.channel, f.message) for f in failures] == [
        ("validation", "email", "name.en-US: 500 characters, at most 150 allowed")
    ]
    [on_web] = await workflow(catalog).gates.check([document], ["web"], NOW)
    assert ("validation", "web") in {(f.check, f.channel) for f in on_web}
    assert any(f.path == ("name", "de-DE") for f in on_web)


async def test_an_asset_not_confirmed_lately_is_checked_in_cloudinary_first(
    catalog: Catalog, dam: DamClient
) -> None:
    """The mirror says the hero is live, but it was last confirmed two hours ago and
    Cloudinary (the emulator) no longer has it: the gate asks, and refuses."""
    await catalog.assets.update_many({}, {"$set": {"checkedAt": NOW - timedelta(hours=2)}})
    # A picture Cloudinary does have, uploaded now, for the other product.
    await dam.upload(image_bytes(3000, 3000), public_id=hero("WF-LONG"), overwrite=True)
    gates = Gates(
        catalog, PROFILES.channels, PROFILES.locales, None, dam, fresh_for=timedelta(hours=1)
    )
    documents = {d["sku"]: d async for d in catalog.products.find()}
    gone, present = await gates.check([documents["WF-OK"], documents["WF-LONG"]], ["web"], NOW)
    assert ("asset", "wf/WF-OK/hero: not found in Cloudinary") in {
        (f.check, f.message) for f in gone
    }
    assert not any(f.check == "asset" for f in present)
    # What Cloudinary answered is in the mirror now, confirmed.
    refreshed = await catalog.assets.find_one({"publicId": hero("WF-LONG")})
    assert refreshed is not None
    assert refreshed["checkedAt"] >= NOW
