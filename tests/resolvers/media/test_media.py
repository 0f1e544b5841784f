"""Media per channel: URLs, renditions, fallbacks, placeholders, laziness, batching, faults."""

import io
import math
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

import cloudinary.utils
import httpx
import pytest
from PIL import Image

from cloudinary_emulator import EmulatorConfig, EmulatorServer
from resolvers.assets import DamClient, DamConfig
from resolvers.db import Catalog
from resolvers.services import Services
from tests.command_counter import CommandCounter
from tests.fixtures.small_catalog import load_small_catalog
from tests.graphql_helpers import data_of, execute, services_for
from tests.media_fixtures import CLOUD, KEY, SECRET, upload_image, upload_video

pytestmark = pytest.mark.indexed

NOW = datetime(2026, 6, 1, tzinfo=UTC)
PAST = (NOW - timedelta(days=30)).date().isoformat()
FUTURE = (NOW + timedelta(days=30)).date().isoformat()


def ref(sku: str, role: str, n: int, position: int, variant: str | None = None) -> dict[str, Any]:
    reference: dict[str, Any] = {
        "publicId": f"catalog/{sku}/{role}-{n}",
        "role": role,
        "position": position,
    }
    if variant:
        reference["variantSku"] = variant
    return reference


MEDIA = {
    # Everything present: hero with alt text, a front, a video without poster, a swatch.
    "NW-RUN-001": [
        ref("NW-RUN-001", "hero", 1, 0),
        ref("NW-RUN-001", "front", 1, 1),
        ref("NW-RUN-001", "video", 1, 2),
        ref("NW-RUN-001", "swatch", 1, 3, "NW-RUN-001-RED-42"),
        ref("NW-RUN-001", "front", 2, 4, "NW-RUN-001-BLUE-43"),
    ],
    # No hero: slots that prefer it fall back to the front image.
    "NW-RUN-002": [ref("NW-RUN-002", "front", 1, 0), ref("NW-RUN-002", "lifestyle", 1, 1)],
    # Hero rejected, front expired, side licensed for the web only, detail not yet valid.
    "AC-RUN-003": [
        ref("AC-RUN-003", "hero", 1, 0),
        ref("AC-RUN-003", "front", 1, 1),
        ref("AC-RUN-003", "side", 1, 2),
        ref("AC-RUN-003", "detail", 1, 3),
    ],
    # A video with a poster image of its own.
    "NW-BUNDLE-001": [ref("NW-BUNDLE-001", "hero", 1, 0), ref("NW-BUNDLE-001", "video", 1, 1)],
    # NW-SOCK-001 has no media at all; AC-HOME-001 points at an asset Cloudinary does not have.
    "NW-SOCK-001": [],
    "AC-HOME-001": [ref("AC-HOME-001", "hero", 1, 0)],
}


async def upload_media(dam: DamClient) -> None:
    alt = {"en-US": "Red trail shoe", "de-DE": "Roter Trailschuh"}
    await upload_image(dam, "catalog/NW-RUN-001/hero-1", alt=alt)
    await upload_image(dam, "catalog/NW-RUN-001/front-1")
    await upload_video(dam, "catalog/NW-RUN-001/video-1")
    await upload_image(dam, "catalog/NW-RUN-001/swatch-1", width=200, height=200)
    await upload_image(dam, "catalog/NW-RUN-001/front-2", width=1200, height=1200)
    await upload_image(dam, "catalog/NW-RUN-002/front-1")
    await upload_image(dam, "catalog/NW-RUN-002/lifestyle-1", width=2400, height=1600)
    await upload_image(
        dam,
        "catalog/AC-RUN-003/hero-1",
        context={"catalog_status": "rejected", "catalog_reject_reasons": "not sRGB | too small"},
    )
    await upload_image(dam, "catalog/AC-RUN-003/front-1", metadata={"valid_to": PAST})
    await upload_image(dam, "catalog/AC-RUN-003/side-1", metadata={"usage_channels": ["web"]})
    await upload_image(dam, "catalog/AC-RUN-003/detail-1", metadata={"valid_from": FUTURE})
    await upload_image(dam, "catalog/NW-BUNDLE-001/hero-1")
    await upload_image(dam, "catalog/NW-BUNDLE-001/poster-1", width=1280, height=720)
    await upload_video(
        dam, "catalog/NW-BUNDLE-001/video-1", context={"poster": "catalog/NW-BUNDLE-001/poster-1"}
    )


