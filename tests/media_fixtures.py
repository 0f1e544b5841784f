"""A Cloudinary emulator for the session and helpers to put assets into it through the SDK."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from cloudinary_emulator import EmulatorConfig, EmulatorServer
from resolvers.assets import DamClient, DamConfig
from tests.emulator_fixtures import fake_mp4

CLOUD, KEY, SECRET = "test-cloud", "test-key", "test-secret"


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(cloud_name=CLOUD, api_key=KEY, api_secret=SECRET)
    with EmulatorServer(config) as server:
        yield server


@pytest.fixture
def dam(emulator: EmulatorServer) -> Iterator[DamClient]:
    """A DAM client on a clean emulator (assets, counters and faults reset)."""
    emulator.emulator.reset()
    yield DamClient(DamConfig(CLOUD, KEY, SECRET, sdk_options=emulator.sdk_config()), timeout_s=5)
    emulator.emulator.reset()


def image_bytes(width: int, height: int, color: str = "#c0392b", fmt: str = "PNG") -> bytes:
    image = Image.new("RGB", (width, height), color)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


async def upload_image(
    dam: DamClient,
    public_id: str,
    *,
    width: int = 1600,
    height: int = 1600,
    alt: dict[str, str] | None = None,
    context: dict[str, str] | None = None,
    metadata: dict[str, Any] | None = None,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    """Upload through the official SDK, as ingest does."""
    custom = {f"alt_{locale}": text for locale, text in (alt or {}).items()}
    custom.update(context or {})
    return await dam.upload(
        image_bytes(width, height),
        public_id=public_id,
        context=custom or None,
        metadata=metadata or None,
        tags=tags or None,
        overwrite=True,
    )


async def upload_video(
    dam: DamClient, public_id: str, context: dict[str, str] | None = None
) -> dict[str, Any]:
    return await dam.upload(
        fake_mp4(1920, 1080, 12.0),
        public_id=public_id,
        resource_type="video",
        context=context or None,
        overwrite=True,
    )
