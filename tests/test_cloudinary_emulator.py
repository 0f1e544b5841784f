"""The Cloudinary emulator, driven through the official SDK exactly as the gateway drives it."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from typing import Any

import cloudinary
import cloudinary.api
import cloudinary.uploader
import cloudinary.utils
import httpx
import pytest
from cloudinary.exceptions import (
    AuthorizationRequired,
    BadRequest,
    GeneralError,
    NotFound,
    RateLimited,
)
from starlette.applications import Starlette
from starlette.routing import Mount

from gateway.cloudinary_emulator import (
    EmulatorConfig,
    EmulatorServer,
    create_emulator_app,
    emulator_of_app,
    sdk_config,
)
from gateway.cloudinary_emulator.phash import hamming_distance
from tests.emulator_fixtures import (
    NotificationReceiver,
    fake_mp4,
    noise_png,
    notification_receiver,
    open_image,
    png_bytes,
    solid_png,
)

CLOUD = "catalog-test"
API_KEY = "614335564976464"
API_SECRET = "emulator-test-secret"
NAMED = {
    "card": "c_fill,g_auto,w_300,h_200",
    "thumb_sq": "c_thumb,g_auto,w_80,h_80/e_grayscale",
}
SOURCE_SIZE = (400, 300)


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(
        cloud_name=CLOUD,
        api_key=API_KEY,
        api_secret=API_SECRET,
        named_transformations=NAMED,
        fault_seed=7,
    )
    with EmulatorServer(config) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_emulator(server: EmulatorServer) -> None:
    server.emulator.reset()


@pytest.fixture
def sdk(server: EmulatorServer) -> dict[str, Any]:
    return server.sdk_config()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    # trust_env off: a proxy from the environment must not intercept 127.0.0.1.
    with httpx.Client(timeout=10, trust_env=False) as client:
        yield client


@pytest.fixture(scope="module")
def receiver() -> Iterator[NotificationReceiver]:
    with notification_receiver() as running:
        yield running


@pytest.fixture
def global_api_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's verify_* helpers read the secret only from the global config."""
    monkeypatch.setattr(cloudinary.config(), "api_secret", API_SECRET, raising=False)


def upload_png(sdk: dict[str, Any], public_id: str, **options: Any) -> dict[str, Any]:
    data = png_bytes(*SOURCE_SIZE, seed=public_id)
    result: dict[str, Any] = cloudinary.uploader.upload(data, public_id=public_id, **sdk, **options)
    return result


def url_for(sdk: dict[str, Any], public_id: str, **options: Any) -> str:
    url, _ = cloudinary.utils.cloudinary_url(public_id, **sdk, **options)
    assert isinstance(url, str)
    return url


def half_up(value: float) -> int:
    return math.floor(value + 0.5)


def cloudinary_fit(width: int, height: int, box_w: float, box_h: float) -> tuple[int, int]:
    """Cloudinary's c_fit size: scale by the tighter ratio, round half up."""
    scale = min(box_w / width, box_h / height)
    return half_up(width * scale), half_up(height * scale)


# --------------------------------------------------------------------------- SDK wiring


def test_sdk_config_points_api_and_delivery_at_the_emulator(server: EmulatorServer) -> None:
    options = sdk_config(server.url, CLOUD, API_KEY, API_SECRET)
    assert options["upload_prefix"] == server.url
    url = url_for(options, "shoes/red", width=10, crop="scale", format="jpg")
    assert url == f"{server.url}/{CLOUD}/image/upload/c_scale,w_10/v1/shoes/red.jpg"
    secure = sdk_config("https://media.example.test/emu", CLOUD, API_KEY, API_SECRET)
    assert url_for(secure, "x", format="png") == (
        f"https://media.example.test/emu/{CLOUD}/image/upload/x.png"
    )


# --------------------------------------------------------------------------- Upload API


def test_upload_round_trips_tags_context_metadata_and_phash(
    sdk: dict[str, Any], http: httpx.Client, global_api_secret: None
) -> None:
    context = {"alt_en-US": "Red shoe | side = left", "alt_de-DE": "Roter Schuh"}
    metadata = {"sku": "SKU-1", "colors": ["red", "blue"]}
    result = upload_png(
        sdk,
        "products/shoe-1",
        tags=["shoes", "red"],
        context=context,
        metadata=metadata,
        phash=True,
    )

    assert result["public_id"] == "products/shoe-1"
    assert (result["width"], result["height"]) == SOURCE_SIZE
    assert result["format"] == "png"
    assert result["resource_type"] == "image"
    assert result["type"] == "upload"
    assert result["tags"] == ["shoes", "red"]
    assert result["context"] == {"custom": context}
    assert result["metadata"] == metadata
    assert len(result["phash"]) == 16
    assert int(result["phash"], 16) >= 0
    assert result["bytes"] == len(png_bytes(*SOURCE_SIZE, seed="products/shoe-1"))
    assert result["created_at"].endswith("Z")
    assert isinstance(result["version"], int)
    assert cloudinary.utils.verify_api_response_signature(
        result["public_id"], result["version"], result["signature"]
    )
    # The URL in the response serves the original bytes.
    original = http.get(result["secure_url"])
    assert original.status_code == 200
    assert original.content == png_bytes(*SOURCE_SIZE, seed="products/shoe-1")

    details = cloudinary.api.resource("products/shoe-1", phash=True, **sdk)
    assert details["tags"] == ["shoes", "red"]
    assert details["context"] == {"custom": context}
    assert details["metadata"] == metadata
    assert details["phash"] == result["phash"]
    assert "phash" not in cloudinary.api.resource("products/shoe-1", **sdk)