UPLOADS = 14  # the calls above


def dam_of(server: EmulatorServer) -> DamClient:
    return DamClient(DamConfig(CLOUD, KEY, SECRET, sdk_options=server.sdk_config()), timeout_s=5)


@pytest.fixture(scope="module")
async def uploaded() -> AsyncIterator[EmulatorServer]:
    """An emulator of this module's own holding the assets of ``MEDIA``, uploaded once.

    The tests on ``services`` only read these assets; the others use the session emulator
    through the ``dam`` fixture, which empties it.
    """
    with EmulatorServer(EmulatorConfig(cloud_name=CLOUD, api_key=KEY, api_secret=SECRET)) as server:
        await upload_media(dam_of(server))
        yield server


@pytest.fixture
def media_emulator(uploaded: EmulatorServer) -> Iterator[EmulatorServer]:
    """The uploaded emulator with no faults and zeroed counters; the assets stay."""
    store = uploaded.emulator.store
    assets = {(a.resource_type, a.public_id, a.version) for a in store}
    assert len(assets) == UPLOADS
    uploaded.emulator.reset(assets=False)
    yield uploaded
    uploaded.emulator.reset(assets=False)
    # A test that changed the shared assets would make the next ones pass or fail by order.
    assert {(a.resource_type, a.public_id, a.version) for a in store} == assets


@pytest.fixture
async def services(db: Any, media_emulator: EmulatorServer) -> Services:
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    for sku, media in MEDIA.items():
        await catalog.products.update_one({"sku": sku}, {"$set": {"media": media}})
    return services_for(catalog, dam=dam_of(media_emulator), clock=lambda: NOW)


async def manifest(services: Services, sku: str, channel: str, locale: str = "en-US") -> Any:
    query = """query($sku: ID!, $channel: String!, $locale: String) {
      product(sku: $sku) { mediaManifest(channel: $channel, locale: $locale) {
        channel locale complete
        slots { slot url width height format isFallback isPlaceholder reasons posterUrl
                role alt { text locale isFallback } asset { publicId isPlaceholder } } } } }"""
    data = await data_of(services, query, {"sku": sku, "channel": channel, "locale": locale})
    return data["product"]["mediaManifest"]


def by_slot(result: Any) -> dict[str, Any]:
    return {s["slot"]: s for s in result["slots"]}


def expected_url(
    emulator: EmulatorServer, public_id: str, version: int | None = None, **options: Any
) -> str:
    url, _ = cloudinary.utils.cloudinary_url(
        public_id, **emulator.sdk_config(), version=version, **options
    )
    return str(url)


async def version_of(services: Services, public_id: str) -> int:
    document = await services.catalog.assets.find_one({"publicId": public_id})
    assert document is not None
    return int(document["version"])


