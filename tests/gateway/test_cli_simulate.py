"""``catalog-gateway simulate``: contract operations through the app in-process, over the demo
catalog; and ``--schema``, every contract operation against a proposed schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from demo.catalog import generate_demo_catalog
from gateway.app import create_app
from gateway.cli import main
from gateway.settings import Settings
from resolvers.db import Catalog
from tests.conftest import TEST_KEY_PEPPER
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
