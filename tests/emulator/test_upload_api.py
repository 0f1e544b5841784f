"""The emulator's Upload API, driven through the official SDK exactly as the gateway drives it."""

from __future__ import annotations

import re
import time
from typing import Any

import cloudinary.api
import cloudinary.uploader
import cloudinary.utils
import httpx
import pytest
from cloudinary.exceptions import AuthorizationRequired, BadRequest

from cloudinary_emulator.phash import hamming_distance, perceptual_hash
from tests.emulator.helpers import SOURCE_SIZE, upload_png
from tests.emulator_fixtures import noise_png, open_image, png_bytes


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
    # 64 bits as 16 lower-case hex digits, as Cloudinary reports it, of the uploaded picture.
    assert re.fullmatch(r"[0-9a-f]{16}", result["phash"]), result["phash"]
    uploaded = open_image(png_bytes(*SOURCE_SIZE, seed="products/shoe-1"))
    assert result["phash"] == perceptual_hash(uploaded)
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
