"""POST /webhooks/cloudinary: signed notifications keep the asset mirror current."""

import hashlib
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC
from typing import Any

import cloudinary.uploader
import httpx
import pytest

from cloudinary_emulator.config import SignatureAlgorithm
from cloudinary_emulator.control import control_headers
from cloudinary_emulator.signing import notification_signature
from gateway.app import create_app
from gateway.dam_setup import EMULATOR_KEY
from gateway.embedded_mongo import free_port
from gateway.settings import Settings
from tests.http_helpers import serve
from tests.live_server import live_server
from tests.media_fixtures import image_bytes

pytestmark = pytest.mark.indexed

SECRET = "webhook-test-secret-0123456789"

PUBLIC_ID = "catalog/NW-RUN-001/hero-9"
UPLOAD: dict[str, Any] = {
    "notification_type": "upload",
    "public_id": PUBLIC_ID,
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
    payload: Any,
    *,
    age_s: int = 0,
    secret: str = SECRET,
    algorithm: SignatureAlgorithm = "sha1",
) -> tuple[str, dict[str, str]]:
    """The body and headers Cloudinary would send (signed by the emulator's code)."""
    body = json.dumps(payload)
    timestamp = int(time.time()) - age_s
    return body, {
        "x-cld-timestamp": str(timestamp),
        "x-cld-signature": notification_signature(body, timestamp, secret, algorithm),
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


async def mirror(db: Any) -> list[dict[str, Any]]:
    """The whole assets collection, to compare before and after a refused notification."""
    return [document async for document in db["assets"].find({}).sort("_id")]


def deletion(public_id: str, version: int | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"public_id": public_id, "resource_type": "image", "type": "upload"}
    if version is not None:
        resource["version"] = version
    return {"notification_type": "delete", "resources": [resource]}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**UPLOAD, "version": 10**30}, "version"),
        ({**UPLOAD, "notification_type": {"$ne": 1}}, "notification_type"),
        ({**UPLOAD, "tags": 5}, "tags"),
        ({"notification_type": "delete", "resources": {"a": "b"}}, "resources"),
        (
            {"notification_type": "delete", "resources": [{"public_id": {"$gt": ""}}]},
            "resources.0.public_id",
        ),
        ({**UPLOAD, "public_id": {"$gt": ""}}, "public_id"),
        ({**UPLOAD, "public_id": "catalog/\ud800"}, "public_id"),
        ({**UPLOAD, "context": {"custom": {"alt_\udfff": "x"}}}, "context.custom.alt_\\udfff"),
        ({**UPLOAD, "width": True}, "width"),
        ({**UPLOAD, "duration": float("inf")}, ""),
        (
            {"notification_type": "rename", "from_public_id": 1, "to_public_id": "b"},
            "from_public_id",
        ),
        ({"notification_type": "resource_tags_changed", "resources": [7]}, "resources.0"),
    ],
)
async def test_signed_malformed_notifications_are_400_and_write_nothing(
    client: httpx.AsyncClient, db: Any, payload: dict[str, Any], field: str
) -> None:
    assert (await post_signed(client, UPLOAD)).status_code == 200
    before = await mirror(db)
    response = await post_signed(client, payload)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.get("field", "") == field
    assert error["message"].startswith(f"{field}: " if field else "the notification body")
    assert await mirror(db) == before


@pytest.mark.parametrize("body", ["1" * 5000, "[" * 5000 + "]" * 5000, '{"version": NaN}'])
async def test_signed_bodies_json_cannot_hold_are_400(client: httpx.AsyncClient, body: str) -> None:
    timestamp = int(time.time())
    headers = {
        "x-cld-timestamp": str(timestamp),
        "x-cld-signature": notification_signature(body, timestamp, SECRET),
    }
    response = await client.post("/webhooks/cloudinary", content=body, headers=headers)
    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]["message"]


async def test_unknown_notification_types_are_acknowledged_and_ignored(
    client: httpx.AsyncClient, db: Any
) -> None:
    # Cloudinary sends many types the mirror has no use for; a 4xx would make it retry them.
    response = await post_signed(client, {"notification_type": "eager", "public_id": {"$gt": ""}})
    assert (response.status_code, response.json()["status"]) == (200, "ignored")
    assert await db["assets"].count_documents({}) == 0


