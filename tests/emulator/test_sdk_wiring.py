"""The emulator as the SDK and a host app see it: ``sdk_config`` and mounting it in-process."""

from __future__ import annotations

import time

import cloudinary.utils
import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from cloudinary_emulator import (
    EmulatorConfig,
    EmulatorServer,
    create_emulator_app,
    emulator_of_app,
    sdk_config,
)
from tests.emulator.helpers import API_KEY, API_SECRET, CLOUD, url_for
from tests.emulator_fixtures import open_image, png_bytes


def test_sdk_config_points_api_and_delivery_at_the_emulator(server: EmulatorServer) -> None:
    options = sdk_config(server.url, CLOUD, API_KEY, API_SECRET)
    assert options["upload_prefix"] == server.url
    url = url_for(options, "shoes/red", width=10, crop="scale", format="jpg")
    assert url == f"{server.url}/{CLOUD}/image/upload/c_scale,w_10/v1/shoes/red.jpg"
    secure = sdk_config("https://media.example.test/emu", CLOUD, API_KEY, API_SECRET)
    assert url_for(secure, "x", format="png") == (
        f"https://media.example.test/emu/{CLOUD}/image/upload/x.png"
    )


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
