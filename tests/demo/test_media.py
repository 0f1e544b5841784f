"""Demo media: pictures drawn for the demo catalog, uploaded through the SDK and mirrored."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cloudinary.utils
import httpx
import pytest
from PIL import Image, ImageChops
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from cloudinary_emulator import EmulatorServer
from demo.catalog import generate_demo_catalog
from demo.defects import MISSING_ASSET_PREFIX, PlantedDefects
from demo.pictures import ROLE_SIZES, VIDEO_SIZE, draw_product_image, fake_mp4
from demo.placeholders import (
    PLACEHOLDER_SIZES,
    PLACEHOLDER_VIDEOS,
    draw_placeholder,
    placeholder_resource_type,
)
from demo.seeding import seed_demo_catalog
from demo.upload import DemoMediaReport, UploadProgress, upload_demo_media, upload_demo_pictures
from resolvers.assets import DamClient
from resolvers.db import Catalog
from resolvers.documents import MediaReference
from tests.demo_fixtures import CHANNELS, LOCALES, DemoMediaSnapshots, demo_media_uploaded

NOW = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
PRODUCTS = 50


def open_picture(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@dataclass(frozen=True, slots=True)
class Uploaded:
    """One upload of the 50-product demo, shared by the tests that only read its outcome."""

    catalog: Catalog
    dam: DamClient
    emulator: EmulatorServer
    report: DemoMediaReport
    defects: PlantedDefects
    references: list[tuple[str, MediaReference]]  # (product SKU, reference), missing included


@pytest.fixture(scope="module")
async def uploaded(
    mongo_client: AsyncMongoClient[dict[str, Any]], demo_media_snapshots: DemoMediaSnapshots
) -> AsyncIterator[Uploaded]:
    # Module scope: uploading ~300 pictures once keeps this file fast; the tests below only
    # read what that run left behind.
    async with demo_media_uploaded(mongo_client, PRODUCTS, NOW, demo_media_snapshots) as media:
        demo = generate_demo_catalog(products=PRODUCTS)
        references = [(p["sku"], m) for p in demo.products for m in p["media"]]
        yield Uploaded(
            media.catalog, media.dam, media.emulator, media.report, demo.defects, references
        )


def present(uploaded: Uploaded) -> list[tuple[str, MediaReference]]:
    """References with a mirror record (the planted deleted-in-DAM ones included)."""
    return [
        (sku, m)
        for sku, m in uploaded.references
        if not m["publicId"].startswith(MISSING_ASSET_PREFIX)
    ]


def in_dam(uploaded: Uploaded) -> list[tuple[str, MediaReference]]:
    """References the DAM holds: the present ones but the planted deleted-in-DAM ones."""
    deleted = {d.public_id for d in uploaded.defects.deleted_in_dam}
    return [(sku, m) for sku, m in present(uploaded) if m["publicId"] not in deleted]


def resource_type(reference: MediaReference) -> str:
    return "video" if reference["role"] == "video" else "image"


async def test_report_counts(uploaded: Uploaded) -> None:
    report = uploaded.report
    expected = present(uploaded)
    assert report.failed == ()
    assert report.references == len(expected)
    assert report.uploaded == len(in_dam(uploaded)) == len(expected) - 1
    assert report.deleted_in_dam == tuple(d.public_id for d in uploaded.defects.deleted_in_dam)
    assert report.skipped == 0
    assert report.left_missing == len(uploaded.defects.missing_assets) > 0
    assert report.placeholders_uploaded == len(PLACEHOLDER_SIZES)
    assert report.mirrored == len(expected) + len(PLACEHOLDER_SIZES)
    assert len(report.products_without_alt) >= 2
    assert set(report.products_without_alt) <= {p for p, _ in expected}


async def test_every_reference_is_uploaded_with_tags_and_context(uploaded: Uploaded) -> None:
    without_alt = set(uploaded.report.products_without_alt)
    for sku, reference in in_dam(uploaded):
        asset = uploaded.emulator.emulator.get_asset(
            reference["publicId"], resource_type(reference)
        )
        assert asset is not None, reference["publicId"]
        role = reference["role"]
        variant = reference.get("variantSku")
        expected_tags = {f"sku:{sku}", f"role:{role}"} | (
            {f"variant:{variant}"} if variant else set()
        )
        assert set(asset.tags) == expected_tags
        assert asset.context["role"] == role
        assert asset.context["sku"] == sku
        assert asset.context.get("variant_sku") == variant
        alt = {k: v for k, v in asset.context.items() if k.startswith("alt_")}
        if sku in without_alt:
            assert alt == {}
        else:
            assert set(alt) == {f"alt_{locale}" for locale in ("en-US", "de-DE", "fr-FR", "it-IT")}
            assert all(text.strip() for text in alt.values())


async def test_the_admin_api_sees_the_same_assets(uploaded: Uploaded) -> None:
    images = [m for _, m in in_dam(uploaded) if m["role"] == "hero"]
    resources = await uploaded.dam.resources_by_ids([m["publicId"] for m in images])
    assert {r["public_id"] for r in resources} == {m["publicId"] for m in images}
    for resource in resources:
        assert (resource["width"], resource["height"]) == ROLE_SIZES["hero"]
        assert resource["context"]["custom"]["role"] == "hero"


async def test_planted_missing_references_stay_missing(uploaded: Uploaded) -> None:
    emulator = uploaded.emulator.emulator
    assert uploaded.defects.missing_assets
    for defect in uploaded.defects.missing_assets:
        assert emulator.get_asset(defect.public_id) is None
        assert emulator.get_asset(defect.public_id, "video") is None
        assert await uploaded.catalog.assets.find_one({"publicId": defect.public_id}) is None
    assert not any(a.public_id.startswith(MISSING_ASSET_PREFIX) for a in emulator.store)


async def test_a_hero_deleted_in_the_dam_stays_active_in_the_mirror_and_answers_404(
    uploaded: Uploaded,
) -> None:
    # Planted for the channel contracts: only fetching the delivered picture finds it.
    [deleted] = uploaded.defects.deleted_in_dam
    assert uploaded.emulator.emulator.get_asset(deleted.public_id) is None
    document = await uploaded.catalog.assets.find_one({"publicId": deleted.public_id})
    assert document is not None
    assert (document["status"], document["role"], document["sku"]) == (
        "active",
        "hero",
        deleted.sku,
    )
    url = uploaded.dam.url(deleted.public_id, format="jpg")
    async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
        assert (await client.get(url)).status_code == 404


async def test_the_mirror_holds_an_active_document_per_upload(uploaded: Uploaded) -> None:
    documents = {
        (d["resourceType"], d["publicId"]): d async for d in uploaded.catalog.assets.find({})
    }
    without_alt = set(uploaded.report.products_without_alt)
    for sku, reference in present(uploaded):
        document = documents.pop((resource_type(reference), reference["publicId"]))
        role = reference["role"]
        assert document["status"] == "active"
        assert document["source"] == "demo"
        assert (document["sku"], document["role"]) == (sku, role)
        assert document.get("variantSku") == reference.get("variantSku")
        size = VIDEO_SIZE if role == "video" else ROLE_SIZES[role]
        assert (document["width"], document["height"]) == size
        assert bool(document["alt"]) == (sku not in without_alt)
        if role == "video":
            assert document["format"] == "mp4"
            assert 8 <= document["duration"] <= 32  # seconds, as demo.upload makes them
        else:
            assert document["format"] == ("png" if role == "swatch" else "jpg")
            assert len(document["phash"]) == 16
    # What is left over are the placeholders, mirrored too so the restart check finds them.
    assert set(documents) == {(placeholder_resource_type(p), p) for p in PLACEHOLDER_SIZES}


async def test_placeholders_exist(uploaded: Uploaded) -> None:
    for public_id, size in PLACEHOLDER_SIZES.items():
        kind = placeholder_resource_type(public_id)
        asset = uploaded.emulator.emulator.get_asset(public_id, kind)
        assert asset is not None, public_id
        assert (asset.width, asset.height) == size
        assert asset.format == ("mp4" if kind == "video" else "png")
    assert placeholder_resource_type("placeholders/video") == "video"
    watermark = uploaded.emulator.emulator.get_asset("placeholders/watermark")
    assert watermark is not None
    picture = open_picture(watermark.data)
    assert picture.mode == "RGBA"
    # Transparent around the text, and the text itself visible.
    assert picture.getchannel("A").getextrema() == (0, 190)


async def test_a_delivered_url_is_a_real_jpeg(uploaded: Uploaded) -> None:
    sku, hero = next((s, m) for s, m in in_dam(uploaded) if m["role"] == "hero")
    url, _ = cloudinary.utils.cloudinary_url(
        hero["publicId"],
        transformation=[{"width": 400, "height": 400, "crop": "fill"}],
        format="jpg",
        **uploaded.emulator.sdk_config(),
    )
    async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    picture = open_picture(response.content)
    assert (picture.format, picture.size) == ("JPEG", (400, 400))
    # A drawing, not a flat fill: the picture has contrast.
    low, high = picture.convert("L").getextrema()
    assert isinstance(low, int)
    assert isinstance(high, int)
    assert high - low > 100, sku


async def test_a_second_run_uploads_nothing(uploaded: Uploaded) -> None:
    uploads = uploaded.dam.stats.uploads
    upload_calls = uploaded.emulator.emulator.stats.upload_calls
    report = await upload_demo_media(uploaded.catalog, uploaded.dam, now=NOW)
    assert report.uploaded == 0
    # The planted deleted-in-DAM hero too: the mirror says it is there.
    assert report.skipped == report.references == uploaded.report.references
    assert report.deleted_in_dam == ()
    assert report.placeholders_uploaded == 0
    assert report.placeholders_skipped == len(PLACEHOLDER_SIZES)
    assert report.products_without_alt == uploaded.report.products_without_alt
    assert uploaded.dam.stats.uploads == uploads
    assert uploaded.emulator.emulator.stats.upload_calls == upload_calls


async def test_failed_uploads_are_reported_and_retried_on_the_next_run(
    db: AsyncDatabase[dict[str, Any]], dam: DamClient, emulator: EmulatorServer
) -> None:
    await seed_demo_catalog(db, products=PRODUCTS)
    # Four products are enough to see some uploads fail and the others go through.
    keep = [p["sku"] async for p in db["products"].find({}, {"sku": 1}).limit(4)]
    await db["products"].delete_many({"sku": {"$nin": keep}})
    catalog = Catalog(db)
    emulator.emulator.faults.configure(error_rate=0.4, seed=3)

    first = await upload_demo_media(catalog, dam, now=NOW, concurrency=3)

    total = first.references + len(PLACEHOLDER_SIZES)
    assert first.failed, "the seed should fail some uploads"
    left_out = len(first.deleted_in_dam)
    assert first.uploaded + left_out + first.placeholders_uploaded + len(first.failed) == total
    assert first.uploaded > 0
    assert all("500" in f.reason or "General Error" in f.reason for f in first.failed)
    assert await catalog.assets.count_documents({}) == total - len(first.failed)

    emulator.emulator.faults.reset()
    second = await upload_demo_media(catalog, dam, now=NOW)
    assert second.failed == ()
    assert second.uploaded + second.placeholders_uploaded == len(first.failed)
    assert await catalog.assets.count_documents({"status": "active"}) == total


async def test_the_upload_reports_progress_and_its_result_once(
    db: AsyncDatabase[dict[str, Any]], dam: DamClient, caplog: pytest.LogCaptureFixture
) -> None:
    await seed_demo_catalog(db, products=PRODUCTS)
    keep = [p["sku"] async for p in db["products"].find({}, {"sku": 1}).limit(4)]
    await db["products"].delete_many({"sku": {"$nin": keep}})
    catalog = Catalog(db)
    progress = UploadProgress()
    caplog.set_level(logging.INFO, logger="demo.upload")

    await upload_demo_pictures(catalog, dam, CHANNELS, LOCALES, lambda: NOW, progress=progress)

    assert progress.finished
    assert progress.total > len(PLACEHOLDER_SIZES)
    assert progress.uploaded == progress.total
    assert progress.failed == 0
    said = [r.getMessage() for r in caplog.records if r.name == "demo.upload"]
    results = [line for line in said if " uploaded, " in line]
    assert len(results) == 1, said
    # One of the four products' hero is planted as deleted in the DAM: mirrored, not uploaded.
    pictures = progress.total - len(PLACEHOLDER_SIZES) - 1
    assert results[0].startswith(f"demo media: {pictures} uploaded")
    assert ", 1 mirrored but left out of the DAM (planted" in results[0]
    assert said[0].startswith(f"demo media: uploading {progress.total} pictures and videos")
    # The pictures changed every score: stored readiness was recomputed.
    assert await catalog.products.count_documents({"readiness.web.computedAt": NOW}) == 4


def test_upload_progress_says_count_rate_and_time_left(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    progress = UploadProgress(clock=lambda: now[0])
    assert progress.as_dict() == {"uploaded": 0, "failed": 0, "total": 0}
    caplog.set_level(logging.INFO, logger="demo.upload")
    progress.begin(200)
    for index in range(200):
        now[0] += 0.5
        progress.advance(failed=index == 150)
        if index == 59:
            assert progress.as_dict() == {"uploaded": 60, "failed": 0, "total": 200}
            assert progress.rate == pytest.approx(2.0)
            assert progress.remaining_s == pytest.approx(70.0)
    progress.finish()
    lines = [r.getMessage() for r in caplog.records if r.name == "demo.upload"]
    # Not a line per picture: one at each tenth (here every 10 s), none after the last.
    assert lines[0] == (
        "demo media: uploading 200 pictures and videos; until they arrive, products show "
        "placeholders"
    )
    assert lines[1] == "demo media: 20 of 200 done (10%), 2.0 per second, about 1 min 30 s left"
    assert lines[-1] == (
        "demo media: 180 of 200 done (90%), 1 failed, 2.0 per second, about 10 s left"
    )
    assert len(lines) == 10


# --------------------------------------------------------------------------------------------
# Drawing (pure)
# --------------------------------------------------------------------------------------------


def test_drawing_is_deterministic() -> None:
    arguments: dict[str, Any] = {
        "sku": "NW-RUN-000001",
        "name": "Aeris Trail Running Shoe Pro",
        "role": "front",
        "color": "red",
        "category": "running-shoes",
        "brand": "Northwind",
    }
    first = draw_product_image(**arguments)
    assert first == draw_product_image(**arguments)
    picture = open_picture(first)
    assert (picture.format, picture.size) == ("JPEG", ROLE_SIZES["front"])


def test_different_products_give_different_pictures() -> None:
    shoe = open_picture(
        draw_product_image(
            sku="NW-RUN-000001",
            name="Aeris Shoe",
            role="hero",
            color="red",
            category="running-shoes",
        )
    )
    kettle = open_picture(
        draw_product_image(
            sku="HC-KET-000002",
            name="Luma Kettle",
            role="hero",
            color="navy",
            category="kettles",
        )
    )
    difference = ImageChops.difference(shoe, kettle).convert("L")
    # Not a few stray pixels: a large share of the picture differs.
    changed = sum(difference.point(lambda v: 255 if v > 40 else 0).histogram()[255:])
    assert changed > 0.05 * shoe.width * shoe.height


def test_two_shots_of_one_role_differ() -> None:
    pictures = [
        draw_product_image(
            sku="AG-TNT-000004", name="Ridge Tent", role="detail", category="tents", shot=shot
        )
        for shot in (1, 2)
    ]
    assert pictures[0] != pictures[1]


@pytest.mark.parametrize("role", sorted(ROLE_SIZES))
def test_each_role_has_its_size_and_format(role: str) -> None:
    data = draw_product_image(sku="SN-SPK-000003", name="Echo Speaker", role=role, color="blue")
    picture = open_picture(data)
    assert picture.size == ROLE_SIZES[role]
    assert picture.format == ("PNG" if role == "swatch" else "JPEG")


def test_a_swatch_is_the_flat_variant_colour() -> None:
    picture = open_picture(draw_product_image(sku="X", name="X", role="swatch", color="navy"))
    assert picture.getcolors() is not None
    assert len(picture.getcolors() or []) == 1


def test_non_ascii_names_and_unknown_categories_are_drawn() -> None:
    data = draw_product_image(
        sku="ML-XYZ-000009",
        name="Maison Lumière Bouilloire \u2013 édition spéciale",
        role="detail",
        category="no-such-category",
        color=None,
    )
    assert open_picture(data).size == ROLE_SIZES["detail"]


def test_videos_are_not_drawn() -> None:
    with pytest.raises(ValueError, match="video"):
        draw_product_image(sku="X", name="X", role="video")


def test_the_fake_video_header_carries_size_and_duration() -> None:
    from cloudinary_emulator.media import read_mp4_header

    assert read_mp4_header(fake_mp4(1920, 1080, 12.5)) == (1920, 1080, 12.5)


@pytest.mark.parametrize("public_id", sorted(set(PLACEHOLDER_SIZES) - PLACEHOLDER_VIDEOS))
def test_placeholder_pictures(public_id: str) -> None:
    data = draw_placeholder(public_id)
    assert data == draw_placeholder(public_id)
    picture = open_picture(data)
    assert picture.size == PLACEHOLDER_SIZES[public_id]
    assert picture.mode == ("RGBA" if public_id == "placeholders/watermark" else "RGB")
