"""The GraphQL multipart request spec on /graphql: files put into the variables at the paths
'map' names; a preflight header against CSRF; 400 for malformed requests, 413 above the
upload limit."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import Settings
from resolvers.db import Catalog
from resolvers.imports.store import COLLECTION
from tests.http_helpers import api_key
from tests.import_helpers import IMPORT, PREFLIGHT, Db, finished, import_client, upload
from tests.live_server import live_server
from tests.resolvers.imports.fixtures import jsonl, prepared, product

pytestmark = pytest.mark.indexed

GQL = "application/graphql-response+json"
FILE = jsonl([product("P-1")])
OPERATIONS = json.dumps({"query": IMPORT, "variables": {"input": {"file": None}}})
MAP = json.dumps({"0": ["variables.input.file"]})
LIMIT = 4096


@pytest.fixture
async def client(settings: Settings, db: Db) -> AsyncIterator[httpx.AsyncClient]:
    await prepared(Catalog(db))
    async with import_client(settings, db, max_upload_bytes=LIMIT) as http:
        yield http


@pytest.fixture
async def editor(db: Db, settings: Settings) -> dict[str, str]:
    return await api_key(db, "editor", settings)


async def post(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: dict[str, str],
    files: dict[str, Any] | None = None,
) -> httpx.Response:
    return await client.post(
        "/graphql",
        data=data,
        files=files if files is not None else {"0": ("products.jsonl", FILE)},
        headers={"accept": GQL, **PREFLIGHT, **headers},
    )


def message(response: httpx.Response) -> str:
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    text: str = error["message"]
    return text


async def test_the_file_reaches_the_mutation_at_its_mapped_path(
    client: httpx.AsyncClient, editor: dict[str, str]
) -> None:
    response = await post(client, editor, {"operations": OPERATIONS, "map": MAP})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GQL}; charset=utf-8"
    job = response.json()["data"]["productImport"]["job"]
    assert (
        job["filename"],
        job["format"],
        job["status"] in ("QUEUED", "RUNNING", "SUCCEEDED"),
    ) == (
        "products.jsonl",
        "JSONL",
        True,
    )


@pytest.mark.parametrize(
    ("data", "files", "expected"),
    [
        ({"operations": "{", "map": MAP}, None, "'operations' is not valid JSON"),
        ({"operations": OPERATIONS, "map": "[1]"}, None, "'map' must be a JSON object"),
        ({"map": MAP, "operations": OPERATIONS}, None, "first fields are 'operations' then 'map'"),
        ({"operations": OPERATIONS}, None, "first fields are 'operations' then 'map'"),
        (
            {"operations": f"[{OPERATIONS}]", "map": MAP},
            None,
            "Batched operations are not supported",
        ),
        (
            {"operations": OPERATIONS, "map": json.dumps({"0": ["variables.input.file"], "1": []})},
            None,
            "'map' names file '1', which the request lacks",
        ),
        (
            {"operations": OPERATIONS, "map": json.dumps({"0": ["variables.input.nope"]})},
            None,
            "'map' path 'variables.input.nope' is not in the variables",
        ),
        (
            {"operations": OPERATIONS, "map": json.dumps({"0": ["query"]})},
            None,
            "must start with 'variables.'",
        ),
        (
            {
                "operations": json.dumps({"query": IMPORT, "variables": {"input": {"file": "x"}}}),
                "map": MAP,
            },
            None,
            "must be null in the operation's variables",
        ),
        (
            {"operations": OPERATIONS, "map": MAP},
            {"0": ("a.jsonl", FILE), "1": ("b.jsonl", FILE)},
            "File '1' is not named in 'map'",
        ),
        (
            {"operations": json.dumps({"variables": {}}), "map": "{}"},
            None,
            "Missing 'query'",
        ),
    ],
)
async def test_a_malformed_multipart_request_is_400_with_a_message(
    client: httpx.AsyncClient,
    editor: dict[str, str],
    db: Db,
    data: dict[str, str],
    files: dict[str, Any] | None,
    expected: str,
) -> None:
    response = await post(client, editor, data, files)
    assert response.status_code == 400
    assert expected in message(response)
    assert await db[COLLECTION].count_documents({}) == 0


async def test_a_multipart_request_without_a_preflight_header_is_refused(
    client: httpx.AsyncClient, editor: dict[str, str], db: Db
) -> None:
    response = await client.post(
        "/graphql",
        data={"operations": OPERATIONS, "map": MAP},
        files={"0": ("products.jsonl", FILE)},
        headers={"accept": GQL, **editor},
    )
    assert response.status_code == 400
    assert "Apollo-Require-Preflight" in message(response)
    assert await db[COLLECTION].count_documents({}) == 0


async def test_a_request_larger_than_the_upload_limit_is_413(
    client: httpx.AsyncClient, editor: dict[str, str], db: Db
) -> None:
    big = jsonl([product(f"P-{n}") for n in range(20)])
    assert len(big) > LIMIT
    response = await upload(client, editor, big)
    assert response.status_code == 413
    assert str(LIMIT) in response.json()["errors"][0]["message"]

    # Without a Content-Length (chunked), the limit holds while the body streams in.
    whole = client.build_request(
        "POST",
        "/graphql",
        data={"operations": OPERATIONS, "map": MAP},
        files={"0": ("products.jsonl", big)},
    )
    body = whole.read()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1024):
            yield body[start : start + 1024]

    streamed = client.build_request(
        "POST",
        "/graphql",
        content=chunks(),
        headers={**PREFLIGHT, **editor, "content-type": whole.headers["content-type"]},
    )
    assert "content-length" not in streamed.headers
    response = await client.send(streamed)
    assert response.status_code == 413
    assert await db[COLLECTION].count_documents({}) == 0


async def test_too_many_files_are_400(client: httpx.AsyncClient, editor: dict[str, str]) -> None:
    files = {str(n): (f"{n}.jsonl", b"") for n in range(11)}
    mapping = json.dumps({str(n): ["variables.input.file"] for n in range(11)})
    response = await post(client, editor, {"operations": OPERATIONS, "map": mapping}, files)
    assert response.status_code == 400
    assert "Too many files" in message(response)


async def test_an_upload_variable_sent_as_json_is_a_variable_error(
    client: httpx.AsyncClient, editor: dict[str, str], db: Db
) -> None:
    body = {"query": IMPORT, "variables": {"input": {"file": "products.jsonl"}}}
    response = await client.post("/graphql", json=body, headers={"accept": GQL, **editor})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "multipart" in error["message"]
    assert await db[COLLECTION].count_documents({}) == 0


async def test_a_dry_run_through_the_gateway_under_uvicorn_succeeds(
    settings: Settings, db: Db
) -> None:
    """The whole app (middleware, lifespan services) over a socket, as curl would send it."""
    await prepared(Catalog(db))
    editor = await api_key(db, "editor", settings)
    with live_server(create_app(settings)) as live:
        async with httpx.AsyncClient(base_url=live.url) as http:
            job = (await upload(http, editor, FILE)).json()["data"]["productImport"]["job"]
            done = await finished(http, editor, job["id"])
    assert done["status"] == "SUCCEEDED"
    assert done["counts"]["created"] == 1
