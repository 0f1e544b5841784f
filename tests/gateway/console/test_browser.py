"""The console in a real browser (Debian's headless Chromium driven by playwright-core,
tests/node/console_browser.mjs) against a live gateway: sign in, filter the readiness table,
open a product, approve and publish it as a lead and see the storefront's answer change, upload
an import with an error and see its row. Screenshots of each page land in the test's tmp dir;
with CONSOLE_README_SCREENSHOT=1 the readiness page's also replaces docs/console-readiness.png
(the README's picture).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from gateway.app import create_app
from gateway.embedded_mongo import free_port
from gateway.settings import Settings
from resolvers.assets import DamClient
from resolvers.services import Services
from tests.gateway.console.helpers import graphql, key_of, pictured_product, upload_pictures
from tests.live_server import live_server
from tests.node_tools import run_node_script

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
DOCS = Path(__file__).parents[3] / "docs"
RENAME = """mutation($sku: String!, $revision: Int!, $name: String!) { productUpdate(input: {
  sku: $sku, expectedRevision: $revision, name: [{locale: "en-US", value: $name}]}) {
  errors { code message } } }"""
SUBMIT = """mutation($sku: ID!) { productSubmitForReview(input: {skus: [$sku], channels: ["web"]}) {
  results { errors { code message } } } }"""
# The rows the browser's filter shows (the console sorts by score by default).
ROWS = """query($search: String!) { products(first: 25, filter: {search: $search,
  readiness: {channel: "web", ready: true}}, sort: {field: READINESS, channel: "web"}) {
  edges { node { sku name brand heroImage(channel: "web") {
    publicId url(slot: "thumbnail") } } } } }"""
IMPORT = (
    '{"sku": "CONSOLE-1", "brand": "Acme", "name": {"en-US": "Console One"}}\n'
    '{"sku": "CONSOLE-2", "brand": "Acme", "name": {"en-US": "Console Two"}, '
    '"attributes": {"weight": {"value": 1.2, "unit": "lb"}}}\n'
)


async def prepare(base: str, dam: DamClient, editor: str, lead: str) -> dict[str, Any]:
    """A product in review on web with its pictures uploaded, and the heroes of the rows the
    browser will filter the readiness table to."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        product = await pictured_product(client, lead, dam)
        sku = product["sku"]
        # Still found by the search for its last word (the console lists the working copy).
        name = f"{product['name']} (revised)"
        renamed = await graphql(
            client, editor, RENAME, sku=sku, revision=product["revision"], name=name
        )
        assert renamed["productUpdate"]["errors"] == []
        submitted = await graphql(client, editor, SUBMIT, sku=sku)
        assert submitted["productSubmitForReview"]["results"][0]["errors"] == []
        search = product["name"].split()[-1]
        rows = (await graphql(client, lead, ROWS, search=search))["products"]["edges"]
        assert sku in [row["node"]["sku"] for row in rows]
        heroes = [row["node"] for row in rows if row["node"]["sku"] != sku]
        await asyncio.gather(
            *(
                upload_pictures(
                    dam,
                    {**row, "name": row["name"] or row["sku"]},
                    [{"publicId": row["heroImage"]["publicId"], "role": "HERO"}],
                )
                for row in heroes
                if row["heroImage"]
            )
        )
        thumbnail = next(
            row["node"]["heroImage"]["url"] for row in rows if row["node"]["heroImage"]
        )
    parts = urlsplit(thumbnail)
    return {
        "sku": sku,
        "search": search,
        "published": product["name"],
        "renamed": name,
        "media": f"{parts.scheme}://{parts.netloc}",
    }


@pytest.fixture
def chromium() -> Path:
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: `make test` installs Debian's chromium"
    return CHROMIUM


async def test_a_lead_works_through_the_console_in_a_browser(
    settings: Settings,
    fresh_demo: Services,
    db: AsyncDatabase[dict[str, Any]],
    tmp_path: Path,
    chromium: Path,
) -> None:
    editor, lead, shop = [await key_of(db, role) for role in ("editor", "lead", "storefront")]
    # The emulator notifies the gateway's port of uploads: this server's.
    settings = settings.model_copy(update={"port": free_port()})
    with live_server(create_app(settings), port=settings.port) as live:
        services: Services = live.state["services"]
        assert services.dam is not None
        # Our own client on this event loop (the server's runs on its thread's).
        dam = DamClient(services.dam.config, timeout_s=30)
        prepared = await prepare(live.url, dam, editor, lead)
        config = {
            "base": live.url,
            "media": prepared["media"],
            "out": str(tmp_path),
            "lead": lead,
            "storefront": shop,
            "sku": prepared["sku"],
            "search": prepared["search"],
            "importName": "products.jsonl",
            "importText": IMPORT,
        }
        started = time.monotonic()
        report: dict[str, Any] = await asyncio.to_thread(
            run_node_script, "console_browser.mjs", stdin=config, timeout=120
        )
        browser_s = time.monotonic() - started
    details = json.dumps({**report, "browser_s": round(browser_s, 1)}, indent=1)[:6000]
    assert report["error"] is None, details
    assert report["blocked"] == [], details
    assert report["failed"] == [], details
    assert report["pageErrors"] == [], details
    assert report["httpErrors"] == [], details
    # CSP violations and script errors land here; not the DAM's 404s for pictures the test did
    # not upload (the readiness page before the filter, the audit's duplicates).
    assert [m for m in report["console"] if "Failed to load resource" not in m] == [], details
    assert report["brokenImages"] == [], details
    assert report["unlabelled"] == [], details
    assert report["phoneOverflow"] == 0, details
    assert report["signedIn"].strip().endswith("· lead")
    assert prepared["sku"] in report["filteredRows"]
    assert report["productPictures"] > 0
    assert f"approve: {prepared['sku']} is APPROVED on web" in report["approvedOutcome"]
    assert f"publish: {prepared['sku']} is PUBLISHED on web" in report["publishedOutcome"]
    assert report["storefrontBefore"] == prepared["published"]
    assert report["storefrontAfter"] == prepared["renamed"]
    assert report["importStatus"] == "SUCCEEDED"
    assert [row[:2] for row in report["importRows"]] == [["2", "CONSOLE-2"]], details
    for name in ("sign-in", "readiness", "product", "review", "import", "audit"):
        assert (tmp_path / f"console-{name}.png").stat().st_size > 5_000, name
    if os.environ.get("CONSOLE_README_SCREENSHOT") == "1":
        shutil.copyfile(tmp_path / "console-readiness.png", DOCS / "console-readiness.png")
