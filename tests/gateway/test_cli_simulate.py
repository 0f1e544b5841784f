"""``catalog-gateway simulate``: contract operations through the app in-process, over the demo
catalog; and ``--schema``, every contract operation against a proposed schema."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from cloudinary_emulator import EmulatorConfig, EmulatorServer
from demo.catalog import generate_demo_catalog
from demo.seeding import seed_demo_catalog
from demo.upload import upload_demo_media
from gateway.app import create_app
from gateway.cli import main
from gateway.dam_setup import EMULATOR_CLOUD, EMULATOR_KEY, shared_emulator_dam
from gateway.settings import Settings
from resolvers.db import Catalog, ensure_indexes
from resolvers.readiness import materialize
from resolvers.workflow.publications import backfill
from tests.conftest import TEST_KEY_PEPPER
from tests.demo_fixtures import CHANNELS, LOCALES
from tests.live_server import live_server

ROOT = Path(__file__).resolve().parents[2]
# The shipped mobile listing and marketplace item, without image samples: the test's demo
# catalog has its pictures in the mirror only, not in the emulator the app starts.
CONTRACTS = """
[channels.mobile.operations.listing]
operation = "CategoryListing"
for_each = "category"
variables = { first = 20 }
locales = ["de-DE"]
products = "products.edges[*].node"
non_null = ["name", "heroImage.url"]
no_fallback = ["de-DE"]
max_bytes = 20_000

