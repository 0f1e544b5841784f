"""POST /webhooks/cloudinary: signed notifications keep the asset mirror current."""

import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import cloudinary.uploader
import httpx
import pytest

from gateway.app import create_app
from gateway.embedded_mongo import free_port
from gateway.settings import Settings
from tests.http_helpers import serve
from tests.live_server import live_server
from tests.media_fixtures import image_bytes

SECRET = "webhook-test-secret-0123456789"

UPLOAD = {
    "notification_type": "upload",
    "public_id": "catalog/NW-RUN-001/hero-9",
    "resource_type": "image",
    "type": "upload",
    "version": 1700000000,
    "width": 1600,
    "height": 1200,
    "format": "jpg",
    "bytes": 123456,
    "tags": ["sku:NW-RUN-001", "role:hero"],
    "context": {"custom": {"alt_en-US": "Trail shoe", "role": "hero", "sku": "NW-RUN-001"}},
}


def signed(
    payload: Any, *, age_s: int = 0, secret: str = SECRET, algorithm: str = "sha1"
) -> tuple[str, dict[str, str]]:
    body = json.dumps(payload)
    timestamp = str(int(time.time()) - age_s)
    digest = hashlib.new(algorithm, f"{body}{timestamp}{secret}".encode()).hexdigest()
    return body, {
        "x-cld-timestamp": timestamp,
        "x-cld-signature": digest,
        "content-type": "application/json",
    }


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    configured = settings.model_copy(update={"emulator_secret": SECRET})
    async with serve(create_app(configured)) as http:
        yield http


async def test_signed_upload_notification_is_mirrored(client: httpx.AsyncClient, db: Any) -> None:
    body, headers = signed(UPLOAD)
    response = await client.post("/webhooks/cloudinary", content=body, headers=headers)
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "updated": 1, "rescored": 0},
    )
    asset = await db["assets"].find_one({"publicId": "catalog/NW-RUN-001/hero-9"})
    assert asset is not None
    assert (asset["status"], asset["width"], asset["alt"], asset["role"], asset["source"]) == (
        "active",
        1600,
        {"en-US": "Trail shoe"},
        "hero",
        "webhook",
    )


async def test_sha256_signatures_are_accepted(client: httpx.AsyncClient, db: Any) -> None:
    body, headers = signed(UPLOAD, algorithm="sha256")
    assert (
        await client.post("/webhooks/cloudinary", content=body, headers=headers)
    ).status_code == 200


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ({"secret": "wrong"}, "invalid X-Cld-Signature"),
        ({"age_s": 3 * 3600}, "stale notification"),
    ],
)
async def test_bad_or_stale_signatures_are_401_and_write_nothing(
    client: httpx.AsyncClient, db: Any, tamper: dict[str, Any], message: str
) -> None:
    body, headers = signed(UPLOAD, **tamper)
    response = await client.post("/webhooks/cloudinary", content=body, headers=headers)
    assert response.status_code == 401
    assert message in response.json()["error"]["message"]
    assert await db["assets"].count_documents({}) == 0


async def test_tampered_body_is_401(client: httpx.AsyncClient, db: Any) -> None:
    body, headers = signed(UPLOAD)
    tampered = body.replace("1600", "9999")
    response = await client.post("/webhooks/cloudinary", content=tampered, headers=headers)
    assert response.status_code == 401
    assert await db["assets"].count_documents({}) == 0


async def test_missing_headers_are_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/webhooks/cloudinary", content=json.dumps(UPLOAD))
    assert response.status_code == 401


@pytest.mark.parametrize("timestamp", [b"9" * 5000, "\u00b2".encode(), b"-1", b"12.5"])
async def test_malformed_timestamps_are_401_not_500(
    client: httpx.AsyncClient, timestamp: bytes
) -> None:
    headers = {b"x-cld-timestamp": timestamp, b"x-cld-signature": b"0" * 40}
    response = await client.post("/webhooks/cloudinary", content="{}", headers=headers)
    assert response.status_code == 401