def test_phash_is_perceptual(sdk: dict[str, Any]) -> None:
    original = upload_png(sdk, "products/shoe-1", phash=True)
    same_picture_bigger = cloudinary.uploader.upload(
        png_bytes(800, 600, seed="products/shoe-1"), public_id="big", phash=True, **sdk
    )
    unrelated = cloudinary.uploader.upload(noise_png(64, 64), public_id="noise", phash=True, **sdk)
    assert hamming_distance(original["phash"], same_picture_bigger["phash"]) <= 6
    assert hamming_distance(original["phash"], unrelated["phash"]) >= 16


def test_overwrite_false_keeps_the_existing_asset(sdk: dict[str, Any]) -> None:
    first = upload_png(sdk, "keep-me", tags=["v1"])
    second = upload_png(sdk, "keep-me", tags=["v2"], overwrite=False)
    assert second["existing"] is True
    assert second["version"] == first["version"]
    assert second["tags"] == ["v1"]
    third = upload_png(sdk, "keep-me", tags=["v3"])
    assert third["version"] > first["version"]
    assert third["asset_id"] == first["asset_id"]
    assert third["tags"] == ["v3"]


def test_wrong_secret_is_rejected_with_401(sdk: dict[str, Any]) -> None:
    with pytest.raises(AuthorizationRequired, match="Invalid Signature"):
        upload_png({**sdk, "api_secret": "not-the-secret"}, "nope")
    with pytest.raises(AuthorizationRequired, match="Unknown API key"):
        upload_png({**sdk, "api_key": "999"}, "nope")


def test_stale_timestamp_is_rejected_with_401(sdk: dict[str, Any]) -> None:
    stale = {"timestamp": str(int(time.time()) - 3700), "public_id": "stale"}
    with pytest.raises(AuthorizationRequired, match="Stale request"):
        cloudinary.uploader.call_api("upload", stale, file=png_bytes(10, 10), **sdk)
    fresh = {"timestamp": str(int(time.time()) - 60), "public_id": "fresh"}
    assert (
        cloudinary.uploader.call_api("upload", fresh, file=png_bytes(10, 10), **sdk)["public_id"]
        == "fresh"
    )


def test_auto_resource_type_stores_raw_files(sdk: dict[str, Any], http: httpx.Client) -> None:
    result = cloudinary.uploader.upload(
        ("notes.txt", b"hello, catalog"), resource_type="auto", **sdk
    )
    assert result["resource_type"] == "raw"
    assert result["public_id"].endswith(".txt")
    assert "format" not in result
    served = http.get(result["url"])
    assert served.content == b"hello, catalog"
    assert served.headers["content-type"].startswith("text/plain")
    image = cloudinary.uploader.upload(png_bytes(20, 10), resource_type="auto", **sdk)
    assert (image["resource_type"], image["width"], image["height"]) == ("image", 20, 10)


def test_undecodable_image_is_a_bad_request(sdk: dict[str, Any]) -> None:
    with pytest.raises(BadRequest, match="Invalid image file"):
        cloudinary.uploader.upload(b"definitely not a picture", public_id="junk", **sdk)


def test_upload_tag_and_context_commands(sdk: dict[str, Any]) -> None:
    upload_png(sdk, "a", tags=["keep"])
    upload_png(sdk, "b")
    tagged = cloudinary.uploader.add_tag("sale", ["a", "b", "missing"], **sdk)
    assert tagged["public_ids"] == ["a", "b"]
    cloudinary.uploader.remove_tag("keep", ["a"], **sdk)
    cloudinary.uploader.add_context({"alt_en-US": "A"}, ["a"], **sdk)
    details = cloudinary.api.resource("a", **sdk)
    assert details["tags"] == ["sale"]
    assert details["context"] == {"custom": {"alt_en-US": "A"}}
    assert cloudinary.uploader.destroy("b", **sdk)["result"] == "ok"
    assert cloudinary.uploader.destroy("b", **sdk)["result"] == "not found"


# --------------------------------------------------------------------------- Admin API


