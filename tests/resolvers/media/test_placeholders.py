"""Every placeholder the gateway delivers exists: each slot of each channel in channels.toml,
with the placeholders the demo set-up uploads, fetched through its delivery URLs the way a
browser would (issue 10, item 5)."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from PIL import Image
from pymongo import AsyncMongoClient

from cloudinary_emulator import EmulatorConfig, EmulatorServer
from demo.upload import upload_demo_media
from gateway.settings import Settings
from resolvers.assets import DamClient, DamConfig
from resolvers.channels import SlotProfile, load_channels
from resolvers.db import Catalog
from resolvers.locales import LocaleResolver
from resolvers.services import Services
from tests.fixtures.small_catalog import product
from tests.graphql_helpers import data_of, services_for
from tests.media_fixtures import CLOUD, KEY, SECRET

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SKU = "NW-SOCK-001"  # no media at all: every slot of every channel gets its placeholder
_SETTINGS = Settings()
CHANNELS = load_channels(
    _SETTINGS.channels_path,
    LocaleResolver(_SETTINGS.locales, _SETTINGS.default_locale, _SETTINGS.fallback_chains),
)
PLACES = [(c, s) for c, profile in CHANNELS.profiles.items() for s in profile.slots]
# What a browser asks for: images for <img>, anything playable for <video>.
ACCEPT = {"image": "image/avif,image/webp,image/*,*/*;q=0.8", "video": "video/*,*/*;q=0.8"}
# Crops that yield exactly the slot's size; the others never exceed it.
EXACT_CROPS = ("fill", "lfill", "pad", "lpad", "thumb", "crop", "scale")


@dataclass(frozen=True, slots=True)
class Placeholders:
    services: Services
    http: httpx.AsyncClient


@pytest.fixture(scope="module")
async def placeholders(
    mongo_client: AsyncMongoClient[dict[str, Any]],
) -> AsyncIterator[Placeholders]:
    """An emulator of this module's own holding what the demo set-up uploads for a catalog of
    one product without media: the placeholders, and nothing else."""
    name = f"test_placeholders_{uuid.uuid4().hex[:12]}"
    catalog = Catalog(mongo_client[name])
    await catalog.products.insert_one(product(SKU, 4, media=[]))
    config = EmulatorConfig(cloud_name=CLOUD, api_key=KEY, api_secret=SECRET)
    with EmulatorServer(config) as server:
        options = server.sdk_config()
        dam = DamClient(DamConfig(CLOUD, KEY, SECRET, sdk_options=options), timeout_s=30)
        report = await upload_demo_media(catalog, dam, now=NOW)
        assert (report.references, report.failed) == (0, ())
        async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
            yield Placeholders(services_for(catalog, dam=dam, clock=lambda: NOW), http)
    await mongo_client.drop_database(name)


MANIFEST = """query($sku: ID!, $channel: String!, $slot: String!) { product(sku: $sku) {
  mediaManifest(channel: $channel) { slots {
    slot resourceType url srcset width height format posterUrl isPlaceholder
    asset { publicId isPlaceholder posterUrl(slot: $slot) } } } } }"""


async def fetch(http: httpx.AsyncClient, url: str, kind: str) -> httpx.Response:
    response = await http.get(url, headers={"accept": ACCEPT[kind]})
    assert response.status_code == 200, (url, response.status_code, response.text[:200])
    return response


def check_picture(response: httpx.Response, slot: SlotProfile, dpr: float, url: str) -> None:
    picture = Image.open(io.BytesIO(response.content))
    expected = (round(slot.width * dpr), round((slot.height or 0) * dpr))
    if slot.crop in EXACT_CROPS:
        assert picture.size == expected, url
    else:
        assert picture.size[0] <= expected[0], url
        assert slot.height is None or picture.size[1] <= expected[1], url
    wanted = {"auto": "WEBP", "jpg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF"}
    assert picture.format == wanted.get(slot.format, slot.format.upper()), url


def srcset_entries(srcset: str, slot: SlotProfile) -> list[tuple[str, float]]:
    entries = [entry.rsplit(" ", 1) for entry in srcset.split(", ")]
    assert [descriptor for _, descriptor in entries] == [f"{d:g}x" for d in slot.densities]
    return [(url, density) for (url, _), density in zip(entries, slot.densities, strict=True)]


@pytest.mark.parametrize(("channel", "slot_name"), PLACES, ids=[f"{c}-{s}" for c, s in PLACES])
async def test_every_slot_placeholder_delivers(
    placeholders: Placeholders, channel: str, slot_name: str
) -> None:
    slot = CHANNELS.profiles[channel].slots[slot_name]
    data = await data_of(
        placeholders.services, MANIFEST, {"sku": SKU, "channel": channel, "slot": slot_name}
    )
    [entry] = [s for s in data["product"]["mediaManifest"]["slots"] if s["slot"] == slot_name]
    assert entry["isPlaceholder"] is True
    assert entry["asset"]["publicId"] == slot.placeholder
    # The placeholder as a MediaAsset has the manifest's poster.
    assert entry["asset"]["posterUrl"] == entry["posterUrl"]
    http = placeholders.http
    if slot.resource_type == "video":
        assert "/video/upload/" in entry["url"]
        response = await fetch(http, entry["url"], "video")
        assert response.headers["content-type"].startswith("video/"), entry["url"]
        assert entry["posterUrl"] is not None, "a video slot's placeholder needs a poster"
        poster = await fetch(http, entry["posterUrl"], "image")
        picture = Image.open(io.BytesIO(poster.content))
        assert (picture.size, picture.format) == ((slot.width, slot.height), "JPEG")
        return
    assert entry["posterUrl"] is None
    check_picture(await fetch(http, entry["url"], "image"), slot, 1, entry["url"])
    for url, density in srcset_entries(entry["srcset"], slot):
        check_picture(await fetch(http, url, "image"), slot, density, url)