async def test_manifest_urls_equal_sdk_built_urls(
    services: Services, media_emulator: EmulatorServer
) -> None:
    emulator = media_emulator
    hero = "catalog/NW-RUN-001/hero-1"
    web = by_slot(await manifest(services, "NW-RUN-001", "web"))
    version = await version_of(services, hero)
    assert web["card"]["url"] == expected_url(
        emulator,
        hero,
        version,
        transformation=[
            {"width": 400, "height": 400, "crop": "fill", "gravity": "auto"},
            {"fetch_format": "auto", "quality": "auto"},
        ],
    )
    assert web["zoom"]["url"] == expected_url(
        emulator,
        hero,
        version,
        transformation=[
            {"width": 2000, "height": 2000, "crop": "limit"},
            {"fetch_format": "auto", "quality": "auto:best"},
        ],
    )
    email = by_slot(await manifest(services, "NW-RUN-001", "email"))
    assert email["thumbnail"]["url"] == expected_url(
        emulator,
        hero,
        version,
        format="jpg",
        transformation=[
            {"width": 200, "height": 200, "crop": "pad", "background": "white"},
            {"quality": 80},
        ],
    )
    marketplace = by_slot(await manifest(services, "NW-RUN-001", "marketplace"))
    assert marketplace["main"]["url"] == expected_url(
        emulator,
        hero,
        version,
        format="jpg",
        sign_url=True,
        transformation=[
            {"width": 1000, "height": 1000, "crop": "pad", "background": "white"},
            {"quality": 90},
        ],
    )
    assert "/s--" in marketplace["main"]["url"]


async def test_srcset_offers_the_slot_densities(services: Services) -> None:
    data = await data_of(
        services,
        """{ product(sku: "NW-RUN-001") {
        heroImage(channel: "mobile") { publicId
          density: srcset(slot: "thumbnail") width: srcset(slot: "thumbnail", descriptor: WIDTH)
        } } }""",
    )
    hero = data["product"]["heroImage"]
    assert hero["publicId"] == "catalog/NW-RUN-001/hero-1"
    densities = [entry.rsplit(" ", 1) for entry in hero["density"].split(", ")]
    assert [d for _, d in densities] == ["1x", "2x", "3x"]
    assert "dpr_2.0" in densities[1][0]
    assert "dpr_3.0" in densities[2][0]
    assert [e.rsplit(" ", 1)[1] for e in hero["width"].split(", ")] == ["120w", "240w", "360w"]


def fetch_image(url: str, accept: str = "image/webp,image/*") -> Image.Image:
    response = httpx.get(url, headers={"accept": accept}, timeout=10)
    assert response.status_code == 200, response.text
    return Image.open(io.BytesIO(response.content))


@pytest.mark.parametrize(
    ("channel", "slot", "size", "image_format"),
    [
        ("web", "card", (400, 400), "WEBP"),
        ("web", "thumbnail", (160, 160), "WEBP"),
        ("web", "hero", (1200, 800), "WEBP"),
        ("web", "zoom", (1600, 1600), "WEBP"),  # limit never upscales the 1600 px original
        ("email", "thumbnail", (200, 200), "JPEG"),
        ("email", "banner", (600, 300), "JPEG"),
        ("marketplace", "main", (1000, 1000), "JPEG"),
        ("mobile", "card", (320, 320), "WEBP"),
    ],
)
async def test_delivered_images_have_the_slot_size_and_format(
    services: Services, channel: str, slot: str, size: tuple[int, int], image_format: str
) -> None:
    entry = by_slot(await manifest(services, "NW-RUN-001", channel))[slot]
    assert (entry["width"], entry["height"]) == size
    image = fetch_image(entry["url"])
    assert (image.size, image.format) == (size, image_format)


async def test_srcset_2x_renders_twice_the_pixels(services: Services) -> None:
    data = await data_of(
        services,
        """{ product(sku: "NW-RUN-001") {
        heroImage(channel: "web") { srcset(slot: "card") } } }""",
    )
    two_x = data["product"]["heroImage"]["srcset"].split(", ")[1].rsplit(" ", 1)[0]
    assert fetch_image(two_x).size == (800, 800)


async def test_missing_role_falls_back_to_the_next_preferred(services: Services) -> None:
    web = by_slot(await manifest(services, "NW-RUN-002", "web"))
    card = web["card"]
    assert card["asset"]["publicId"] == "catalog/NW-RUN-002/front-1"
    assert (card["role"], card["isFallback"], card["isPlaceholder"]) == ("FRONT", True, False)
    assert card["reasons"] == ["no hero media", "fell back to front"]
    # The web hero slot prefers lifestyle, which this product has.
    assert (web["hero"]["role"], web["hero"]["isFallback"]) == ("LIFESTYLE", False)