def test_admin_api_requires_the_right_credentials(sdk: dict[str, Any]) -> None:
    upload_png(sdk, "secret-shoe")
    with pytest.raises(AuthorizationRequired):
        cloudinary.api.resource("secret-shoe", **{**sdk, "api_secret": "wrong"})
    with pytest.raises(AuthorizationRequired, match="Unknown API key"):
        cloudinary.api.resource("secret-shoe", **{**sdk, "api_key": "000"})


def test_resources_by_ids_returns_known_ids_with_rate_limit_headers(
    sdk: dict[str, Any],
) -> None:
    for name in ("id-1", "id-2", "id-3"):
        upload_png(sdk, name, tags=[name], context={"alt": name})

    result = cloudinary.api.resources_by_ids(
        ["id-1", "id-3", "unknown"], tags=True, context=True, **sdk
    )
    assert [r["public_id"] for r in result["resources"]] == ["id-1", "id-3"]
    assert result["resources"][0]["tags"] == ["id-1"]
    assert result["resources"][0]["context"] == {"custom": {"alt": "id-1"}}
    assert result.rate_limit_allowed == 500
    assert result.rate_limit_remaining == 499
    assert result.rate_limit_reset_at is not None

    plain = cloudinary.api.resources_by_ids(["id-2"], **sdk)
    assert "tags" not in plain["resources"][0]
    assert plain.rate_limit_remaining == 498


def test_resources_by_ids_rejects_more_than_100(sdk: dict[str, Any]) -> None:
    with pytest.raises(BadRequest, match="at most 100"):
        cloudinary.api.resources_by_ids([f"id-{n}" for n in range(101)], **sdk)
    assert cloudinary.api.resources_by_ids([f"id-{n}" for n in range(100)], **sdk) == {
        "resources": []
    }


