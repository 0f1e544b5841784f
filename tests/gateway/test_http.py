"""GraphQL over HTTP: the spec's status codes and media types, health endpoints, request ids."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from starlette.requests import Request

from gateway.app import create_app, readyz
from gateway.settings import Settings
from resolvers.db import Catalog
from tests.fixtures.small_catalog import load_small_catalog
from tests.graphql_helpers import services_for
from tests.http_helpers import api_key, serve

pytestmark = pytest.mark.indexed

GQL = "application/graphql-response+json"
QUERY = '{ product(sku: "NW-RUN-001") { sku } }'


@pytest.fixture
async def client(settings: Settings, db: Any) -> AsyncIterator[httpx.AsyncClient]:
    await load_small_catalog(Catalog(db))
    async with serve(create_app(settings)) as http:
        yield http


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


async def test_post_query(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": QUERY}, headers={"accept": GQL})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GQL}; charset=utf-8"
    assert response.json()["data"] == {"product": {"sku": "NW-RUN-001"}}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, GQL),
        ("*/*", "application/json"),
        (f"*/*, {GQL}", GQL),
        ("application/json", "application/json"),
        (f"application/json, {GQL}", GQL),
        (f"application/json;q=1, {GQL};q=0.5", "application/json"),
        ("application/json; charset=utf-8", "application/json"),
    ],
)
async def test_accept_negotiation(
    client: httpx.AsyncClient, accept: str | None, expected: str
) -> None:
    headers = {"accept": accept} if accept else {}
    request = client.build_request("POST", "/graphql", json={"query": QUERY}, headers=headers)
    if accept is None:
        del request.headers["accept"]
    response = await client.send(request)
    assert response.status_code == 200
    assert media_type(response) == expected


async def test_unacceptable_accept_is_406(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": QUERY}, headers={"accept": "text/xml"})
    assert response.status_code == 406


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ product(sku: ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query($n: Int!) { products(first: $n) { totalCount } }", {"n": "ten"}, "BAD_USER_INPUT"),
        ("query($n: Int!) { products(first: $n) { totalCount } }", None, "BAD_USER_INPUT"),
        # An unknown channel is refused before execution (schema.known_channels).
        (
            'query($c: String!) { product(sku: "x") { readiness(channel: $c) { score } } }',
            {"c": "tv"},
            "BAD_USER_INPUT",
        ),
    ],
)
async def test_request_errors(
    client: httpx.AsyncClient, query: str, variables: Any, code: str
) -> None:
    body = {"query": query, "variables": variables}
    response = await client.post("/graphql", json=body, headers={"accept": GQL})
    assert response.status_code == 400
    assert "data" not in response.json()
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == [code]
    # The legacy media type keeps the pre-2025 behaviour: 200 for a well-formed request.
    legacy = await client.post("/graphql", json=body, headers={"accept": "application/json"})
    assert legacy.status_code == 200
    assert media_type(legacy) == "application/json"
    assert legacy.json()["errors"][0]["extensions"]["code"] == code
    assert "data" not in legacy.json()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "query A { __typename }", "operationName": "B"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": ""}, "GRAPHQL_PARSE_FAILED"),
    ],
)
async def test_unexecutable_requests_follow_the_media_type(
    client: httpx.AsyncClient, body: dict[str, Any], code: str
) -> None:
    new = await client.post("/graphql", json=body, headers={"accept": GQL})
    assert (new.status_code, media_type(new)) == (400, GQL)
    legacy = await client.post("/graphql", json=body, headers={"accept": "application/json"})
    assert (legacy.status_code, media_type(legacy)) == (200, "application/json")
    assert legacy.json()["errors"][0]["extensions"]["code"] == code


async def test_http_errors_answer_in_the_negotiated_media_type(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        content=b"{bad",
        headers={"content-type": "application/json", "accept": "application/json"},
    )
    assert (response.status_code, media_type(response)) == (400, "application/json")


async def test_field_errors_keep_partial_data_and_200(client: httpx.AsyncClient) -> None:
    query = '{ product(sku: "NW-RUN-001") { sku name(locale: "xx-XX") } }'
    response = await client.post("/graphql", json={"query": query}, headers={"accept": GQL})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"product": {"sku": "NW-RUN-001", "name": None}}
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["path"] == ["product", "name"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"variables": {}}', "Missing 'query'"),
        (b'{"query": 42}', "'query' must be a string"),
        (b'{"query": "{ __typename }", "variables": [1]}', "'variables' must be a JSON object"),
        (b'{"query": "{ __typename }", "operationName": 1}', "'operationName' must be a string"),
        (b'{"query": "{ __typename }", "extensions": "x"}', "'extensions' must be a JSON object"),
        (b"\xff\xfe", "not valid JSON"),
        (b'{"query": "{ __typename }", "variables": {"n": ' + b"9" * 5000 + b"}}", "not valid"),
        (b'{"query": "{ __typename }", "variables": ' + b"[" * 100_000 + b"}", "not valid JSON"),
    ],
)
async def test_malformed_requests_are_400_never_500(
    client: httpx.AsyncClient, content: bytes, message: str
) -> None:
    response = await client.post(
        "/graphql", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert message in response.json()["errors"][0]["message"]
    assert "data" not in response.json()


async def test_wrong_content_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=QUERY, headers={"content-type": "application/graphql"}
    )
    assert response.status_code == 415


async def test_oversized_body_is_413(settings: Settings) -> None:
    small = settings.model_copy(update={"max_body_bytes": 1024})
    async with serve(create_app(small)) as http:
        response = await http.post("/graphql", json={"query": "{ __typename }" + " " * 2000})
    assert response.status_code == 413


async def test_get_runs_queries(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query($sku: ID!) { product(sku: $sku) { sku } }",
            "variables": json.dumps({"sku": "NW-RUN-002"}),
        },
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"product": {"sku": "NW-RUN-002"}}


async def test_get_refuses_mutations_with_405(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "mutation { x }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_get_with_bad_variables_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": QUERY, "variables": "{oops"})
    assert response.status_code == 400


async def test_other_methods_are_405(client: httpx.AsyncClient) -> None:
    assert (await client.put("/graphql", json={"query": QUERY})).status_code == 405


async def test_browsers_get_graphiql_with_a_demo_query(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html,*/*"})
    assert response.status_code == 200
    assert media_type(response) == "text/html"
    assert "GraphiQL" in response.text
    assert "products(first: 5" in response.text


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "writes": "ok"})
    writes = await client.get("/readyz/writes")
    assert (writes.status_code, writes.json()) == (200, {"status": "ready"})


async def test_readiness_is_503_without_a_primary() -> None:
    dead: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        "mongodb://127.0.0.1:1/", serverSelectionTimeoutMS=200
    )
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/readyz",
        "headers": [],
        "state": {"mongo_client": dead, "services": services_for(Catalog(dead["readyz"]))},
    }
    try:
        response = await readyz(Request(scope))
    finally:
        await dead.close()
    assert response.status_code == 503


async def test_request_id_is_echoed_and_masks_carry_it(
    client: httpx.AsyncClient, db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    await db["products"].insert_one({"sku": "BROKEN", "status": "bogus"})
    # A key that sees every status: the storefront role never sees this product at all.
    response = await client.post(
        "/graphql",
        json={"query": '{ product(sku: "BROKEN") { sku } }'},
        headers={"x-request-id": "req-123", **await api_key(db, "viewer")},
    )
    assert response.headers["x-request-id"] == "req-123"
    assert response.json()["errors"][0]["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": "req-123",
    }
    # The log has what the response hides, under the same id.
    logged = [r for r in caplog.records if r.name == "gateway.graphql"]
    assert [r.getMessage().split(":")[0] for r in logged] == ["request req-123"]
    assert logged[0].exc_info
    assert "bogus" in str(logged[0].exc_info[1])
    generated = await client.post(
        "/graphql", json={"query": QUERY}, headers={"x-request-id": "bad id with spaces"}
    )
    assert len(generated.headers["x-request-id"]) == 32


async def test_a_requests_documents_are_freed_when_it_ends(client: httpx.AsyncClient) -> None:
    """Nothing the request loaded waits for the cycle collector (a pause on a later request)."""
    import gc

    query = "{ products(first: 20) { edges { node { sku attributes { code } } } } }"
    gc.collect()
    gc.disable()
    try:
        response = await client.post("/graphql", json={"query": query})
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        products = [o for o in gc.garbage if isinstance(o, dict) and "sku" in o and "name" in o]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert response.status_code == 200
    assert len(response.json()["data"]["products"]["edges"]) > 1
    assert products == []