async def test_hero_image_is_what_fills_the_hero_slot(services: Services) -> None:
    # NW-RUN-002 has a front and a lifestyle image and no hero. Web's hero slot prefers
    # lifestyle; its first hero-led slot (thumbnail) would take the front image.
    data = await data_of(
        services,
        """{ product(sku: "NW-RUN-002") {
        heroImage(channel: "web") { publicId role url(slot: "hero") srcset(slot: "hero") }
        mediaManifest(channel: "web") { slots { slot url srcset role asset { publicId } } } } }""",
    )
    hero = data["product"]["heroImage"]
    slot = by_slot(data["product"]["mediaManifest"])["hero"]
    assert (hero["publicId"], hero["role"]) == ("catalog/NW-RUN-002/lifestyle-1", "LIFESTYLE")
    assert (hero["publicId"], hero["role"], hero["url"], hero["srcset"]) == (
        slot["asset"]["publicId"],
        slot["role"],
        slot["url"],
        slot["srcset"],
    )


async def test_undeliverable_assets_are_skipped_with_reasons(services: Services) -> None:
    web = by_slot(await manifest(services, "AC-RUN-003", "web"))
    thumbnail = web["thumbnail"]
    assert thumbnail["asset"]["publicId"] == "catalog/AC-RUN-003/side-1"
    assert thumbnail["reasons"] == [
        "catalog/AC-RUN-003/hero-1: rejected at ingest (not sRGB; too small)",
        f"catalog/AC-RUN-003/front-1: expired {PAST} (promotional window over)",
        "fell back to side",
    ]
    zoom = web["zoom"]  # roles hero, front, detail: detail's window has not opened yet
    assert zoom["isPlaceholder"] is True
    assert zoom["asset"] == {"publicId": "placeholders/product", "isPlaceholder": True}
    assert zoom["reasons"][-2:] == [
        f"catalog/AC-RUN-003/detail-1: promotional window opens {FUTURE}",
        "placeholder placeholders/product",
    ]


async def test_usage_rights_are_per_channel(services: Services) -> None:
    mobile = by_slot(await manifest(services, "AC-RUN-003", "mobile"))
    thumbnail = mobile["thumbnail"]
    assert thumbnail["isPlaceholder"] is True
    assert (
        "catalog/AC-RUN-003/side-1: usage rights do not cover mobile (only web)"
        in (thumbnail["reasons"])
    )


async def test_media_list_holds_only_deliverable_assets(services: Services) -> None:
    data = await data_of(
        services,
        """{ product(sku: "AC-RUN-003") {
        web: media(channel: "web") { publicId } mobile: media(channel: "mobile") { publicId }
    } }""",
    )
    assert data["product"]["web"] == [{"publicId": "catalog/AC-RUN-003/side-1"}]
    assert data["product"]["mobile"] == []


async def test_media_filters_by_role_and_limits(services: Services) -> None:
    data = await data_of(
        services,
        """{ product(sku: "NW-RUN-001") {
        all: media(channel: "web") { publicId role }
        front: media(channel: "web", roles: [FRONT, VIDEO], first: 1) { publicId } } }""",
    )
    assert [m["role"] for m in data["product"]["all"]] == [
        "HERO",
        "FRONT",
        "VIDEO",
        "SWATCH",
        "FRONT",
    ]
    assert data["product"]["front"] == [{"publicId": "catalog/NW-RUN-001/front-1"}]