def test_resources_by_tag_paginates_newest_first(sdk: dict[str, Any]) -> None:
    names = [f"paged-{n}" for n in range(5)]
    for name in names:
        upload_png(sdk, name, tags=["paged"])
    upload_png(sdk, "untagged")

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        options = {"max_results": 2, **({"next_cursor": cursor} if cursor else {})}
        page = cloudinary.api.resources_by_tag("paged", **sdk, **options)
        pages += 1
        seen.extend(r["public_id"] for r in page["resources"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert pages == 3
    assert seen == list(reversed(names))

    ascending = cloudinary.api.resources_by_tag("paged", direction="asc", max_results=10, **sdk)
    assert [r["public_id"] for r in ascending["resources"]] == names
    assert "next_cursor" not in ascending


def test_update_replaces_tags_and_context_and_merges_metadata(sdk: dict[str, Any]) -> None:
    upload_png(sdk, "editable", tags=["old"], context={"a": "1"}, metadata={"sku": "S1"})
    updated = cloudinary.api.update(
        "editable",
        tags=["new", "shiny"],
        context={"alt_en-US": "New"},
        metadata={"color": "red"},
        **sdk,
    )
    assert updated["tags"] == ["new", "shiny"]
    assert updated["context"] == {"custom": {"alt_en-US": "New"}}
    assert updated["metadata"] == {"sku": "S1", "color": "red"}
    assert cloudinary.api.resource("editable", **sdk)["tags"] == ["new", "shiny"]
    with pytest.raises(NotFound):
        cloudinary.api.update("no-such-asset", tags=["x"], **sdk)


def test_delete_resources(sdk: dict[str, Any], http: httpx.Client) -> None:
    upload_png(sdk, "doomed")
    url = url_for(sdk, "doomed", format="png")
    assert http.get(url).status_code == 200
    result = cloudinary.api.delete_resources(["doomed", "never-was"], **sdk)
    assert result["deleted"] == {"doomed": "deleted", "never-was": "not_found"}
    with pytest.raises(NotFound):
        cloudinary.api.resource("doomed", **sdk)
    missing = http.get(url)
    assert missing.status_code == 404
    assert "Resource not found" in missing.headers["x-cld-error"]


def test_admin_call_counter_is_exact(server: EmulatorServer, sdk: dict[str, Any]) -> None:
    upload_png(sdk, "counted", tags=["c"])
    http_url = url_for(sdk, "counted", format="png")
    httpx.get(http_url, trust_env=False)
    cloudinary.api.resource("counted", **sdk)
    cloudinary.api.resources_by_ids(["counted"], **sdk)
    cloudinary.api.resources_by_ids(["counted"], **sdk)
    cloudinary.api.resources_by_tag("c", **sdk)
    cloudinary.api.update("counted", tags=["d"], **sdk)
    with pytest.raises(AuthorizationRequired):
        cloudinary.api.resource("counted", **{**sdk, "api_secret": "bad"})
    cloudinary.api.delete_resources(["counted"], **sdk)

    stats = server.emulator.stats
    assert stats.admin_calls == 7
    assert stats.admin_calls_by_operation == {
        "resource": 2,
        "resources_by_ids": 2,
        "resources_by_tag": 1,
        "update": 1,
        "delete_resources": 1,
    }
    assert stats.upload_calls == 1
    assert stats.delivery_requests == 1
    over_http = httpx.get(f"{server.url}/_emulator/stats", trust_env=False).json()
    assert over_http["admin_calls"] == 7
    assert over_http["assets"] == 0


# --------------------------------------------------------------------------- delivery


GEOMETRY_CASES = [
    ({"crop": "fill", "width": 200, "height": 200}, (200, 200)),
    ({"crop": "fill", "width": 150, "height": 100, "dpr": 2.0}, (300, 200)),
    ({"crop": "fill", "gravity": "auto", "width": 120, "height": 300}, (120, 300)),
    ({"crop": "fit", "width": 333, "height": 333}, cloudinary_fit(400, 300, 333, 333)),
    ({"crop": "fit", "width": 500, "height": 500}, cloudinary_fit(400, 300, 500, 500)),
    ({"crop": "fit", "width": 100, "height": 100, "dpr": 1.5}, cloudinary_fit(400, 300, 150, 150)),
    ({"crop": "limit", "width": 500, "height": 500}, (400, 300)),
    ({"crop": "limit", "width": 250, "height": 250}, cloudinary_fit(400, 300, 250, 250)),
    ({"crop": "limit", "width": 100, "dpr": 3.0}, (300, 225)),
    ({"crop": "pad", "width": 200, "height": 200, "background": "white"}, (200, 200)),
    ({"crop": "pad", "width": 120, "height": 60, "dpr": 2.0}, (240, 120)),
    ({"crop": "thumb", "gravity": "auto", "width": 64, "height": 96}, (64, 96)),
    ({"crop": "scale", "width": 123}, (123, half_up(300 * 123 / 400))),
    ({"crop": "crop", "width": 50, "height": 40, "gravity": "north_east"}, (50, 40)),
]


@pytest.mark.parametrize(("options", "size"), GEOMETRY_CASES)
@pytest.mark.parametrize("fmt", ["jpg", "png", "webp"])
def test_delivery_renders_exact_size_and_format(
    sdk: dict[str, Any],
    http: httpx.Client,
    options: dict[str, Any],
    size: tuple[int, int],
    fmt: str,
) -> None:
    upload_png(sdk, "render-me")
    response = http.get(url_for(sdk, "render-me", format=fmt, **options))
    assert response.status_code == 200, response.headers.get("x-cld-error")
    image = open_image(response.content)
    assert image.size == size
    expected = {
        "jpg": ("JPEG", "image/jpeg"),
        "png": ("PNG", "image/png"),
        "webp": ("WEBP", "image/webp"),
    }[fmt]
    assert (image.format, response.headers["content-type"]) == expected


@pytest.mark.parametrize(
    ("fetch_format", "pillow_format"), [("webp", "WEBP"), ("png", "PNG"), ("jpg", "JPEG")]
)
def test_fetch_format_overrides_the_extension(
    sdk: dict[str, Any], http: httpx.Client, fetch_format: str, pillow_format: str
) -> None:
    upload_png(sdk, "f-param")
    url = url_for(
        sdk, "f-param", format="gif", fetch_format=fetch_format, width=90, height=90, crop="fill"
    )
    image = open_image(http.get(url).content)
    assert (image.format, image.size) == (pillow_format, (90, 90))


def test_pad_fills_with_the_background_colour(sdk: dict[str, Any], http: httpx.Client) -> None:
    upload_png(sdk, "padded")
    red = open_image(
        http.get(
            url_for(
                sdk,
                "padded",
                format="png",
                crop="pad",
                width=200,
                height=200,
                background="rgb:ff0000",
            )
        ).content
    ).convert("RGB")
    # 400x300 fits as 200x150: 25 px bands above and below.
    assert red.getpixel((100, 5)) == (255, 0, 0)
    assert red.getpixel((100, 194)) == (255, 0, 0)
    white = open_image(
        http.get(
            url_for(
                sdk, "padded", format="png", crop="pad", width=200, height=200, background="white"
            )
        ).content
    ).convert("RGB")
    assert white.getpixel((100, 5)) == (255, 255, 255)


def test_unchanged_delivery_returns_the_original_bytes(
    sdk: dict[str, Any], http: httpx.Client
) -> None:
    upload_png(sdk, "as-is")
    response = http.get(url_for(sdk, "as-is", format="png"))
    assert response.content == png_bytes(*SOURCE_SIZE, seed="as-is")
    converted = open_image(http.get(url_for(sdk, "as-is", format="jpg")).content)
    assert (converted.format, converted.size) == ("JPEG", SOURCE_SIZE)


def test_named_transformation_chained_with_auto_format_and_quality(
    sdk: dict[str, Any], http: httpx.Client
) -> None:
    upload_png(sdk, "hero")
    url = url_for(
        sdk,
        "hero",
        transformation=[{"transformation": "card"}, {"fetch_format": "auto", "quality": "auto"}],
    )
    assert "/t_card/f_auto,q_auto/" in url
    webp = http.get(url, headers={"Accept": "image/avif,image/webp,*/*"})
    assert open_image(webp.content).format == "WEBP"
    assert open_image(webp.content).size == (300, 200)
    assert webp.headers["vary"] == "Accept"
    jpeg = http.get(url, headers={"Accept": "image/jpeg"})
    assert open_image(jpeg.content).format == "JPEG"
    assert open_image(jpeg.content).size == (300, 200)

    chained = url_for(
        sdk,
        "hero",
        format="png",
        transformation=[{"transformation": "card"}, {"width": 150, "crop": "scale"}],
    )
    assert open_image(http.get(chained).content).size == (150, 100)
    nested = url_for(sdk, "hero", format="png", transformation="thumb_sq")
    assert open_image(http.get(nested).content).size == (80, 80)

    unknown = http.get(url_for(sdk, "hero", format="png", transformation="nope"))
    assert unknown.status_code == 400
    assert "t_nope" in unknown.headers["x-cld-error"]


def test_quality_changes_the_encoding(sdk: dict[str, Any], http: httpx.Client) -> None:
    upload_png(sdk, "quality")
    low = http.get(url_for(sdk, "quality", format="jpg", quality=10)).content
    high = http.get(url_for(sdk, "quality", format="jpg", quality=95)).content
    assert len(low) < len(high)


def test_signed_urls(sdk: dict[str, Any], http: httpx.Client) -> None:
    upload_png(sdk, "signed")
    signed = url_for(sdk, "signed", sign_url=True, width=100, crop="scale", format="png")
    assert "/s--" in signed
    assert open_image(http.get(signed).content).size == (100, 75)
    tampered = signed.replace("w_100", "w_101")
    rejected = http.get(tampered)
    assert rejected.status_code == 401

    upload_png(sdk, "private-shoe", type="authenticated")
    unsigned = url_for(sdk, "private-shoe", type="authenticated", format="png")
    assert http.get(unsigned).status_code == 401
    allowed = url_for(sdk, "private-shoe", type="authenticated", format="png", sign_url=True)
    assert http.get(allowed).status_code == 200


def test_unknown_assets_and_parameters(sdk: dict[str, Any], http: httpx.Client) -> None:
    assert http.get(url_for(sdk, "ghost", format="jpg")).status_code == 404
    upload_png(sdk, "plain")
    bad = http.get(url_for(sdk, "plain", format="jpg", effect="cartoonify"))
    assert bad.status_code == 400
    assert "not supported" in bad.headers["x-cld-error"]


# --------------------------------------------------------------------------- overlays

RED = (255, 0, 0, 255)
WATERMARK = "placeholders/watermark"
# The SDK's overlay for the watermark, the gateway's product-image recipe.
WATERMARK_STEP = {
    "overlay": "placeholders:watermark",
    "gravity": "south_east",
    "opacity": 60,
    "width": 0.25,
    "flags": "relative",
    "x": 10,
    "y": 10,
}


def upload_watermark(sdk: dict[str, Any], size: tuple[int, int] = (80, 40)) -> None:
    cloudinary.uploader.upload(solid_png(*size, RED), public_id=WATERMARK, **sdk)


def upload_white_base(sdk: dict[str, Any], public_id: str) -> None:
    data = solid_png(*SOURCE_SIZE, (255, 255, 255), mode="RGB")
    cloudinary.uploader.upload(data, public_id=public_id, **sdk)


def non_white_box(image: Any) -> tuple[int, int, int, int] | None:
    """Where colour clearly other than white is, as (left, top, right, bottom).

    Clearly: resampling filters leave faint ringing a pixel or two around edges.
    """
    marked = image.convert("RGB").point(lambda value: 255 if value < 224 else 0)
    box: tuple[int, int, int, int] | None = marked.getbbox()
    return box


def close_to(actual: object, expected: tuple[int, ...], tolerance: int) -> bool:
    """Whether a ``getpixel`` result is within ``tolerance`` of ``expected`` per channel."""
    assert isinstance(actual, tuple)
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def test_watermark_as_the_sdk_builds_it(sdk: dict[str, Any], http: httpx.Client) -> None:
    upload_png(sdk, "catalog/SKU/hero-1")
    upload_watermark(sdk)
    pad = {"width": 400, "height": 400, "crop": "pad", "background": "white"}
    url = url_for(sdk, "catalog/SKU/hero-1", transformation=[pad, WATERMARK_STEP], format="jpg")
    assert "/fl_relative,g_south_east,l_placeholders:watermark,o_60,w_0.25,x_10,y_10/" in url

    response = http.get(url)
    assert response.status_code == 200, response.headers.get("x-cld-error")
    image = open_image(response.content)
    assert (image.format, image.size) == ("JPEG", (400, 400))
    rgb = image.convert("RGB")
    # 400x300 padded to 400x400 leaves white bands at rows 0-49 and 350-399. The 80x40
    # watermark becomes 100x50 (a quarter of the base width), 10 px in from the bottom
    # right corner: columns 290-389, rows 340-389. 60 % red over white is (255, 102, 102).
    pale_red = (255, 102, 102)
    # (JPEG blurs colour edges: these points keep a block away from them.)
    for point in [(300, 350), (340, 365), (378, 378)]:
        assert close_to(rgb.getpixel(point), pale_red, 12), point
    for point in [(20, 395), (250, 370)]:
        assert close_to(rgb.getpixel(point), (255, 255, 255), 12), point

    # The same in PNG, exactly: the watermark's box and colour.
    exact = open_image(
        http.get(
            url_for(sdk, "catalog/SKU/hero-1", transformation=[pad, WATERMARK_STEP], format="png")
        ).content
    ).convert("RGB")
    assert exact.size == (400, 400)
    assert close_to(exact.getpixel((340, 370)), pale_red, 1)
    bottom_band = exact.crop((0, 350, 400, 400))
    assert non_white_box(bottom_band) == (290, 0, 390, 40)


# Base 400x300, watermark 80x40 shown at 100x50, offsets x_10,y_20 point inward.
PLACEMENTS = [
    ("north_west", (10, 20)),
    ("north", (160, 20)),
    ("north_east", (290, 20)),
    ("west", (10, 145)),
    ("center", (160, 145)),
    ("east", (290, 145)),
    ("south_west", (10, 230)),
    ("south", (160, 230)),
    ("south_east", (290, 230)),
]


@pytest.mark.parametrize(("gravity", "corner"), PLACEMENTS)
def test_overlay_gravity_and_offsets(
    sdk: dict[str, Any], http: httpx.Client, gravity: str, corner: tuple[int, int]
) -> None:
    upload_white_base(sdk, "blank")
    upload_watermark(sdk)
    step = {**WATERMARK_STEP, "gravity": gravity, "opacity": 100, "y": 20}
    image = open_image(http.get(url_for(sdk, "blank", transformation=[step], format="png")).content)
    assert image.size == SOURCE_SIZE
    left, top = corner
    assert non_white_box(image) == (left, top, left + 100, top + 50)
    assert image.convert("RGB").getpixel((left + 50, top + 25)) == (255, 0, 0)


@pytest.mark.parametrize(
    ("options", "size"),
    [
        # Without fl_relative, whole numbers are pixels, aspect ratio kept from w alone.
        ({"width": 60}, (60, 30)),
        ({"height": 10}, (20, 10)),
        ({"width": 50, "height": 50}, (50, 50)),
        # Decimals without fl_relative are fractions of the overlay itself.
        ({"width": 0.5}, (40, 20)),
        ({"width": 0.5, "flags": "relative"}, (200, 100)),
        ({}, (80, 40)),
    ],
)
def test_overlay_size(
    sdk: dict[str, Any], http: httpx.Client, options: dict[str, Any], size: tuple[int, int]
) -> None:
    upload_white_base(sdk, "blank")
    upload_watermark(sdk)
    step = {"overlay": "placeholders:watermark", "gravity": "north_west", **options}
    image = open_image(http.get(url_for(sdk, "blank", transformation=[step], format="png")).content)
    assert image.size == SOURCE_SIZE
    assert non_white_box(image) == (0, 0, *size)


def test_overlay_in_layer_apply_form_and_beyond_the_edges(
    sdk: dict[str, Any], http: httpx.Client
) -> None:
    upload_white_base(sdk, "blank")
    upload_watermark(sdk)
    bracketed = url_for(
        sdk,
        "blank",
        format="png",
        transformation=[
            {"overlay": "placeholders:watermark"},
            {"crop": "scale", "width": 40},
            {"opacity": 50},
            {"flags": "layer_apply", "gravity": "south_east", "x": 10, "y": 10},
            {"crop": "scale", "width": 200},
        ],
    )
    assert "/l_placeholders:watermark/c_scale,w_40/o_50/fl_layer_apply,g_south_east" in bracketed
    # The 40x20 overlay covers 350-389 x 270-289, then everything is halved.
    image = open_image(http.get(bracketed).content).convert("RGB")
    assert image.size == (200, 150)
    assert non_white_box(image) == (175, 135, 195, 145)
    assert close_to(image.getpixel((185, 140)), (255, 128, 128), 2)

    # Parts of an overlay beyond the base are cut off; the size stays the base's.
    step = {"overlay": "placeholders:watermark", "gravity": "north_west", "x": -40, "y": 280}
    clipped = open_image(
        http.get(url_for(sdk, "blank", transformation=[step], format="png")).content
    )
    assert clipped.size == SOURCE_SIZE
    assert non_white_box(clipped) == (0, 280, 40, 300)


def test_missing_or_unsupported_overlay_is_a_bad_request(
    sdk: dict[str, Any], http: httpx.Client
) -> None:
    upload_png(sdk, "catalog/SKU/hero-1")
    missing = http.get(url_for(sdk, "catalog/SKU/hero-1", transformation=[WATERMARK_STEP]))
    assert missing.status_code == 400
    assert missing.headers["x-cld-error"] == "Overlay image not found - placeholders:watermark"

    text = http.get(url_for(sdk, "catalog/SKU/hero-1", overlay="text:Arial_20:Sale"))
    assert text.status_code == 400
    assert "not supported" in text.headers["x-cld-error"]

    upload_watermark(sdk)
    assert http.get(url_for(sdk, "catalog/SKU/hero-1", transformation=[WATERMARK_STEP])).is_success
    # Private layers need the whole URL signed, as on Cloudinary.
    cloudinary.uploader.upload(
        solid_png(8, 8, RED), public_id="marks/secret", type="private", **sdk
    )
    private = {"overlay": "private:marks:secret", "gravity": "north_west"}
    assert http.get(url_for(sdk, "catalog/SKU/hero-1", transformation=[private])).status_code == 401
    signed = url_for(sdk, "catalog/SKU/hero-1", transformation=[private], sign_url=True)
    assert http.get(signed).status_code == 200


def test_video_upload_poster_stream_and_hls(sdk: dict[str, Any], http: httpx.Client) -> None:
    movie = fake_mp4(640, 360, 12.5)
    result = cloudinary.uploader.upload(
        movie, public_id="clips/intro", resource_type="video", context={"alt": "Intro"}, **sdk
    )
    assert result["resource_type"] == "video"
    assert (result["width"], result["height"], result["duration"]) == (640, 360, 12.5)
    assert result["format"] == "mp4"

    overridden = cloudinary.uploader.upload(
        b"opaque video bytes",
        public_id="clips/other",
        resource_type="video",
        context={"emulator_width": "1920", "emulator_height": "1080", "emulator_duration": "3"},
        **sdk,
    )
    assert (overridden["width"], overridden["height"], overridden["duration"]) == (1920, 1080, 3.0)
    assert "context" not in overridden

    poster = http.get(url_for(sdk, "clips/intro", resource_type="video", format="jpg"))
    assert open_image(poster.content).size == (640, 360)
    small = http.get(
        url_for(sdk, "clips/intro", resource_type="video", format="webp", width=160, crop="scale")
    )
    assert (open_image(small.content).format, open_image(small.content).size) == ("WEBP", (160, 90))
    stream = http.get(url_for(sdk, "clips/intro", resource_type="video", format="mp4"))
    assert (stream.content, stream.headers["content-type"]) == (movie, "video/mp4")
    playlist = http.get(
        url_for(sdk, "clips/intro", resource_type="video", format="m3u8", streaming_profile="auto")
    )
    assert playlist.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    lines = playlist.text.splitlines()
    assert lines[0] == "#EXTM3U"
    assert "#EXTINF:12.500," in lines
    segment = next(line for line in lines if line.startswith("http"))
    assert http.get(segment).content == movie


# --------------------------------------------------------------------------- notifications


def test_notifications_are_signed_like_cloudinary(
    server: EmulatorServer,
    sdk: dict[str, Any],
    receiver: NotificationReceiver,
    global_api_secret: None,
) -> None:
    receiver.clear()
    hook = f"{receiver.url}/hooks/cloudinary"
    upload_png(sdk, "notified", tags=["a"], notification_url=hook)
    cloudinary.api.update("notified", tags=["a", "b"], notification_url=hook, **sdk)
    cloudinary.api.delete_resources(["notified"], notification_url=hook, **sdk)

    received = receiver.wait_for(3)
    by_type = {}
    for notification in received:
        assert notification.path == "/hooks/cloudinary"
        assert notification.headers["content-type"] == "application/json"
        assert cloudinary.utils.verify_notification_signature(
            notification.body, notification.timestamp, notification.signature
        )
        assert not cloudinary.utils.verify_notification_signature(
            notification.body + " ", notification.timestamp, notification.signature
        )
        payload = httpx.Response(200, content=notification.body).json()
        by_type[payload["notification_type"]] = payload
    assert by_type["upload"]["public_id"] == "notified"
    assert by_type["resource_tags_changed"]["resources"][0]["added"] == ["b"]
    assert by_type["delete"]["resources"][0]["public_id"] == "notified"
    assert server.emulator.notifier.wait_until_settled()
    assert server.emulator.stats.notifications_sent == 3


def test_global_notification_url_and_failed_delivery(
    server: EmulatorServer, sdk: dict[str, Any], receiver: NotificationReceiver
) -> None:
    receiver.clear()
    server.emulator.notification_url = f"{receiver.url}/global"
    upload_png(sdk, "global-hook")
    assert receiver.wait_for(1)[0].path == "/global"

    # A dead endpoint never fails the API call; the failure is only counted.
    server.emulator.notification_url = "http://127.0.0.1:9/unreachable"
    assert upload_png(sdk, "dead-hook")["public_id"] == "dead-hook"
    assert server.emulator.notifier.wait_until_settled()
    assert server.emulator.stats.notifications_failed == 1


# --------------------------------------------------------------------------- faults


def expected_outcomes(
    seed: int, count: int, error_rate: float, rate_limit_rate: float
) -> list[str]:
    """The documented contract: one random() per faultable request after configure()."""
    rng = random.Random(seed)
    outcomes = []
    for _ in range(count):
        draw = rng.random()
        if draw < error_rate:
            outcomes.append("error")
        elif draw < error_rate + rate_limit_rate:
            outcomes.append("rate_limited")
        else:
            outcomes.append("ok")
    return outcomes


def test_faults_are_reproducible_sdk_exceptions(
    server: EmulatorServer, sdk: dict[str, Any]
) -> None:
    upload_png(sdk, "flaky")
    server.emulator.stats.reset()
    server.emulator.faults.configure(error_rate=0.3, rate_limit_rate=0.2, seed=1234)

    outcomes = []
    for _ in range(20):
        try:
            cloudinary.api.resource("flaky", **sdk)
            outcomes.append("ok")
        except GeneralError:
            outcomes.append("error")
        except RateLimited as limited:
            outcomes.append("rate_limited" if "Rate Limit Exceeded" in str(limited) else "?")

    assert outcomes == expected_outcomes(1234, 20, 0.3, 0.2)
    # Pinned as well, so a change to the draw contract cannot pass unnoticed.
    assert outcomes.count("error") == 8
    assert outcomes.count("rate_limited") == 3
    assert server.emulator.stats.faults_injected == {"error": 8, "rate_limited": 3}
    assert server.emulator.stats.admin_calls == 20


def test_faults_apply_to_uploads_and_can_be_set_over_http(
    server: EmulatorServer, sdk: dict[str, Any], http: httpx.Client
) -> None:
    response = http.post(f"{server.url}/_emulator/faults", json={"rate_limit_rate": 1.0})
    assert response.json()["rate_limit_rate"] == 1.0
    with pytest.raises(RateLimited):
        upload_png(sdk, "limited")
    http.post(f"{server.url}/_emulator/faults", json={"rate_limit_rate": 0, "error_rate": 1})
    with pytest.raises(GeneralError):
        upload_png(sdk, "broken")
    assert http.post(f"{server.url}/_emulator/faults", json={"error_rate": 2}).status_code == 400

    http.post(f"{server.url}/_emulator/reset")
    assert upload_png(sdk, "healthy")["public_id"] == "healthy"
    assert server.emulator.stats.upload_calls == 1


def test_latency_and_delivery_faults(
    server: EmulatorServer, sdk: dict[str, Any], http: httpx.Client
) -> None:
    upload_png(sdk, "slow")
    server.emulator.faults.latency_ms = 250
    started = time.perf_counter()
    cloudinary.api.resource("slow", **sdk)
    assert time.perf_counter() - started >= 0.25

    url = url_for(sdk, "slow", format="png")
    server.emulator.faults.configure(latency_ms=0, error_rate=1.0)
    assert http.get(url).status_code == 200  # delivery is exempt unless asked for
    server.emulator.faults.apply_to_delivery = True
    assert http.get(url).status_code == 500


# --------------------------------------------------------------------------- in-process


async def test_app_is_mountable_in_process() -> None:
    config = EmulatorConfig(cloud_name="inproc", api_key="k", api_secret="s")
    emulator_app = create_emulator_app(config)
    emulator = emulator_of_app(emulator_app)
    app = Starlette(routes=[Mount("/media", app=emulator_app)])
    emulator.seed_image("seeded", width=60, height=40, format="png", tags=["t"])
    signature_params = {"public_id": "posted", "timestamp": str(int(time.time()))}
    signature = cloudinary.utils.api_sign_request(signature_params, "s")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://emulator.test/media"
    ) as client:
        image = await client.get("inproc/image/upload/c_scale,w_30/seeded.webp")
        assert open_image(image.content).size == (30, 20)
        uploaded = await client.post(
            "v1_1/inproc/image/upload",
            data={**signature_params, "api_key": "k", "signature": signature},
            files={"file": ("posted.png", png_bytes(10, 10))},
        )
        assert uploaded.status_code == 200, uploaded.text
        assert uploaded.json()["url"].startswith("http://emulator.test/inproc/image/upload/")
        listing = await client.get("/v1_1/inproc/resources/image/tags/t", auth=("k", "s"))
        assert [r["public_id"] for r in listing.json()["resources"]] == ["seeded"]
        assert listing.headers["x-featureratelimit-limit"] == "500"