async def test_a_replayed_delete_does_not_undo_a_newer_upload(
    client: httpx.AsyncClient, db: Any
) -> None:
    assert (await post_signed(client, {**UPLOAD, "version": 100})).status_code == 200
    # Captured once: the same bytes and signature, well inside the signature's window.
    body, headers = signed(deletion(UPLOAD["public_id"]))
    assert (
        await client.post("/webhooks/cloudinary", content=body, headers=headers)
    ).status_code == 200
    assert (await post_signed(client, {**UPLOAD, "version": 200})).status_code == 200
    replay = await client.post("/webhooks/cloudinary", content=body, headers=headers)
    # 2xx: for Cloudinary delivering twice this is success, and a 4xx would make it retry.
    assert (replay.status_code, replay.json()) == (
        200,
        {"status": "duplicate", "updated": 0, "rescored": 0},
    )
    asset = await db["assets"].find_one({"publicId": UPLOAD["public_id"]})
    assert asset is not None
    assert (asset["status"], asset["version"]) == ("active", 200)


async def test_replays_are_recognised_by_every_replica(settings: Settings, db: Any) -> None:
    configured = settings.model_copy(update={"emulator_secret": SECRET})
    body, headers = signed({**UPLOAD, "version": 100})
    async with serve(create_app(configured)) as first:
        assert (await first.post("/webhooks/cloudinary", content=body, headers=headers)).json()[
            "status"
        ] == "ok"
    async with serve(create_app(configured)) as second:
        response = await second.post("/webhooks/cloudinary", content=body, headers=headers)
    assert response.json()["status"] == "duplicate"
    remembered = await db["notifications"].find_one({})
    assert remembered is not None
    # Kept no longer than the signature is accepted (CATALOG_WEBHOOK_MAX_AGE_S after it).
    expires = remembered["expiresAt"].replace(tzinfo=UTC).timestamp()
    assert expires == int(headers["x-cld-timestamp"]) + configured.webhook_max_age_s


async def test_a_delete_older_than_the_mirrored_version_is_ignored(
    client: httpx.AsyncClient, db: Any
) -> None:
    assert (await post_signed(client, {**UPLOAD, "version": 200})).status_code == 200
    # Signed afresh (a late delivery, not a replay): the version alone must decide.
    response = await post_signed(client, deletion(UPLOAD["public_id"], version=100))
    assert (response.status_code, response.json()["updated"]) == (200, 0)
    asset = await db["assets"].find_one({"publicId": UPLOAD["public_id"]})
    assert asset is not None
    assert (asset["status"], asset["version"]) == ("active", 200)
    # The deletion of the version stored (or a newer one) still wins.
    assert (await post_signed(client, deletion(UPLOAD["public_id"], version=200))).json()[
        "updated"
    ] == 1
    asset = await db["assets"].find_one({"publicId": UPLOAD["public_id"]})
    assert asset is not None
    assert asset["status"] == "deleted"


async def test_deletes_of_assets_never_mirrored_write_nothing(
    client: httpx.AsyncClient, db: Any
) -> None:
    unknown = {
        "notification_type": "delete",
        "resources": [{"public_id": f"elsewhere/{n}", "version": 1} for n in range(1000)],
    }
    response = await post_signed(client, unknown)
    assert (response.status_code, response.json()["updated"]) == (200, 0)
    assert await db["assets"].count_documents({}) == 0


async def test_a_delete_listing_more_than_cloudinary_deletes_at_once_is_413(
    client: httpx.AsyncClient, db: Any
) -> None:
    assert (await post_signed(client, UPLOAD)).status_code == 200
    before = await mirror(db)
    listed = [{"public_id": f"elsewhere/{n}"} for n in range(2000)]
    listed[0] = {"public_id": UPLOAD["public_id"]}
    response = await post_signed(client, {"notification_type": "delete", "resources": listed})
    assert response.status_code == 413
    assert response.json()["error"] == {
        "message": "resources: at most 1000 per notification, not 2000",
        "field": "resources",
    }
    assert await mirror(db) == before


