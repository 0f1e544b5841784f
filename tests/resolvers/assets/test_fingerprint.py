"""The gateway's picture fingerprint (resolvers.assets.fingerprint): copies of a picture match,
re-encoded or resized; look-alike pictures of other products do not, though Cloudinary's
64-bit phash cannot tell them apart."""

from __future__ import annotations

import io
from functools import cache
from typing import Any

import pytest
from PIL import Image

from cloudinary_emulator.media import probe_image
from demo.pictures import draw_product_image
from resolvers.assets.fingerprint import (
    COLOUR_BYTES,
    KIND,
    LUMA_BYTES,
    Fingerprint,
    fingerprint_bytes,
    fingerprint_document,
    fingerprint_of,
    same_picture,
    with_fingerprint,
)


@cache
def picture(**arguments: Any) -> bytes:
    return draw_product_image(**arguments)


# Two demo products whose hero pictures differ in three letters of the name and three digits of
# the SKU: one drawing, one colour (the demo's, seed 7).
TUMBLER_PRO = {"sku": "HC-GLS-000178", "name": "Terra Tumbler Pro", "category": "glassware"}
TUMBLER_EVO = {"sku": "HC-GLS-000237", "name": "Terra Tumbler Evo", "category": "glassware"}
HERO: dict[str, Any] = {"role": "hero", "brand": "Hearth & Co", **TUMBLER_PRO}


def fingerprint(data: bytes) -> Fingerprint:
    found = fingerprint_bytes(data)
    assert found is not None
    return found


def reencode(data: bytes, fmt: str, scale: float = 1.0, **options: Any) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    if scale != 1.0:
        size = (round(image.width * scale), round(image.height * scale))
        image = image.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "scale", "options"),
    [
        ("JPEG", 1.0, {"quality": 60}),
        ("JPEG", 0.5, {"quality": 80}),
        ("WEBP", 0.75, {"quality": 50}),
        ("PNG", 0.25, {}),
    ],
)
def test_a_copy_reencoded_or_resized_is_the_same_picture(
    fmt: str, scale: float, options: dict[str, Any]
) -> None:
    original = picture(**HERO)
    copy = reencode(original, fmt, scale, **options)
    assert same_picture(fingerprint(original), fingerprint(copy))


def test_look_alikes_that_share_a_phash_are_other_pictures() -> None:
    pro = picture(**HERO)
    evo = picture(**{**HERO, **TUMBLER_EVO})
    # What the issue was about: Cloudinary's phash (as the emulator computes it) is one.
    assert probe_image(pro).phash == probe_image(evo).phash
    assert not same_picture(fingerprint(pro), fingerprint(evo))


def test_another_colour_is_another_picture() -> None:
    # The example: front pictures of two tents of other brands, colours and names.
    tents = [
        picture(sku=sku, name=name, brand=brand, role="front", category="tents")
        for sku, name, brand in (
            ("AG-TNT-000099", "Nordic Tunnel Tent Lite", "Alpenglow"),
            ("TC-TNT-000245", "Ember Tunnel Tent Max", "Trailcraft"),
        )
    ]
    assert probe_image(tents[0]).phash == probe_image(tents[1]).phash
    assert not same_picture(fingerprint(tents[0]), fingerprint(tents[1]))


def test_swatches_of_one_colour_are_one_picture_of_two_colours_two() -> None:
    red, navy, red_again = (
        picture(sku=sku, name=sku, role="swatch", color=color)
        for sku, color in (("X-1", "red"), ("X-1", "navy"), ("Y-2", "red"))
    )
    assert red == red_again  # a swatch is its flat colour, whoever it belongs to
    assert same_picture(fingerprint(red), fingerprint(red_again))
    assert not same_picture(fingerprint(red), fingerprint(navy))


def test_another_shape_is_another_picture() -> None:
    square = picture(**HERO)
    wide = picture(**HERO, size=(1600, 1000))
    assert not same_picture(fingerprint(square), fingerprint(wide))


def test_bytes_that_are_no_picture_have_no_fingerprint() -> None:
    assert fingerprint_bytes(b"\x00\x00\x00\x18ftypmp42") is None
    asset = {"publicId": "catalog/X/video-1", "version": 3}
    assert with_fingerprint(asset, b"not a picture") == asset


def test_the_stored_fingerprint_is_of_the_asset_version() -> None:
    found = fingerprint(picture(**HERO))
    assert (len(found.luma), len(found.colour)) == (LUMA_BYTES, COLOUR_BYTES)
    asset = with_fingerprint({"publicId": "catalog/X/hero-1", "version": 7}, picture(**HERO))
    assert asset["fingerprint"] == fingerprint_document(found, 7)
    assert asset["fingerprint"]["kind"] == KIND
    assert fingerprint_of(asset) == found
    # Re-uploaded elsewhere: the mirror has a newer version, the fingerprint is of the old one.
    assert fingerprint_of({**asset, "version": 8}) is None
    assert fingerprint_of({**asset, "fingerprint": {**asset["fingerprint"], "kind": "v0"}}) is None
    assert fingerprint_of({**asset, "fingerprint": {**asset["fingerprint"], "luma": b""}}) is None
    assert fingerprint_of({"publicId": "catalog/X/hero-1", "version": 7}) is None
