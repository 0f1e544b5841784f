"""Layers (``l_``/``overlay``) in delivery URLs built by the official SDK."""

from __future__ import annotations

from typing import Any

import cloudinary.uploader
import httpx
import pytest

from tests.emulator.helpers import SOURCE_SIZE, upload_png, url_for
from tests.emulator_fixtures import open_image, solid_png

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
