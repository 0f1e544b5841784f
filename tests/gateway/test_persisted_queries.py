"""Automatic persisted queries (Apollo's protocol) and the safelist, in process and over HTTP."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.cli.operations import default_manifest, read_manifest
from gateway.persisted_queries import (
    PersistedQueries,
    PersistedQueryError,
    PersistedQueryOptions,
)
from gateway.settings import Settings
from resolvers.access import Principal, load_roles
from resolvers.db import Catalog, persisted_query_indexes
from resolvers.persisted_queries import PersistedQueryStore, query_hash
from tests.command_counter import CommandCounter
from tests.fixtures.small_catalog import load_small_catalog
from tests.http_helpers import api_key, serve

GQL = "application/graphql-response+json"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
QUERY = 'query One { product(sku: "NW-RUN-001") { sku } }'
SHA = query_hash(QUERY)
ROLES = load_roles(Settings().roles_path)
STOREFRONT = Principal.anonymous(ROLES.roles["storefront"])
VIEWER = Principal.anonymous(ROLES.roles["viewer"])


def hashed(sha: str = SHA) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha}}


@pytest.fixture
async def store(db: Any) -> PersistedQueryStore:
    collection = Catalog(db).persisted_queries
    await collection.create_indexes(persisted_query_indexes())
    return PersistedQueryStore(collection)


async def test_apq_round_trip_and_commands(
    store: PersistedQueryStore, db_name: str, command_counter: CommandCounter
) -> None:
    persisted = PersistedQueries()
    with command_counter.record(db_name) as unknown, pytest.raises(PersistedQueryError) as missing:
        await persisted.query_text("", hashed(), STOREFRONT, store, NOW)
    assert (missing.value.message, missing.value.code) == (
        "PersistedQueryNotFound",
        "PERSISTED_QUERY_NOT_FOUND",
    )
    assert unknown.names() == {"find:persisted_queries": 1}

    with command_counter.record(db_name) as registering:
        assert await persisted.query_text(QUERY, hashed(), STOREFRONT, store, NOW) == QUERY
    assert registering.names() == {"update:persisted_queries": 1}

    with command_counter.record(db_name) as cached:
        assert await persisted.query_text("", hashed(), STOREFRONT, store, NOW) == QUERY
        assert await persisted.query_text(QUERY, hashed(), STOREFRONT, store, NOW) == QUERY
    assert len(cached) == 0  # this process knows it now

    replica = PersistedQueries()  # another process: MongoDB once, then its own cache
    with command_counter.record(db_name) as elsewhere:
        assert await replica.query_text("", hashed(), STOREFRONT, store, NOW) == QUERY
        assert await replica.query_text("", hashed(), STOREFRONT, store, NOW) == QUERY
    assert elsewhere.names() == {"find:persisted_queries": 1}


@pytest.mark.parametrize(
    ("query", "extensions", "message"),
    [
        ("query Two { __typename }", hashed(), "provided sha does not match query"),
        (QUERY, {"persistedQuery": {"version": 2, "sha256Hash": SHA}}, "Unsupported"),
        (QUERY, {"persistedQuery": {"version": 1, "sha256Hash": SHA.upper()}}, "64 lower-case"),
        (QUERY, {"persistedQuery": "yes"}, "must be an object"),
    ],
)
async def test_bad_persisted_queries(
    store: PersistedQueryStore, query: str, extensions: dict[str, Any], message: str
) -> None:
    with pytest.raises(PersistedQueryError) as refused:
        await PersistedQueries().query_text(query, extensions, STOREFRONT, store, NOW)
    assert refused.value.status == 400
    assert message in refused.value.message


async def test_large_queries_run_but_are_not_stored(
    store: PersistedQueryStore, db_name: str, command_counter: CommandCounter
) -> None:
    persisted = PersistedQueries(PersistedQueryOptions(max_query_bytes=256))
    large = "query Large { " + " ".join(["__typename"] * 40) + " }"
    with command_counter.record(db_name) as recorded:
        text = await persisted.query_text(large, hashed(query_hash(large)), VIEWER, store, NOW)
    assert text == large
    assert len(recorded) == 0


async def test_safelist_log_and_enforce(
    store: PersistedQueryStore,
    db_name: str,
    command_counter: CommandCounter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    manifest = read_manifest(default_manifest())
    await store.register_manifest(manifest, NOW)
    listed = manifest[0].body
    clock = [0.0]

    def held(mode: str) -> PersistedQueries:
        options = PersistedQueryOptions(safelist=mode, safelist_refresh_s=30)  # type: ignore[arg-type]
        return PersistedQueries(options, monotonic=lambda: clock[0])

    logging_only = held("log")
    with caplog.at_level(logging.WARNING, logger="gateway.persisted_queries"):
        assert await logging_only.query_text(QUERY, None, STOREFRONT, store, NOW) == QUERY
    assert "operation not in the safelist run by anonymous (role storefront): operation 'One'" in (
        caplog.text
    )

    enforcing = held("enforce")
    with command_counter.record(db_name) as recorded:
        assert await enforcing.query_text(listed, None, STOREFRONT, store, NOW) == listed
        with pytest.raises(PersistedQueryError) as refused:
            await enforcing.query_text(QUERY, hashed(), STOREFRONT, store, NOW)
        # Roles not held to the safelist run anything.
        assert await enforcing.query_text(QUERY, None, VIEWER, store, NOW) == QUERY
    assert refused.value.status == 403
    assert refused.value.code == "QUERY_NOT_IN_SAFELIST"
    assert "operation 'One'" in refused.value.message
    # One read of the safelist's ids; the refused query was not registered.
    assert recorded.names() == {"find:persisted_queries": 1}

    clock[0] = 31.0  # past the refresh interval: read again, once
    with command_counter.record(db_name) as refreshed:
        for _ in range(3):
            await enforcing.query_text(listed, None, STOREFRONT, store, NOW)
    assert refreshed.names() == {"find:persisted_queries": 1}


@asynccontextmanager
async def gateway(
    settings: Settings, db: Any, *, load: bool = True, **update: Any
) -> AsyncIterator[httpx.AsyncClient]:
    if load:
        await load_small_catalog(Catalog(db))
    async with serve(create_app(settings.model_copy(update=update))) as client:
        yield client


async def test_apq_over_http(settings: Settings, db: Any) -> None:
    """The issue's failure: a hash-only request answered 400 "Missing 'query'"."""
    async with gateway(settings, db) as client:
        for method in ("GET", "POST"):
            missing = await _send(client, method, {"extensions": hashed()})
            assert missing.status_code == 404
            assert missing.json() == {
                "errors": [
                    {
                        "message": "PersistedQueryNotFound",
                        "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
                    }
                ]
            }
        legacy = await client.post(
            "/graphql", json={"extensions": hashed()}, headers={"accept": "application/json"}
        )
        assert legacy.status_code == 200
        assert legacy.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

        registered = await _send(client, "POST", {"query": QUERY, "extensions": hashed()})
        assert registered.json()["data"] == {"product": {"sku": "NW-RUN-001"}}
        for method in ("GET", "POST"):
            hit = await _send(client, method, {"extensions": hashed()})
            assert hit.json()["data"] == {"product": {"sku": "NW-RUN-001"}}
        cached = await _send(client, "GET", {"extensions": hashed()})
        assert cached.headers["cache-control"].startswith("public, max-age=")

        mismatch = await _send(client, "POST", {"query": "{ __typename }", "extensions": hashed()})
        assert mismatch.status_code == 400
        assert mismatch.json()["errors"][0]["message"] == "provided sha does not match query"

    async with gateway(settings, db, load=False, persisted_queries=False) as client:
        off = await _send(client, "POST", {"extensions": hashed()})
    assert off.status_code == 400
    assert off.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"


