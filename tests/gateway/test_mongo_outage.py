"""MongoDB goes away under a running gateway: 503 with Retry-After and UNAVAILABLE, no traceback.

The module runs its own mongod (the session's is shared with every other test) and stops it
once the gateway has served a first request.
"""

import asyncio
import json
import logging
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from gateway.app import after_start, create_app
from gateway.embedded_mongo import EmbeddedMongo, embedded_mongo, find_mongod
from gateway.settings import Settings
from resolvers.db import Catalog
from tests.conftest import TEST_KEY_PEPPER, scratch_dir
from tests.fixtures.small_catalog import load_small_catalog
from tests.http_helpers import serve

pytestmark = pytest.mark.indexed

GQL = "application/graphql-response+json"
DB = "outage"


@pytest.fixture(scope="module")
def mongod() -> Iterator[EmbeddedMongo]:
    binary = find_mongod(
        Path(os.environ["CATALOG_MONGOD"]) if "CATALOG_MONGOD" in os.environ else None
    )
    with (
        tempfile.TemporaryDirectory(prefix="catalog-outage-", dir=scratch_dir()) as dbpath,
        embedded_mongo(binary, Path(dbpath)) as server,
    ):
        yield server


@pytest.fixture(scope="module")
async def client(
    mongod: EmbeddedMongo, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway whose mongod was stopped after it answered once."""
    loader: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongod.uri, tz_aware=True)
    try:
        await load_small_catalog(Catalog(loader[DB]))
    finally:
        await loader.close()
    settings = Settings(
        mongodb_uri=mongod.uri,
        db=DB,
        data_dir=tmp_path_factory.mktemp("outage") / "data",
        # A short server selection keeps each failed request (and so the test) quick.
        mongo_timeout_ms=200,
        key_pepper=TEST_KEY_PEPPER,
        # What is tested is requests meeting the outage: background work meeting it too (the
        # follower's change stream, its heartbeats, the cache invalidation, the Cloudinary
        # sweep) would log on its own schedule, into the requests' captured logs.
        readiness_follower=False,
        cache_invalidation=False,
        dam_reconcile=False,
    )
    async with serve(create_app(settings)) as http:
        answered = await post(http, '{ product(sku: "NW-RUN-001") { sku } }')
        assert answered.json()["data"] == {"product": {"sku": "NW-RUN-001"}}
        # The lifespan's background rescoring must not be the one to meet the outage.
        await asyncio.gather(*background_tasks(after_start))
        mongod.stop()
        yield http
        # pymongo leaks the socket of a monitor's connect when the client closes while that
        # connect is pending (CancelledError skips its close): close against a live server.
        await restart(mongod, http)


async def restart(mongod: EmbeddedMongo, client: httpx.AsyncClient) -> httpx.Response:
    """Start ``mongod`` again (if stopped) and return the gateway's first 200 after it."""
    if mongod.process is None:
        await asyncio.to_thread(mongod.start)
    # The driver notices the server again at its next heartbeat (every 0.5 s while unknown).
    for _ in range(100):
        response = await post(client, '{ product(sku: "NW-RUN-001") { sku } }')
        if response.status_code == 200:
            return response
    raise AssertionError(f"still {response.status_code} after mongod restarted")


def background_tasks(function: Callable[..., Any]) -> list[asyncio.Task[Any]]:
    return [
        t
        for t in asyncio.all_tasks()
        if getattr(t.get_coro(), "__name__", None) == function.__name__
    ]


async def post(client: httpx.AsyncClient, query: str, accept: str = GQL) -> httpx.Response:
    return await client.post("/graphql", json={"query": query}, headers={"accept": accept})


def assert_unavailable(error: dict[str, Any], path: list[str]) -> None:
    assert error["message"] == "The catalog database is unavailable; retry later"
    assert error["path"] == path
    assert error["extensions"]["code"] == "UNAVAILABLE"
    assert error["extensions"]["requestId"]


@pytest.mark.parametrize("accept", [GQL, "application/json"])
@pytest.mark.parametrize(
    ("query", "data"),
    [
        # A non-null root field: data is null.
        ("{ products { totalCount } }", None),
        # A nullable one: data holds only its null.
        ('{ product(sku: "NW-RUN-001") { sku } }', {"product": None}),
    ],
)
async def test_nothing_answered_is_503_with_retry_after(
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    query: str,
    data: dict[str, Any] | None,
    accept: str,
) -> None:
    with caplog.at_level(logging.WARNING):
        response = await post(client, query, accept)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["data"] == data
    [error] = body["errors"]
    assert_unavailable(error, [next(iter(data or {"products": 0}))])
    # One warning line naming the cause, no traceback.
    [record] = [r for r in caplog.records if r.name == "gateway.graphql"]
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert "MongoDB unavailable: " in record.getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_root_field_that_answered_keeps_200(client: httpx.AsyncClient) -> None:
    """Channels come from channels.toml, not MongoDB: they answer, the product's error says
    UNAVAILABLE, and the status stays 200 (partial results)."""
    response = await post(client, '{ channels { name } product(sku: "NW-RUN-001") { sku } }')
    assert response.status_code == 200
    assert "retry-after" not in response.headers
    body = response.json()
    assert body["data"]["product"] is None
    assert {"name": "web"} in body["data"]["channels"]
    [error] = body["errors"]
    assert_unavailable(error, ["product"])


async def test_get_too(client: httpx.AsyncClient) -> None:
    params = {
        "query": "query($s: ID) { product(sku: $s) { sku } }",
        "variables": json.dumps({"s": "x"}),
    }
    response = await client.get("/graphql", params=params, headers={"accept": GQL})
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"


async def test_answers_again_once_mongod_is_back(
    client: httpx.AsyncClient, mongod: EmbeddedMongo
) -> None:
    response = await restart(mongod, client)
    assert response.json()["data"] == {"product": {"sku": "NW-RUN-001"}}
