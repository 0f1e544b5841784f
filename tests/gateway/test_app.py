"""The app's start-up (demo seeding at start-up: tests/demo/test_seeding.py), readiness while
the demo's media upload, and its logs."""

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from demo.upload import UploadProgress
from gateway.access_log import AccessLogMiddleware
from gateway.app import create_app, readyz, refresh_stale_readiness
from gateway.embedded_mongo import free_port
from gateway.settings import Settings
from resolvers.db import Catalog
from tests.conftest import TEST_KEY_PEPPER
from tests.fixtures.small_catalog import load_small_catalog
from tests.graphql_helpers import services_for
from tests.http_helpers import serve

pytestmark = pytest.mark.indexed


def test_servers_keep_start_up_objects_out_of_the_collector(tmp_path: Any) -> None:
    """The ASGI factory freezes what start-up built; create_app, which tests and applications
    embedding the gateway call, does not (the tests' conftest freezes between modules)."""
    import gc
    import subprocess
    import sys

    code = (
        "import gc; from gateway.asgi import app_factory; app_factory(); "
        "print(gc.get_freeze_count())"
    )
    env = {"PATH": "/usr/bin:/bin", "CATALOG_DATA_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert int(out.stdout) > 10_000
    frozen = gc.get_freeze_count()
    create_app(
        Settings(
            data_dir=tmp_path,
            key_pepper=TEST_KEY_PEPPER,
            mongodb_uri="mongodb://127.0.0.1:1/?replicaSet=rs0",  # never connected to
        )
    )
    # Not equal: frozen objects freed meanwhile leave the count; a freeze adds thousands.
    assert gc.get_freeze_count() <= frozen


# --- demo media still uploading (issue 10, item 9) --------------------------------------------


async def test_readyz_says_while_demo_media_are_still_uploading(
    mongo_client: AsyncMongoClient[dict[str, Any]],
) -> None:
    progress = UploadProgress()
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/readyz",
        "headers": [],
        "state": {
            "mongo_client": mongo_client,
            "demo_media": progress,
            "services": services_for(Catalog(mongo_client["readyz"])),
        },
    }
    progress.begin(300)
    for _ in range(11):
        progress.advance()
    response = await readyz(Request(scope))
    # Ready all the same: the API answers, with placeholders until the pictures arrive.
    assert response.status_code == 200
    assert json.loads(bytes(response.body)) == {
        "status": "ready",
        "writes": "ok",
        "demoMedia": {"uploaded": 11, "failed": 0, "total": 300},
    }
    progress.finish()
    response = await readyz(Request(scope))
    assert json.loads(bytes(response.body)) == {"status": "ready", "writes": "ok"}


async def test_the_demo_upload_progress_reaches_readyz(
    mongodb_uri: str, db: AsyncDatabase[dict[str, Any]], tmp_path: Path
) -> None:
    settings = Settings(
        mongodb_uri=mongodb_uri,
        cloudinary_url=None,
        db=db.name,
        data_dir=tmp_path,
        demo=True,
        demo_products=50,
        port=free_port(),  # where the emulator's upload notifications go: nowhere
    )
    async with serve(create_app(settings)) as client:
        deadline = time.monotonic() + 60
        while True:
            body = (await client.get("/readyz")).json()
            if body.get("demoMedia", {}).get("total"):
                break
            assert time.monotonic() < deadline, body
            await asyncio.sleep(0.05)
        assert body["status"] == "ready"
        media = body["demoMedia"]
        assert 0 <= media["uploaded"] < media["total"]
        assert media["total"] > 250  # every picture of 50 products, and the placeholders
        # GraphiQL's default query opens with the same news.
        page = await client.get("/graphql", headers={"accept": "text/html"})
        assert "# Demo media are still uploading (" in page.text
        assert f" of {media['total']}): until its pictures arrive" in page.text


# --- logs (issue 10, item 10) ---------------------------------------------------------------


async def test_a_new_catalog_is_scored_without_blaming_the_channel_profiles(
    db: AsyncDatabase[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    services = services_for(catalog)
    caplog.set_level(logging.INFO, logger="gateway.app")
    await refresh_stale_readiness(services)
    count = await catalog.products.count_documents({})
    assert [r.getMessage() for r in caplog.records if r.name == "gateway.app"] == [
        f"readiness scored for {count} products that had no stored scores"
    ]
    caplog.clear()
    await refresh_stale_readiness(services)  # nothing stale: nothing said
    assert [r for r in caplog.records if r.name == "gateway.app"] == []
    await catalog.products.update_many(
        {}, {"$set": {"readiness.web.rulesHash": "an older channels.toml"}}
    )
    await refresh_stale_readiness(services)
    assert [r.getMessage() for r in caplog.records if r.name == "gateway.app"] == [
        f"readiness recomputed for {count} products (channel profiles changed)"
    ]


async def test_every_request_gets_one_access_log_line(
    settings: Settings, db: AsyncDatabase[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    await load_small_catalog(Catalog(db))
    caplog.set_level(logging.INFO, logger="gateway.access")
    async with serve(create_app(settings)) as client:
        await client.post(
            "/graphql",
            json={"query": "query OneProduct { products(first: 1) { totalCount } }"},
            headers={"x-request-id": "req-42"},
        )
        await client.post(
            "/graphql",
            json={
                "query": "query A { products(first: 1) { totalCount } } query B { __typename }",
                "operationName": "B",
            },
            headers={"x-request-id": "req-43"},
        )
        await client.get("/healthz", headers={"x-request-id": "req-44"})
        await client.get("/nowhere", headers={"x-request-id": "req-45"})
    lines = [r for r in caplog.records if r.name == "gateway.access"]
    assert [r.getMessage().split(" ms ")[1] for r in lines] == [
        "id=req-42 key=anonymous op=OneProduct",
        "id=req-43 key=anonymous op=B",
        "id=req-44",
        "id=req-45",
    ]
    first = lines[0].getMessage()
    assert first.startswith("POST /graphql 200 ")
    assert float(first.split()[3]) > 0
    assert lines[3].getMessage().startswith("GET /nowhere 404 ")
    assert [getattr(r, "request_id", None) for r in lines] == [
        "req-42",
        "req-43",
        "req-44",
        "req-45",
    ]


async def test_quiet_paths_are_logged_only_when_they_fail(caplog: pytest.LogCaptureFixture) -> None:
    """The notifications of the gateway's own emulator: one per demo picture, logged on failure."""

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        status = 200 if scope["query_string"] == b"ok" else 401
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = AccessLogMiddleware(answer, quiet_paths=frozenset({"/webhooks/cloudinary"}))
    caplog.set_level(logging.INFO, logger="gateway.access")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await client.post("/webhooks/cloudinary?ok")
        await client.post("/webhooks/cloudinary?forged")
        await client.get("/healthz?ok")
    lines = [r.getMessage().split(" ms ")[0] for r in caplog.records if r.name == "gateway.access"]
    assert [line.rsplit(" ", 1)[0] for line in lines] == [
        "POST /webhooks/cloudinary 401",
        "GET /healthz 200",
    ]


async def test_the_access_log_can_be_switched_off(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.access")
    async with serve(create_app(settings.model_copy(update={"access_log": False}))) as client:
        assert (await client.get("/healthz")).status_code == 200
    assert [r for r in caplog.records if r.name == "gateway.access"] == []