def test_every_notification_the_emulator_sends_is_accepted(settings: Settings, db: Any) -> None:
    """The schemas accept what Cloudinary (here its emulator) really sends: each step reaches
    the mirror by webhook alone, or the wait for it ends the test."""
    port = free_port()
    live_settings = settings.model_copy(update={"port": port})
    public_id = "catalog/NW-RUN-003/hero-2"
    with live_server(create_app(live_settings), port=port) as live:
        options = live.state["services"].dam.config.options()
        cloudinary.uploader.upload(
            image_bytes(800, 600), public_id=public_id, tags=["sku:NW-RUN-003"], **options
        )
        _wait_for(live_settings, public_id, lambda asset: asset["status"] == "active")
        cloudinary.uploader.add_tag("role:hero", [public_id], **options)
        _wait_for(live_settings, public_id, lambda asset: "role:hero" in asset["tags"])
        cloudinary.uploader.add_context({"alt_en-US": "Trail shoe"}, [public_id], **options)
        _wait_for(live_settings, public_id, lambda asset: asset["alt"] == {"en-US": "Trail shoe"})
        cloudinary.uploader.destroy(public_id, **options)
        _wait_for(live_settings, public_id, lambda asset: asset["status"] == "deleted")


def _wait_for(
    settings: Settings, public_id: str, condition: Callable[[dict[str, Any]], bool]
) -> None:
    deadline = time.monotonic() + 10
    while True:
        found = _find_sync(settings, public_id)
        if found is not None and condition(found):
            return
        assert time.monotonic() < deadline, f"the mirror never got there: {found}"
        time.sleep(0.05)


async def test_a_notification_not_applied_is_not_remembered(settings: Settings, db: Any) -> None:
    """Cloudinary retries a 5xx with the same body and signature: that is no replay."""
    port = free_port()
    configured = settings.model_copy(update={"emulator_secret": SECRET, "emulator_port": port})
    rename = {"notification_type": "rename", "from_public_id": "a/1", "to_public_id": "a/2"}
    body, headers = signed(rename)
    async with serve(create_app(configured)) as client:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as emulator:
            broken = await emulator.post(
                "/_emulator/faults",
                json={"error_rate": 1.0},
                headers=control_headers(EMULATOR_KEY, SECRET),
            )
            assert broken.status_code == 200
        for _ in range(2):
            response = await client.post("/webhooks/cloudinary", content=body, headers=headers)
            assert response.status_code == 503
            assert await db["notifications"].count_documents({}) == 0


async def test_a_failure_between_applying_and_rescoring_is_503_and_the_retry_completes(
    client: httpx.AsyncClient, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MongoDB going away (an election) after the mirror was written: Cloudinary is told to
    retry, and the retry is applied and rescored, not answered as a duplicate."""
    from pymongo.errors import AutoReconnect

    import gateway.webhooks
    from resolvers.readiness import rescore_products_using as rescore

    failures = [AutoReconnect("primary stepped down")]

    async def failing_once(*args: Any) -> int:
        if failures:
            raise failures.pop()
        return await rescore(*args)

    monkeypatch.setattr(gateway.webhooks, "rescore_products_using", failing_once)
    body, headers = signed(UPLOAD)
    first = await client.post("/webhooks/cloudinary", content=body, headers=headers)
    assert first.status_code == 503
    assert first.headers["retry-after"] == "10"
    assert await db["assets"].count_documents({"publicId": PUBLIC_ID}) == 1  # applied, in part
    retry = await client.post("/webhooks/cloudinary", content=body, headers=headers)
    assert retry.status_code == 200
    assert retry.json()["status"] == "ok"
    replay = await client.post("/webhooks/cloudinary", content=body, headers=headers)
    assert replay.json()["status"] == "duplicate"


async def test_a_delivery_whose_applier_died_is_applied_by_the_retry(
    client: httpx.AsyncClient, db: Any
) -> None:
    """A replica that claimed a delivery and died (so could not even release it): its claim
    holds for a minute, during which a retry is told to come back; after it, one applies."""
    from datetime import datetime, timedelta

    body, headers = signed(UPLOAD)
    delivery = hashlib.sha256(f"{headers['x-cld-timestamp']}.{body}".encode()).hexdigest()
    now = datetime.now(UTC)
    # expiresAt an hour away: the TTL monitor leaves it alone.
    claim = {"_id": delivery, "state": "applying", "expiresAt": now + timedelta(hours=1)}
    await db["notifications"].insert_one({**claim, "heldUntil": now + timedelta(seconds=30)})
    busy = await client.post("/webhooks/cloudinary", content=body, headers=headers)
    assert busy.status_code == 409
    assert await db["assets"].count_documents({"publicId": PUBLIC_ID}) == 0
    await db["notifications"].update_one({"_id": delivery}, {"$set": {"heldUntil": now}})
    retry = await client.post("/webhooks/cloudinary", content=body, headers=headers)
    assert retry.json()["status"] == "ok"
    assert await db["assets"].count_documents({"publicId": PUBLIC_ID}) == 1