async def test_products_without_media_get_placeholders_everywhere(services: Services) -> None:
    for sku in ("NW-SOCK-001", "AC-HOME-001"):
        result = await manifest(services, sku, "web")
        assert result["complete"] is False
        assert all(slot["isPlaceholder"] for slot in result["slots"])
    missing = by_slot(await manifest(services, "AC-HOME-001", "web"))["card"]
    assert "catalog/AC-HOME-001/hero-1: not found in Cloudinary" in missing["reasons"]
    placeholder = by_slot(await manifest(services, "NW-SOCK-001", "web"))["card"]
    assert placeholder["alt"] == {"text": "Trail Sock", "locale": "en-US", "isFallback": False}


async def test_videos_get_posters_and_streaming(services: Services) -> None:
    data = await data_of(
        services,
        """{
      a: product(sku: "NW-RUN-001") { media(channel: "web", roles: [VIDEO]) {
           posterUrl(slot: "video") streamingUrl asFrame: url(slot: "card") duration } }
      b: product(sku: "NW-BUNDLE-001") { media(channel: "web", roles: [VIDEO]) {
           posterUrl(slot: "video") } } }""",
    )
    frame = data["a"]["media"][0]
    # No poster of its own: a frame of the video, as a JPEG of the slot's size.
    assert "/video/upload/" in frame["posterUrl"]
    assert "so_auto" in frame["posterUrl"]
    assert frame["posterUrl"].endswith("catalog/NW-RUN-001/video-1.jpg")
    assert fetch_image(frame["posterUrl"]).size == (1280, 720)
    assert frame["streamingUrl"].endswith(".m3u8")
    assert "sp_auto" in frame["streamingUrl"]
    assert fetch_image(frame["asFrame"]).size == (400, 400)
    assert frame["duration"] == 12.0
    poster = data["b"]["media"][0]["posterUrl"]
    assert "/image/upload/" in poster
    assert poster.endswith("catalog/NW-BUNDLE-001/poster-1.jpg")


async def test_alt_text_walks_the_locale_chain(services: Services) -> None:
    result = await execute(
        services,
        """{ product(sku: "NW-RUN-001") {
        heroImage(channel: "web") {
          at: alt(locale: "de-AT") { text locale isFallback requestedLocale }
                                    fr: alt(locale: "fr-FR") { text locale isFallback } } } }""",
    )
    assert result.data is not None
    hero = result.data["product"]["heroImage"]
    assert hero["at"] == {
        "text": "Roter Trailschuh",
        "locale": "de-DE",
        "isFallback": True,
        "requestedLocale": "de-AT",
    }
    assert hero["fr"] == {"text": "Red trail shoe", "locale": "en-US", "isFallback": True}
    assert result.extensions is not None
    assert {f["path"][-1] for f in result.extensions["localeFallbacks"]} == {"at", "fr"}


async def test_variant_swatches(services: Services) -> None:
    data = await data_of(
        services,
        """{ product(sku: "NW-RUN-001") { variants {
        sku swatch(channel: "web") { publicId isPlaceholder role }
        media(channel: "web") { publicId }
        email: swatch(channel: "email") { publicId } } } }""",
    )
    red, blue = data["product"]["variants"]
    assert red["swatch"] == {
        "publicId": "catalog/NW-RUN-001/swatch-1",
        "isPlaceholder": False,
        "role": "SWATCH",
    }
    # No swatch of its own: the variant's own front image stands in.
    assert blue["swatch"]["publicId"] == "catalog/NW-RUN-001/front-2"
    assert blue["media"][0]["publicId"] == "catalog/NW-RUN-001/front-2"
    assert red["email"] is None  # the email channel has no swatch slot


async def test_unknown_channel_and_slot_are_user_errors(services: Services) -> None:
    result = await execute(
        services, '{ product(sku: "NW-RUN-001") { media(channel: "tv") { publicId } } }'
    )
    assert result.errors is not None
    assert result.errors[0].formatted["extensions"]["channels"] == [
        "web",
        "mobile",
        "email",
        "marketplace",
    ]
    result = await execute(
        services,
        """{ product(sku: "NW-RUN-001") {
        heroImage(channel: "web") { url(slot: "billboard") } } }""",
    )
    assert result.errors is not None
    assert result.errors[0].formatted["extensions"]["code"] == "BAD_USER_INPUT"
    assert "slots: thumbnail, card, hero, zoom, swatch, video" in result.errors[0].message