async def test_safelist_enforced_over_http(settings: Settings, db: Any) -> None:
    manifest = read_manifest(default_manifest())
    await PersistedQueryStore(Catalog(db).persisted_queries).register_manifest(manifest, NOW)
    categories = next(op for op in manifest if op.name == "CategoryTree")
    async with gateway(settings, db, safelist="enforce") as client:
        refused = await _send(client, "POST", {"query": QUERY})
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["extensions"]["code"] == "QUERY_NOT_IN_SAFELIST"
        # By hash alone, as a client built with the manifest sends it.
        listed = await _send(client, "GET", {"extensions": hashed(categories.id)})
        assert listed.status_code == 200
        assert "categories" in listed.json()["data"]
        viewer = await api_key(db, "viewer", settings)
        free = await _send(client, "POST", {"query": QUERY}, viewer)
        assert free.status_code == 200


async def test_several_operations_need_an_operation_name(settings: Settings, db: Any) -> None:
    """The issue's failure: the first of two operations ran silently."""
    two = 'query A { __typename } query B { product(sku: "NW-RUN-001") { sku } }'
    async with gateway(settings, db) as client:
        refused = await _send(client, "POST", {"query": two})
        chosen = await _send(client, "POST", {"query": two, "operationName": "B"})
        one = await _send(
            client, "POST", {"query": "query A { ...F } fragment F on Query { query: __typename }"}
        )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "operationName" in refused.json()["errors"][0]["message"]
    assert chosen.json()["data"] == {"product": {"sku": "NW-RUN-001"}}
    assert one.json()["data"] == {"query": "Query"}  # one operation, and a fragment


async def test_locale_fallbacks_can_be_switched_off(settings: Settings, db: Any) -> None:
    query = '{ product(sku: "NW-RUN-001") { name(locale: "de-AT") } }'
    async with gateway(settings, db) as client:
        reported = await _send(client, "POST", {"query": query})
        quiet = await _send(
            client, "POST", {"query": query, "extensions": {"localeFallbacks": False}}
        )
        quiet_get = await _send(
            client, "GET", {"query": query, "extensions": {"localeFallbacks": False}}
        )
        bad = await _send(client, "POST", {"query": query, "extensions": {"localeFallbacks": 0}})
    assert reported.json()["extensions"]["localeFallbacks"]
    # extensions keep only the price (extensions.cost, docs/edge.md).
    assert quiet.json()["data"] == reported.json()["data"]
    assert quiet_get.json()["data"] == quiet.json()["data"]
    assert set(quiet.json()["extensions"]) == set(quiet_get.json()["extensions"]) == {"cost"}
    assert bad.status_code == 400


async def _send(
    client: httpx.AsyncClient,
    method: str,
    payload: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    import json

    headers = {"accept": GQL, **(headers or {})}
    if method == "POST":
        return await client.post("/graphql", json=payload, headers=headers)
    params = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in payload.items()}
    return await client.get("/graphql", params=params, headers=headers)
