"""What the emulator test modules share: the test cloud's credentials and SDK shorthands."""

from __future__ import annotations

from typing import Any

import cloudinary.uploader
import cloudinary.utils

from tests.emulator_fixtures import png_bytes

CLOUD = "catalog-test"
API_KEY = "614335564976464"
API_SECRET = "emulator-test-secret"
NAMED = {
    "card": "c_fill,g_auto,w_300,h_200",
    "thumb_sq": "c_thumb,g_auto,w_80,h_80/e_grayscale",
}
SOURCE_SIZE = (400, 300)


def upload_png(sdk: dict[str, Any], public_id: str, **options: Any) -> dict[str, Any]:
    data = png_bytes(*SOURCE_SIZE, seed=public_id)
    result: dict[str, Any] = cloudinary.uploader.upload(data, public_id=public_id, **sdk, **options)
    return result


def url_for(sdk: dict[str, Any], public_id: str, **options: Any) -> str:
    url, _ = cloudinary.utils.cloudinary_url(public_id, **sdk, **options)
    assert isinstance(url, str)
    return url