async def test_channels_are_exposed(services: Services) -> None:
    data = await data_of(
        services,
        """{ channels { name signed locales
        slots { name width height crop format quality densities roles placeholder minWidth } } }""",
    )
    marketplace = {c["name"]: c for c in data["channels"]}["marketplace"]
    assert marketplace["signed"] is True
    main = marketplace["slots"][0]
    assert main == {
        "name": "main",
        "width": 1000,
        "height": 1000,
        "crop": "pad",
        "format": "jpg",
        "quality": "90",
        "densities": [1.0],
        "roles": ["HERO", "FRONT"],
        "placeholder": "placeholders/product",
        "minWidth": 1000,
    }


async def test_media_asset_is_a_federation_entity(services: Services) -> None:
    # Entities resolve from the mirror only; a product query mirrors what it delivers.
    await data_of(services, '{ product(sku: "NW-RUN-002") { media(channel: "web") { publicId } } }')
    data = await data_of(
        services,
        """query($r: [_Any!]!) { _entities(representations: $r) {
        ... on MediaAsset { publicId width url(slot: "card", channel: "web") } } }""",
        {
            "r": [
                {"__typename": "MediaAsset", "publicId": "catalog/NW-RUN-002/front-1"},
                {"__typename": "MediaAsset", "publicId": "catalog/nope/x"},
            ]
        },
    )
    first, missing = data["_entities"]
    assert (first["publicId"], first["width"]) == ("catalog/NW-RUN-002/front-1", 1600)
    assert "c_fill,g_auto,h_400,w_400" in first["url"]
    assert missing is None


PAGE = """{ products(first: 10) { edges { node { sku
  media(channel: "web") { url(slot: "card") alt { text } }
  heroImage(channel: "mobile") { url(slot: "thumbnail") }
  mediaManifest(channel: "email") { slots { url } }
  variants { swatch(channel: "web") { url(slot: "swatch") } } } } } }"""


async def test_media_is_lazy(services: Services, db: Any, command_counter: CommandCounter) -> None:
    built = services.dam.stats.urls_built
    with command_counter.record(db.name) as recorded:
        await data_of(services, "{ products(first: 10) { edges { node { sku name } } } }")
    assert recorded.names() == {"find:products": 1}
    assert services.dam.stats.urls_built == built


async def test_assets_of_a_page_load_in_one_query(
    services: Services, db: Any, command_counter: CommandCounter, media_emulator: EmulatorServer
) -> None:
    emulator = media_emulator
    await data_of(services, PAGE)  # first read mirrors what the uploads did not
    await services.background.drain()  # its rescoring is not part of the next request
    admin_calls = emulator.emulator.stats.admin_calls
    with command_counter.record(db.name) as recorded:
        await data_of(services, PAGE)
    assert recorded.names()["find:assets"] == 1
    assert emulator.emulator.stats.admin_calls == admin_calls  # steady state: no Admin API


@pytest.mark.parametrize("count", [1, 100, 250])
async def test_unmirrored_assets_cost_ceil_n_over_100_admin_calls(
    db: Any, dam: DamClient, emulator: EmulatorServer, count: int
) -> None:
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    references = [ref("NW-SOCK-001", "front", n, n) for n in range(count)]
    await catalog.products.update_one({"sku": "NW-SOCK-001"}, {"$set": {"media": references}})
    for reference in references:  # straight into the emulator's store: no API call, no mirror
        emulator.emulator.seed_image(reference["publicId"], width=800, height=800, format="jpg")
    services = services_for(catalog, dam=dam)
    query = '{ product(sku: "NW-SOCK-001") { media(channel: "web") { publicId } } }'
    before = emulator.emulator.stats.admin_calls
    data = await data_of(services, query)
    assert len(data["product"]["media"]) == count
    assert emulator.emulator.stats.admin_calls - before == math.ceil(count / 100)
    again = emulator.emulator.stats.admin_calls
    await data_of(services, query)
    assert emulator.emulator.stats.admin_calls == again


