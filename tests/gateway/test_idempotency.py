"""Idempotency-Key and X-Actor over HTTP: a repeated mutation answers its first result without
writing, a reused key with another body is refused, keys are per principal; X-Actor reaches
history, bounded and printable."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from starlette.applications import Starlette
from starlette.routing import Route

from gateway.auth.setup import authenticator
from gateway.graphql_http import GraphQLHTTPHandler
from gateway.services import load_profiles, product_writer
from gateway.settings import Settings
from resolvers.db import Catalog, ensure_indexes
from resolvers.idempotency import Claimed, IdempotencyStore, Refused, Replay
from tests.command_counter import CommandCounter
from tests.graphql_helpers import services_for, shared_schema
from tests.http_helpers import api_key, key_store, serve

Db = AsyncDatabase[dict[str, Any]]

CREATE = """mutation($input: ProductCreateInput!) {
  productCreate(input: $input) {
    product { sku revision updatedAt } revision changes { path after }
    errors { __typename code path message }
  }
}"""
SHOE = {
    "sku": "P-1",
    "brand": "Acme",
    "name": [{"locale": "en-US", "value": "Trail Shoe"}],
    "description": [{"locale": "en-US", "value": "A light trail shoe for long runs."}],
}


@pytest.fixture
async def client(settings: Settings, db: Db) -> AsyncIterator[httpx.AsyncClient]:
    """The /graphql handler over the tests' MongoDB client, whose commands the CommandCounter
    sees (an app's lifespan would open a client of its own)."""
    profiles = load_profiles(settings)
    catalog = Catalog(db)
    await ensure_indexes(catalog, profiles.locales.locales, profiles.channels.names())
    keys = key_store(db, settings)
    services = services_for(
        catalog, settings, api_keys=keys, writer=product_writer(catalog, profiles)
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {"services": services, "authenticator": authenticator(settings, keys, keys.roles)}

    handler = GraphQLHTTPHandler(shared_schema(), settings.max_body_bytes)
    app = Starlette(routes=[Route("/graphql", handler.handle, methods=["POST"])], lifespan=lifespan)
    try:
        async with serve(app) as http:
            yield http
    finally:
        await services.background.aclose()


async def post(
    client: httpx.AsyncClient, headers: dict[str, str], sku: str = "P-1", brand: str = "Acme"
) -> httpx.Response:
    body = {"query": CREATE, "variables": {"input": {**SHOE, "sku": sku, "brand": brand}}}
    return await client.post("/graphql", json=body, headers=headers)


async def counts(db: Db) -> tuple[int, int]:
    catalog = Catalog(db)
    return (
        await catalog.products.count_documents({}),
        await catalog.change_events.count_documents({}),
    )


async def test_a_repeated_mutation_answers_the_first_result_without_writing(
    client: httpx.AsyncClient, db: Db, settings: Settings, command_counter: CommandCounter
) -> None:
    editor = await api_key(db, "editor", settings)
    headers = {**editor, "Idempotency-Key": "create-p1-0001"}
    with command_counter.record(db.name) as claimed:
        first = await post(client, headers)
    assert first.status_code == 200
    # The key costs three commands: is it known, claim it, keep the result.
    assert [c for c in claimed.names().items() if c[0].endswith(":idempotency")] == [
        ("find:idempotency", 1),
        ("insert:idempotency", 1),
        ("update:idempotency", 1),
    ]
    answer = first.json()
    assert answer["data"]["productCreate"]["errors"] == []
    written = await counts(db)
    assert written == (1, 1)
    with command_counter.record(db.name) as replay:
        again = await post(client, headers)
    # updatedAt and all: the stored first result (extensions.cost has the budget of now).
    assert again.json()["data"] == answer["data"]
    assert await counts(db) == written
    # The key's record is cached since the first request: the replay is one read.
    assert replay.names() == Counter({"find:idempotency": 1})

    # Without the key the same request runs again: the SKU is taken now.
    fresh = (await post(client, editor)).json()["data"]["productCreate"]
    assert [e["code"] for e in fresh["errors"]] == ["ALREADY_EXISTS"]


async def test_a_reused_key_with_another_body_is_refused(
    client: httpx.AsyncClient, db: Db, settings: Settings
) -> None:
    headers = {**await api_key(db, "editor", settings), "Idempotency-Key": "k-2"}
    assert (await post(client, headers)).json()["data"]["productCreate"]["errors"] == []
    written = await counts(db)
    refused = await post(client, headers, sku="P-2")
    assert refused.status_code == 200
    payload = refused.json()["data"]["productCreate"]
    assert payload["product"] is None
    assert payload["errors"] == [
        {
            "__typename": "InputError",
            "code": "IDEMPOTENCY_KEY_REUSED",
            "path": None,
            "message": "this Idempotency-Key was used with another request body; use a new key",
        }
    ]
    assert await counts(db) == written


async def test_keys_are_scoped_per_principal(
    client: httpx.AsyncClient, db: Db, settings: Settings
) -> None:
    ed = {**await api_key(db, "editor", settings), "Idempotency-Key": "shared"}
    lead = {**await api_key(db, "lead", settings), "Idempotency-Key": "shared"}
    assert (await post(client, ed)).json()["data"]["productCreate"]["errors"] == []
    # The lead's request runs (it is not answered with the editor's result): the SKU is taken.
    theirs = (await post(client, lead)).json()["data"]["productCreate"]
    assert [e["code"] for e in theirs["errors"]] == ["ALREADY_EXISTS"]


async def test_x_actor_is_recorded_in_history(
    client: httpx.AsyncClient, db: Db, settings: Settings
) -> None:
    headers = {**await api_key(db, "editor", settings), "X-Actor": " jane.doe@example.com "}
    assert (await post(client, headers)).json()["data"]["productCreate"]["errors"] == []
    event = await Catalog(db).change_events.find_one({"sku": "P-1"})
    assert event is not None
    assert event["actor"]["endUser"] == "jane.doe@example.com"


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [
        ("X-Actor", "x" * 201, "X-Actor is longer than 200 characters"),
        ("X-Actor", "jane\tdoe", "X-Actor must be printable text"),
        ("Idempotency-Key", "k" * 256, "Idempotency-Key is longer than 255 characters"),
    ],
)
async def test_unbounded_or_unprintable_headers_are_400_before_anything_runs(
    client: httpx.AsyncClient, db: Db, settings: Settings, header: str, value: str, message: str
) -> None:
    headers = {**await api_key(db, "editor", settings), header: value}
    refused = await post(client, headers)
    assert refused.status_code == 400
    assert refused.json()["errors"] == [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]
    assert await counts(db) == (0, 0)


async def test_an_expired_key_is_claimed_afresh(db: Db) -> None:
    store = IdempotencyStore(Catalog(db).idempotency, ttl=timedelta(hours=24))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    claim = await store.begin("ed", "k", "body", now)
    assert isinstance(claim, Claimed)
    assert await store.begin("ed", "k", "body", now) == Refused("in_use")
    await store.finish(claim, {"revision": 1})
    assert await store.begin("ed", "k", "body", now + timedelta(hours=23)) == Replay(
        {"revision": 1}
    )
    # The TTL monitor may not have run yet: an expired record is gone all the same.
    later = await store.begin("ed", "k", "other body", now + timedelta(hours=24))
    assert isinstance(later, Claimed)
    await store.release(later)
    assert await Catalog(db).idempotency.count_documents({}) == 0
