"""Delivery URLs built by the official SDK, rendered by the emulator (images and video)."""

from __future__ import annotations

import math
from typing import Any

import cloudinary.uploader
import httpx
import pytest

from tests.emulator.helpers import SOURCE_SIZE, upload_png, url_for
from tests.emulator_fixtures import fake_mp4, open_image, png_bytes


def half_up(value: float) -> int:
    return math.floor(value + 0.5)


def cloudinary_fit(width: int, height: int, box_w: float, box_h: float) -> tuple[int, int]:
    """Cloudinary's c_fit size: scale by the tighter ratio, round half up."""
    scale = min(box_w / width, box_h / height)
    return half_up(width * scale), half_up(height * scale)


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