async def test_positions_that_are_not_numbers_come_last_instead_of_failing(
    db: Any, dam: DamClient, emulator: EmulatorServer
) -> None:
    """The PIM store is shared: a reference written around the gateway may hold a position
    that is not a number. Every media field and readiness still answer, numbered first."""
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    references = [
        {**ref("NW-SOCK-001", "front", n, 0), "position": position}
        for n, position in enumerate(["2", 1, None, 0])
    ]
    await catalog.products.update_one({"sku": "NW-SOCK-001"}, {"$set": {"media": references}})
    for reference in references:
        emulator.emulator.seed_image(reference["publicId"], width=2400, height=2400, format="jpg")
    services = services_for(catalog, dam=dam)
    query = """{ product(sku: "NW-SOCK-001") {
      media(channel: "web") { publicId } heroImage(channel: "web") { publicId }
      mediaManifest(channel: "web") { complete } readiness(channel: "web") { score } } }"""
    product = (await data_of(services, query))["product"]
    front = "catalog/NW-SOCK-001/front-"
    assert [m["publicId"] for m in product["media"]] == [front + n for n in "3102"]
    assert product["heroImage"]["publicId"] == front + "3"


async def test_assets_cloudinary_lacks_are_remembered_until_the_ttl(
    db: Any, dam: DamClient, emulator: EmulatorServer
) -> None:
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    clock = {"now": NOW}
    services = services_for(catalog, dam=dam, clock=lambda: clock["now"])
    query = '{ product(sku: "AC-HOME-001") { heroImage(channel: "web") { isPlaceholder } } }'
    stats = emulator.emulator.stats
    first = stats.admin_calls
    assert (await data_of(services, query))["product"]["heroImage"]["isPlaceholder"] is True
    assert stats.admin_calls == first + 1
    await data_of(services, query)
    assert stats.admin_calls == first + 1
    clock["now"] = NOW + timedelta(hours=2)
    await data_of(services, query)
    assert stats.admin_calls == first + 2


class Faults(TypedDict, total=False):
    error_rate: float
    rate_limit_rate: float


@pytest.mark.parametrize(
    "faults",
    [Faults(error_rate=1.0), Faults(rate_limit_rate=1.0)],
    ids=["5xx", "420"],
)
async def test_cloudinary_trouble_never_fails_a_product_query(
    db: Any, dam: DamClient, emulator: EmulatorServer, faults: Faults
) -> None:
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    await catalog.products.update_one(
        {"sku": "NW-RUN-002"}, {"$set": {"media": MEDIA["NW-RUN-002"]}}
    )
    await upload_image(dam, "catalog/NW-RUN-002/front-1")  # in Cloudinary, not yet mirrored
    emulator.emulator.faults.configure(**faults)
    clock = {"now": 1000.0}
    breaking = DamClient(dam.config, timeout_s=5, cooldown_s=30, clock=lambda: clock["now"])
    services = services_for(catalog, dam=breaking)
    query = """{ product(sku: "NW-RUN-002") { sku
        heroImage(channel: "web") { isPlaceholder publicId } } }"""
    result = await execute(services, query)
    assert result.errors is None
    assert result.data == {
        "product": {
            "sku": "NW-RUN-002",
            "heroImage": {"isPlaceholder": True, "publicId": "placeholders/banner"},
        }
    }
    assert result.extensions is not None
    [warning] = result.extensions["warnings"]
    assert warning["code"] == "DAM_UNAVAILABLE"
    # The circuit is open: the next request does not wait for Cloudinary again.
    calls = emulator.emulator.stats.admin_calls
    again = await execute(services, query)
    assert again.extensions is not None
    assert again.extensions["warnings"][0]["code"] == "DAM_UNAVAILABLE"
    assert emulator.emulator.stats.admin_calls == calls
    # Once Cloudinary answers again and the cool-down is over, the asset is found and mirrored.
    emulator.emulator.faults.reset()
    clock["now"] += 31
    healed = await data_of(services, query)
    assert healed["product"]["heroImage"]["publicId"] == "catalog/NW-RUN-002/front-1"


