"""Which Cloudinary the gateway talks to: a Cloudinary emulator run as its own service
(CATALOG_EMULATOR_URL), which several replicas share, through the official SDK."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from cloudinary_emulator import EmulatorConfig, EmulatorServer
from gateway.dam_setup import EMULATOR_CLOUD, EMULATOR_KEY, command_line_dam, start_dam
from gateway.server import WorkersConfigError, check_workers
from gateway.settings import Settings
from tests.emulator_fixtures import png_bytes

SECRET = "emulator-service-secret-0123456789"


@pytest.fixture(scope="module")
def service() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(cloud_name=EMULATOR_CLOUD, api_key=EMULATOR_KEY, api_secret=SECRET)
    with EmulatorServer(config) as server:
        yield server


def shared(server: EmulatorServer, tmp_path: Path, public_url: str | None = None) -> Settings:
    return Settings(
        data_dir=tmp_path,
        emulator_url=server.url,
        emulator_secret=SECRET,
        emulator_public_url=public_url,
    )


async def test_replicas_upload_through_one_emulator_service_and_clients_see_its_public_url(
    service: EmulatorServer, tmp_path: Path
) -> None:
    public = "http://media.shop.test:8001"
    settings = shared(service, tmp_path, public)
    async with AsyncExitStack() as stack:
        first = await start_dam(settings, stack)
        second = await start_dam(settings, stack)
        uploaded = await first.upload(io.BytesIO(png_bytes(64, 48)), public_id="shared/one")
        # The other replica finds what the first uploaded: one store, not one per process.
        found = await second.resource("shared/one")
    assert (found["public_id"], found["width"]) == (uploaded["public_id"], 64)
    # Nothing was started or locked over this replica's data directory.
    assert not (tmp_path / "cloudinary").exists()
    url = second.url("shared/one", width=32, crop="scale", format="png")
    assert url.startswith(f"{public}/{EMULATOR_CLOUD}/image/upload/")
    # The same path from the service's own address delivers the picture.
    async with httpx.AsyncClient() as client:
        delivered = await client.get(url.replace(public, service.url.rstrip("/")))
    assert (delivered.status_code, delivered.headers["content-type"]) == (200, "image/png")
    # One-off commands (seed --demo, media ingest) go through the same service.
    assert command_line_dam(settings).url("shared/one") == second.url("shared/one")


def test_an_emulator_service_is_configured_consistently(tmp_path: Path) -> None:
    url = "http://emulator:8001"
    with pytest.raises(ValidationError, match="needs CATALOG_EMULATOR_SECRET"):
        Settings(emulator_url=url)
    with pytest.raises(ValidationError, match="set CLOUDINARY_URL or CATALOG_EMULATOR_URL"):
        Settings(emulator_url=url, emulator_secret=SECRET, cloudinary_url="cloudinary://k:s@c")
    with pytest.raises(ValidationError, match="CATALOG_EMULATOR_PUBLIC_URL needs"):
        Settings(emulator_public_url=url)
    with pytest.raises(ValidationError, match="emulator_url"):
        Settings(emulator_url="emulator:8001", emulator_secret=SECRET)
    # Workers (and replicas) may share a service, as they share Cloudinary.
    check_workers(
        Settings(workers=2, mongodb_uri="mongodb://m", emulator_url=url, emulator_secret=SECRET)
    )
    with pytest.raises(WorkersConfigError, match=r"CLOUDINARY_URL \(or CATALOG_EMULATOR_URL\)"):
        check_workers(Settings(workers=2, mongodb_uri="mongodb://m", data_dir=tmp_path))