[channels.marketplace.operations.item]
operation = "MarketplaceItem"
for_each = "sku"
locales = ["en-US"]
products = "product"
non_null = ["name", "description", "brand"]
non_empty = ["media"]
max_bytes = 1_500
"""


@pytest.fixture
def contracts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mongodb_uri: str, demo_catalog: Catalog
) -> str:
    """The app of each command serves the module's demo catalog."""
    for name in ("CATALOG_DEMO", "CLOUDINARY_URL", "CATALOG_CONTRACTS", "CATALOG_CHANNELS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MONGODB_URI", mongodb_uri)
    monkeypatch.setenv("CATALOG_DB", demo_catalog.db.name)
    monkeypatch.setenv("CATALOG_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "contracts.toml"
    path.write_text(CONTRACTS)
    return str(path)


def simulate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["simulate", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_mobile_listings_name_the_products_whose_german_falls_back(
    contracts: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = simulate(capsys, "--contracts", contracts, "--channel", "mobile", "--json")
    assert status == 1
    report = json.loads(out)
    violations = {(v["check"], v["sku"]) for v in report["violations"]}
    # The demo's planted missing German translations, in every listing that shows them.
    assert violations == {("no_fallback", "HC-BMT-000125"), ("no_fallback", "NW-TEE-000037")}
    first = report["violations"][0]
    assert first["operation"] == "listing"
    assert re.fullmatch(r"products\.edges\[\d+\]\.node\.name", first["path"])
    assert first["variables"]["locale"] == "de-DE"
    assert first["message"] == "de-DE fell back to en-US"
    [mobile] = report["channels"]
    assert mobile["channel"] == "mobile"
    assert mobile["runs"] == mobile["passed"] + len(
        {v["variables"]["category"] for v in report["violations"]}
    )
    assert 0 < mobile["bytes_p50"] <= mobile["bytes_p95"] <= mobile["bytes_max"] <= 20_000


def test_given_skus_run_the_product_operations_for_those_only(
    contracts: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = simulate(
        capsys, "--contracts", contracts, "--sku", "NW-HOD-000163", "--sku", "AG-BLT-000122"
    )
    assert status == 1
    lines = out.splitlines()
    # The planted product without a hero image: a marketplace refuses it.
    assert lines[0] == (
        "marketplace/item NW-HOD-000163 [non_empty] product.media: is [] (locale=en-US)"
    )
    assert lines[2].split() == [
        "channel",
        "runs",
        "pass",
        "violations",
        "bytes",
        "p50/p95/max",
        "ms",
        "p50/p95/max",
    ]
    assert lines[3].split()[:4] == ["marketplace", "2", "50.0%", "1"]
    assert lines[-1] == "1 violation(s) in 2 runs"
    status, out, _ = simulate(capsys, "--contracts", contracts, "--sku", "AG-BLT-000122")
    assert (status, out.splitlines()[-1]) == (0, "all 1 runs hold their contracts")


def test_a_pasted_spec_sheet_breaks_the_marketplace_items_payload_budget(
    contracts: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The planted supplier spec sheet: a valid description, too heavy for the marketplace.
    [sheet] = generate_demo_catalog(locales=Settings().locales).defects.spec_sheet_descriptions
    status, out, _ = simulate(capsys, "--contracts", contracts, "--sku", sheet.sku, "--json")
    assert status == 1
    [violation] = json.loads(out)["violations"]
    assert (violation["operation"], violation["check"], violation["sku"]) == (
        "item",
        "max_bytes",
        sheet.sku,
    )
    assert re.fullmatch(r"[\d,]+ bytes \(gzip\) > max_bytes 1,500", violation["message"])


def test_against_a_running_gateway(contracts: str, capsys: pytest.CaptureFixture[str]) -> None:
    with live_server(create_app(Settings(key_pepper=TEST_KEY_PEPPER))) as live:
        status, out, _ = simulate(
            capsys, "--contracts", contracts, "--url", live.url, "--sku", "NW-HOD-000163"
        )
    assert status == 1
    assert out.splitlines()[0] == (
        "marketplace/item NW-HOD-000163 [non_empty] product.media: is [] (locale=en-US)"
    )


def test_a_schema_change_that_breaks_a_contract_operation_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    current = (ROOT / "schema.graphql").read_text()
    status, out, _ = simulate(capsys, "--schema", str(ROOT / "schema.graphql"))
    assert (status, out) == (0, "6 contract operations of 4 channels are valid\n")
    # Renaming Product.heroImage breaks every operation that selects it.
    proposed = tmp_path / "schema.graphql"
    proposed.write_text(current.replace("  heroImage(\n", "  heroPicture(\n", 1))
    status, out, err = simulate(capsys, "--schema", str(proposed))
    assert status == 1
    assert out.splitlines() == [
        f"{proposed}: {where}: Cannot query field 'heroImage' on type 'Product'."
        for where in (
            "web/category-page (CategoryListing)",
            "mobile/listing (CategoryListing)",
            "email/newsletter-item (EmailProduct)",
        )
    ]
    assert err == "3 problem(s): the schema breaks contract operations\n"


EMULATOR_SECRET = "simulate-emulator-secret-0123456789"


async def _three_products_with_pictures(
    uri: str, name: str, settings: Settings
) -> tuple[list[str], str]:
    """Three published demo products, their pictures uploaded as the demo uploads them (one
    hero planted as deleted in the DAM): their SKUs, and the one whose hero the DAM lacks."""
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri)
    try:
        catalog = Catalog(client[name])
        await ensure_indexes(catalog, LOCALES.locales, CHANNELS.names())
        await seed_demo_catalog(catalog.db, products=50)
        keep = [p["sku"] async for p in catalog.products.find({"status": "published"}).limit(3)]
        await catalog.products.delete_many({"sku": {"$nin": keep}})
        now = datetime(2026, 6, 1, tzinfo=UTC)
        report = await upload_demo_media(catalog, shared_emulator_dam(settings), now=now)
        await materialize(catalog, CHANNELS, LOCALES, now)
        await backfill(catalog, CHANNELS, LOCALES, now)
        [public_id] = report.deleted_in_dam
        return keep, public_id.split("/")[1]  # catalog/{sku}/hero-1
    finally:
        await client.close()


def test_every_marketplace_main_image_is_fetched_and_the_one_deleted_in_the_dam_is_named(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mongodb_uri: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = EmulatorConfig(
        cloud_name=EMULATOR_CLOUD, api_key=EMULATOR_KEY, api_secret=EMULATOR_SECRET
    )
    name = f"test_simulate_dam_{uuid.uuid4().hex[:12]}"
    with EmulatorServer(config) as emulator:
        for variable in ("CATALOG_DEMO", "CLOUDINARY_URL", "CATALOG_CONTRACTS", "CATALOG_CHANNELS"):
            monkeypatch.delenv(variable, raising=False)
        environment = {
            "MONGODB_URI": mongodb_uri,
            "CATALOG_DB": name,
            "CATALOG_DATA_DIR": str(tmp_path / "data"),
            "CATALOG_EMULATOR_URL": emulator.url,
            "CATALOG_EMULATOR_SECRET": EMULATOR_SECRET,
        }
        for variable, value in environment.items():
            monkeypatch.setenv(variable, value)
        try:
            skus, deleted = asyncio.run(
                _three_products_with_pictures(mongodb_uri, name, Settings())
            )
            # The shipped contracts: the marketplace item fetches every main image.
            given = [option for sku in skus for option in ("--sku", sku)]
            status, out, _ = simulate(capsys, "--channel", "marketplace", "--json", *given)
        finally:
            asyncio.run(_drop(mongodb_uri, name))
    assert status == 1
    report = json.loads(out)
    assert report["runs"] == 3
    assert [(v["operation"], v["check"], v["sku"]) for v in report["violations"]] == [
        ("item", "image", deleted)
    ]
    [violation] = report["violations"]
    assert violation["path"] == "product.media[0].url"
    assert "slot main: not delivered: HTTP 404" in violation["message"]


async def _drop(uri: str, name: str) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri)
    try:
        await client.drop_database(name)
    finally:
        await client.close()