async def test_oversized_notifications_are_refused_unread(client: httpx.AsyncClient) -> None:
    _, headers = signed(UPLOAD)

    async def chunks() -> AsyncIterator[bytes]:  # 4 MiB, streamed without a length
        for _ in range(64):
            yield b"x" * 65536

    response = await client.post("/webhooks/cloudinary", content=chunks(), headers=headers)
    assert response.status_code == 413


async def test_signed_garbage_is_400(client: httpx.AsyncClient) -> None:
    _, headers = signed(UPLOAD)
    garbage = "not json"
    timestamp = headers["x-cld-timestamp"]
    headers["x-cld-signature"] = hashlib.sha1(f"{garbage}{timestamp}{SECRET}".encode()).hexdigest()
    response = await client.post("/webhooks/cloudinary", content=garbage, headers=headers)
    assert response.status_code == 400


async def test_delete_notification_marks_assets_deleted(client: httpx.AsyncClient, db: Any) -> None:
    body, headers = signed(UPLOAD)
    await client.post("/webhooks/cloudinary", content=body, headers=headers)
    deletion = {
        "notification_type": "delete",
        "resources": [
            {"public_id": "catalog/NW-RUN-001/hero-9", "resource_type": "image", "type": "upload"}
        ],
    }
    body, headers = signed(deletion)
    assert (
        await client.post("/webhooks/cloudinary", content=body, headers=headers)
    ).status_code == 200
    asset = await db["assets"].find_one({"publicId": "catalog/NW-RUN-001/hero-9"})
    assert asset is not None
    assert asset["status"] == "deleted"


def test_the_gateways_emulator_notifies_the_gateway(settings: Settings, db: Any) -> None:
    """End to end: an upload to the gateway's Cloudinary reaches its mirror by webhook alone."""
    port = free_port()
    live_settings = settings.model_copy(update={"port": port})
    with live_server(create_app(live_settings), port=port) as live:
        dam = live.state["services"].dam
        cloudinary.uploader.upload(
            image_bytes(1200, 900),
            public_id="catalog/NW-RUN-002/side-7",
            context={"alt_de-DE": "Seitenansicht"},
            **dam.config.options(),
        )
        deadline = time.monotonic() + 10
        found = None
        while found is None and time.monotonic() < deadline:
            time.sleep(0.1)
            found = _find_sync(live_settings, "catalog/NW-RUN-002/side-7")
    assert found is not None
    assert (found["width"], found["height"], found["alt"]) == (
        1200,
        900,
        {"de-DE": "Seitenansicht"},
    )


def _find_sync(settings: Settings, public_id: str) -> dict[str, Any] | None:
    from pymongo import MongoClient

    with MongoClient[dict[str, Any]](settings.mongodb_uri) as client:
        return client[settings.db]["assets"].find_one({"publicId": public_id})


async def post_signed(client: httpx.AsyncClient, payload: Any) -> httpx.Response:
    body, headers = signed(payload)
    return await client.post("/webhooks/cloudinary", content=body, headers=headers)


async def test_out_of_order_notifications_never_roll_back(
    client: httpx.AsyncClient, db: Any
) -> None:
    newer = {**UPLOAD, "version": 200, "width": 2000}
    older = {**UPLOAD, "version": 100, "width": 10}
    assert (await post_signed(client, newer)).status_code == 200
    assert (await post_signed(client, older)).status_code == 200
    asset = await db["assets"].find_one({"publicId": UPLOAD["public_id"]})
    assert asset is not None
    assert (asset["version"], asset["width"]) == (200, 2000)
    # A delayed notification of the upload a deletion removed does not bring it back.
    deletion = {
        "notification_type": "delete",
        "resources": [{"public_id": UPLOAD["public_id"], "resource_type": "image", "version": 200}],
    }
    await post_signed(client, deletion)
    await post_signed(client, older)
    asset = await db["assets"].find_one({"publicId": UPLOAD["public_id"]})
    assert asset is not None
    assert asset["status"] == "deleted"