async def test_slow_cloudinary_times_out_into_placeholders(
    db: Any, emulator: EmulatorServer, dam: DamClient
) -> None:
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    await catalog.products.update_one(
        {"sku": "NW-RUN-002"}, {"$set": {"media": MEDIA["NW-RUN-002"]}}
    )
    emulator.emulator.faults.configure(latency_ms=1500)
    impatient = DamClient(dam.config, timeout_s=0.3)
    services = services_for(catalog, dam=impatient)
    result = await execute(
        services, '{ product(sku: "NW-RUN-002") { heroImage(channel: "web") { isPlaceholder } } }'
    )
    assert result.data == {"product": {"heroImage": {"isPlaceholder": True}}}
    assert result.extensions is not None
    assert result.extensions["warnings"][0]["code"] == "DAM_UNAVAILABLE"


async def test_mirrored_assets_survive_cloudinary_outages(
    services: Services, media_emulator: EmulatorServer
) -> None:
    emulator = media_emulator
    await data_of(services, PAGE)
    emulator.emulator.faults.configure(error_rate=1.0)
    data = await data_of(
        services, '{ product(sku: "NW-RUN-001") { heroImage(channel: "web") { publicId } } }'
    )
    assert data["product"]["heroImage"]["publicId"] == "catalog/NW-RUN-001/hero-1"


def test_a_window_ending_on_a_day_includes_that_day() -> None:
    from resolvers.assets import asset_from_resource
    from resolvers.media import delivery_problem

    resource = {
        "public_id": "p/x",
        "metadata": {"valid_from": "2025-06-01", "valid_to": "2025-06-30"},
    }
    asset = asset_from_resource(resource, NOW, "test")
    assert delivery_problem(asset, "web", datetime(2025, 6, 30, 23, 59, tzinfo=UTC)) is None
    assert delivery_problem(asset, "web", datetime(2025, 7, 1, tzinfo=UTC)) == (
        "expired 2025-06-30 (promotional window over)"
    )
    assert delivery_problem(asset, "web", datetime(2025, 5, 31, 23, 0, tzinfo=UTC)) == (
        "promotional window opens 2025-06-01"
    )


async def test_assets_mirrored_on_demand_rescore_their_products(db: Any, dam: DamClient) -> None:
    from resolvers.readiness import materialize

    catalog = Catalog(db)
    await load_small_catalog(catalog)
    await catalog.products.update_one(
        {"sku": "NW-RUN-002"}, {"$set": {"media": [ref("NW-RUN-002", "hero", 1, 0)]}}
    )
    await upload_image(dam, "catalog/NW-RUN-002/hero-1")  # in Cloudinary, not mirrored yet
    services = services_for(catalog, dam=dam, clock=lambda: NOW)
    await materialize(catalog, services.channels, services.locales, NOW)
    stored = await catalog.products.find_one({"sku": "NW-RUN-002"})
    assert stored is not None
    assert "hero_image" in stored["readiness"]["web"]["failed"]
    live = await data_of(
        services,
        """{ product(sku: "NW-RUN-002") {
        readiness(channel: "web") { score checks { id passed } } } }""",
    )
    await services.background.drain()
    stored = await catalog.products.find_one({"sku": "NW-RUN-002"})
    assert stored is not None
    assert "hero_image" not in stored["readiness"]["web"]["failed"]
    assert stored["readiness"]["web"]["score"] == live["product"]["readiness"]["score"]
