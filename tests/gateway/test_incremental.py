"""@defer and @stream over multipart/mixed: the parts in the format the client's Accept names,
refused (406) when it names none, errors masked and coded in their part, never cached, and
RateLimit-* headers on every answer of a key."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import graphql.execution.incremental as publishing
import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import gateway.incremental as streaming
from gateway.auth.setup import authenticator
from gateway.graphql_http import GraphQLHTTPHandler
from gateway.incremental import WireFormat, accepted_format, incremental_directives
from gateway.settings import Settings
from resolvers.db import Catalog
from schema import build_schema
from tests.command_counter import CommandCounter
from tests.fixtures.small_catalog import load_small_catalog
from tests.graphql_helpers import services_for
from tests.http_helpers import api_key, key_store

Db = AsyncDatabase[dict[str, Any]]
APOLLO = (
    "multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9"
)
MODERN = "multipart/mixed;incrementalSpec=v0.2,application/graphql-response+json"
SKU = "NW-RUN-001"
DEFERRED = (
    f'query Deferred {{ product(sku: "{SKU}") {{ sku name '
    '... @defer(label: "slow") { readiness(channel: "web") { score ready } } } }'
)
WHOLE = (
    f'query Whole {{ product(sku: "{SKU}") {{ sku name '
    'readiness(channel: "web") { score ready } } }'
)


@asynccontextmanager
async def asgi_app(settings: Settings, db: Db) -> AsyncIterator[ASGIApp]:
    """The /graphql handler as an ASGI app with its lifespan's state, as uvicorn calls it."""
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    keys = key_store(db, settings)
    services = services_for(catalog, settings, api_keys=keys)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {"services": services, "authenticator": authenticator(settings, keys, keys.roles)}

    handler = GraphQLHTTPHandler(build_schema(), settings.max_body_bytes)
    app = Starlette(
        routes=[Route("/graphql", handler.handle, methods=["GET", "POST"])], lifespan=lifespan
    )
    try:
        async with app.router.lifespan_context(app) as state:

            async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
                scope["state"] = dict(state or {})
                await app(scope, receive, send)

            yield with_state
    finally:
        await services.background.aclose()


@asynccontextmanager
async def gateway(settings: Settings, db: Db) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_app(settings, db) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


def parts(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON parts of a multipart/mixed body framed as Apollo's parser reads it."""
    assert 'boundary="-"' in response.headers["content-type"]
    body = response.text
    assert body.startswith("\r\n---")
    assert body.endswith("\r\n-----\r\n")
    chunks = body.removesuffix("--\r\n").split("\r\n---")[1:-1]
    found = []
    for chunk in chunks:
        headers, _, payload = chunk.partition("\r\n\r\n")
        assert "content-type: application/json" in headers.lower()
        found.append(json.loads(payload))
    return found


def test_accept_names_the_wire_format() -> None:
    assert accepted_format(APOLLO) is WireFormat.DEFER_20220824
    assert accepted_format(MODERN) is WireFormat.GRAPHQL_17
    assert accepted_format("multipart/mixed") is WireFormat.GRAPHQL_17
    assert accepted_format("application/json") is None
    assert accepted_format("multipart/mixed;q=0, application/json") is None
    assert accepted_format("multipart/mixed;deferSpec=20990101") is None
    assert accepted_format("multipart/mixed;boundary=graphql;subscriptionSpec=1.0") is None


def test_directives_are_found_by_token_not_by_text() -> None:
    assert incremental_directives(DEFERRED) == {"defer"}
    assert incremental_directives("{ products @stream(initialCount: 1) { sku } }") == {"stream"}
    assert incremental_directives('{ product(sku: "@defer") { sku } }') == frozenset()
    assert incremental_directives("{ deferred: __typename }") == frozenset()
    assert incremental_directives("{ @ defer") == {"defer"}


async def test_apollo_format_initial_then_deferred_part(settings: Settings, db: Db) -> None:
    async with gateway(settings, db) as client:
        whole = await client.post("/graphql", json={"query": WHOLE})
        response = await client.post(
            "/graphql", json={"query": DEFERRED}, headers={"accept": APOLLO}
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("multipart/mixed")
    assert "deferSpec=20220824" in response.headers["content-type"]
    assert response.headers["cache-control"] == "private, no-store"
    first, *rest = parts(response)
    assert first["data"] == {
        "product": {"sku": SKU, "name": whole.json()["data"]["product"]["name"]}
    }
    assert first["hasNext"] is True
    assert "pending" not in first
    assert first["extensions"]["cost"]["requestedQueryCost"] > 0
    assert [p["incremental"] for p in rest if "incremental" in p] == [
        [
            {
                "data": {"readiness": whole.json()["data"]["product"]["readiness"]},
                "path": ["product"],
                "label": "slow",
            }
        ]
    ]
    assert rest[-1]["hasNext"] is False


async def test_graphql_17_format_passes_through(settings: Settings, db: Db) -> None:
    async with gateway(settings, db) as client:
        response = await client.post(
            "/graphql", json={"query": DEFERRED}, headers={"accept": MODERN}
        )
    assert "incrementalSpec=v0.2" in response.headers["content-type"]
    first, *rest = parts(response)
    assert first["pending"] == [{"id": "0", "path": ["product"], "label": "slow"}]
    assert rest[-1]["completed"] == [{"id": "0"}]
    assert rest[0]["incremental"][0]["id"] == "0"
    assert set(rest[0]["incremental"][0]["data"]["readiness"]) == {"score", "ready"}


async def test_without_multipart_accept_refused_before_it_runs(
    settings: Settings, db: Db, command_counter: CommandCounter
) -> None:
    async with gateway(settings, db) as client:
        with command_counter.record(db.name) as refused:
            response = await client.post(
                "/graphql",
                json={"query": DEFERRED},
                headers={"accept": "application/graphql-response+json"},
            )
    assert response.status_code == 406
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "multipart/mixed;deferSpec=20220824" in error["message"]
    assert len(refused) == 0


BROKEN = (
    f'query Broken {{ product(sku: "{SKU}") {{ sku '
    '... @defer(label: "bad") { readiness(channel: "web", locale: "xx-XX") { score } } } }'
)


async def test_an_error_in_a_deferred_fragment_reaches_its_part(settings: Settings, db: Db) -> None:
    async with gateway(settings, db) as client:
        apollo = await client.post("/graphql", json={"query": BROKEN}, headers={"accept": APOLLO})
        modern = await client.post("/graphql", json={"query": BROKEN}, headers={"accept": MODERN})
    first, *rest = parts(apollo)
    assert first["data"] == {"product": {"sku": SKU}}
    [failed] = [item for p in rest for item in p.get("incremental", ())]
    assert failed["data"] is None
    assert failed["path"] == ["product"]
    assert failed["label"] == "bad"
    assert [e["extensions"]["code"] for e in failed["errors"]] == ["BAD_USER_INPUT"]
    assert failed["errors"][0]["path"] == ["product", "readiness"]
    assert rest[-1]["hasNext"] is False

    first, *rest = parts(modern)
    assert first["data"] == {"product": {"sku": SKU}}
    [completed] = [item for p in rest for item in p.get("completed", ())]
    assert completed["id"] == "0"
    assert [e["extensions"]["code"] for e in completed["errors"]] == ["BAD_USER_INPUT"]


async def test_stream_of_a_list(settings: Settings, db: Db) -> None:
    query = "{ categories @stream(initialCount: 1) { id } }"
    async with gateway(settings, db) as client:
        whole = await client.post("/graphql", json={"query": "{ categories { id } }"})
        streamed = await client.post("/graphql", json={"query": query}, headers={"accept": MODERN})
        apollo = await client.post("/graphql", json={"query": query}, headers={"accept": APOLLO})
    categories = whole.json()["data"]["categories"]
    assert len(categories) > 1
    first, *rest = parts(streamed)
    assert first["data"] == {"categories": categories[:1]}
    items = [item for p in rest for i in p.get("incremental", ()) for item in i["items"]]
    assert items == categories[1:]
    # deferSpec=20220824 has no @stream.
    assert apollo.status_code == 406
    assert "incrementalSpec=v0.2" in apollo.json()["errors"][0]["message"]


def slow_storefront(settings: Settings, tmp_path: Path) -> Settings:
    """Settings whose storefront bucket refills one request's points a minute, so what is left
    after each request does not depend on how fast the test runs."""
    shipped = settings.roles_path.read_text(encoding="utf-8")
    rate = "rate = { burst = 120, per_minute = 1200 }"
    storefront = shipped.index("[roles.storefront]")
    at = shipped.index(rate, storefront)
    roles = tmp_path / "roles.toml"
    roles.write_text(
        shipped[:at] + "rate = { burst = 120, per_minute = 1 }" + shipped[at + len(rate) :],
        encoding="utf-8",
    )
    return settings.model_copy(update={"roles": roles})


async def test_rate_limit_headers_on_every_answer_of_a_key(
    settings: Settings, db: Db, tmp_path: Path
) -> None:
    query = {"query": f'{{ product(sku: "{SKU}") {{ sku }} }}'}
    settings = slow_storefront(settings, tmp_path)
    async with gateway(settings, db) as client:
        key = await api_key(db, "storefront", settings)
        get = await client.get("/graphql", params=query, headers=key)
        assert get.headers["cache-control"].startswith("public")
        revalidated = await client.get(
            "/graphql", params=query, headers={**key, "if-none-match": get.headers["etag"]}
        )
        assert revalidated.status_code == 304
        post = await client.post("/graphql", json=query, headers=key)
        bad = await client.post("/graphql", json={"query": "{ nope }"}, headers=key)
        streamed = await client.post(
            "/graphql", json={"query": DEFERRED}, headers={**key, "accept": APOLLO}
        )
        anonymous_get = await client.get("/graphql", params=query)
        anonymous_post = await client.post("/graphql", json=query)
    for response in (get, revalidated, post, bad, streamed, anonymous_post):
        assert response.headers["ratelimit-limit"] == "12000", response
        assert int(response.headers["ratelimit-remaining"]) < 12000
        assert int(response.headers["ratelimit-reset"]) >= 1
    # Each request spends 100 points: what is left goes down answer by answer.
    remaining = [int(r.headers["ratelimit-remaining"]) for r in (get, revalidated, post, bad)]
    assert remaining == sorted(remaining, reverse=True)
    assert len(set(remaining)) == 4
    # A CDN keeps anonymous GET answers for every address: no one address's budget on them.
    assert anonymous_get.headers["cache-control"].startswith("public")
    assert "ratelimit-remaining" not in anonymous_get.headers


MANY_DEFERRED = (
    "{ products(first: 20) { edges { node { sku "
    '... @defer { readiness(channel: "web") { score } '
    'mediaManifest(channel: "web") { complete slots { slot url } } } '
    "} } } }"
)


# Where the stream's async generators live: ours, and graphql-core's incremental publisher.
WATCHED_SOURCES = (
    str(Path(streaming.__file__)),
    str(Path(publishing.__file__).parent),
)


def suspended_generators() -> list[str]:
    """The body's and graphql-core's async generators started and neither finished nor
    closed: those the garbage collector would have to close, some time later.

    graphql-core 3.3.2's publisher, once closed, cancels its work queue's tasks but leaves the
    queue's own ``events`` generator suspended at a yield, with nothing left to do: asyncio
    closes it when it is collected. We cannot reach it, so it is not counted.
    """
    loop: Any = asyncio.get_running_loop()
    return [
        generator.ag_code.co_qualname
        for generator in list(loop._asyncgens)  # asyncio's registry of started generators
        if generator.ag_frame is not None
        and generator.ag_code.co_filename.startswith(WATCHED_SOURCES)
        and generator.ag_code.co_qualname != "WorkQueue.events"
    ]


@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
async def test_a_client_gone_mid_stream_leaves_no_work_behind(
    settings: Settings, db: Db, spec_version: str
) -> None:
    """The client goes once the initial part is sent, while deferred fields still run: ASGI 2.3
    servers say so through receive() (Starlette cancels the stream), 2.4 ones (uvicorn) by an
    OSError from the next send. Either way the deferred fields' tasks end with the response."""
    body = json.dumps({"query": MANY_DEFERRED}).encode()
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": spec_version},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"accept", MODERN.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("gateway", 80),
    }
    sent: list[Message] = []
    gone = asyncio.Event()

    asked: list[bool] = []

    async def receive() -> Message:
        if not asked:
            asked.append(True)
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if gone.is_set():
            raise OSError("connection reset by peer")
        sent.append(message)
        if len(sent) == 2:  # the start, the initial part: then the client goes
            gone.set()

    async with asgi_app(settings, db) as app:
        before = asyncio.all_tasks()
        if spec_version == "2.4":
            with pytest.raises(ClientDisconnect):
                await app(scope, receive, send)
        else:
            await app(scope, receive, send)
        left = {t for t in asyncio.all_tasks() - before if not t.done()}
        assert left == set()
        assert suspended_generators() == []
    assert sent[0]["status"] == 200
    initial = json.loads(sent[1]["body"].partition(b"\r\n\r\n")[2].removesuffix(b"\r\n---"))
    assert len(initial["data"]["products"]["edges"]) > 1
    assert initial["hasNext"] is True


async def test_get_and_persisted_queries_stream_uncached(settings: Settings, db: Db) -> None:
    """A GET of published data would be public: streamed, it is private and never a 304; an
    APQ hash names a document with @defer as well as its text does."""
    digest = hashlib.sha256(DEFERRED.encode()).hexdigest()
    persisted = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}})
    async with gateway(settings, db) as client:
        unknown = await client.get(
            "/graphql", params={"extensions": persisted}, headers={"accept": APOLLO}
        )
        registered = await client.get(
            "/graphql",
            params={"query": DEFERRED, "extensions": persisted},
            headers={"accept": APOLLO},
        )
        by_hash = await client.get(
            "/graphql",
            params={"extensions": persisted},
            headers={"accept": APOLLO, "if-none-match": "*"},
        )
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    for response in (registered, by_hash):
        assert response.status_code == 200
        assert response.headers["cache-control"] == "private, no-store"
        assert "etag" not in response.headers
        assert "content-encoding" not in response.headers
        # No shared cache keeps it, so the anonymous caller's budget is told.
        assert "ratelimit-remaining" in response.headers
    # Alike but for extensions.cost.throttleStatus, which changes from request to request.
    without_extensions = [
        [{k: v for k, v in part.items() if k != "extensions"} for part in parts(response)]
        for response in (registered, by_hash)
    ]
    assert without_extensions[0] == without_extensions[1]
    assert [p["hasNext"] for p in parts(by_hash)] == [True, False]


async def test_misused_directives_are_request_errors_in_json(settings: Settings, db: Db) -> None:
    """graphql-core's rules for @defer and @stream run with the others; a document they refuse
    is answered as one JSON response, whatever Accept allowed."""
    refused = {
        "mutation { ... @defer { __typename } }": "cannot be used on root mutation type",
        f'{{ product(sku: "{SKU}") @stream {{ sku }} }}': "cannot be used on non-list field",
        '{ ... @defer(label: "x") { a: __typename } ... @defer(label: "x") { b: __typename } }': (
            "label argument must be unique"
        ),
    }
    async with gateway(settings, db) as client:
        for query, message in refused.items():
            response = await client.post(
                "/graphql", json={"query": query}, headers={"accept": MODERN}
            )
            assert response.status_code == 400, query
            assert response.headers["content-type"].startswith("application/graphql-response+json")
            [error] = response.json()["errors"]
            assert message in error["message"]
            assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        negative = await client.post(
            "/graphql",
            json={"query": "{ categories @stream(initialCount: -1) { id } }"},
            headers={"accept": MODERN},
        )
    body = negative.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["message"] == "initialCount must be a positive integer"
