"""productImport over HTTP: a /graphql handler with the services an import needs, a multipart
request of the GraphQL multipart request spec, and waiting on a job by polling the API."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase
from starlette.applications import Starlette
from starlette.routing import Route

from gateway.auth.setup import authenticator
from gateway.graphql_http import GraphQLHTTPHandler
from gateway.services import load_profiles, product_writer
from gateway.settings import Settings
from resolvers.db import Catalog
from tests.graphql_helpers import services_for, shared_schema
from tests.http_helpers import key_store, serve

Db = AsyncDatabase[dict[str, Any]]
PREFLIGHT = {"Apollo-Require-Preflight": "true"}
IMPORT = """mutation($input: ProductImportInput!) {
  productImport(input: $input) {
    job { id status dryRun errorPolicy format filename checksum }
    errors { __typename code path message }
  }
}"""
JOB = """query($id: ID!, $first: Int!, $after: String) {
  node(id: $id) {
    ... on ImportJob {
      id status dryRun errorPolicy checksum failure actor createdAt finishedAt
      counts { rows created updated unchanged failed written }
      readiness { channel products ready meanScore }
      rowErrors(first: $first, after: $after) {
        totalCount
        edges { cursor node { line sku path code message } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}"""
DONE = ("SUCCEEDED", "FAILED")


@asynccontextmanager
async def import_client(
    settings: Settings, db: Db, max_upload_bytes: int | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The /graphql handler over the tests' MongoDB, with the product writer and the
    validation rules an import uses; its background jobs end with it."""
    profiles = load_profiles(settings)
    catalog = Catalog(db)
    keys = key_store(db, settings)
    services = services_for(
        catalog,
        settings,
        api_keys=keys,
        writer=product_writer(catalog, profiles),
        validation=profiles.validation,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {"services": services, "authenticator": authenticator(settings, keys, keys.roles)}

    handler = GraphQLHTTPHandler(
        shared_schema(),
        settings.max_body_bytes,
        max_upload_bytes if max_upload_bytes is not None else settings.max_upload_bytes,
    )
    app = Starlette(routes=[Route("/graphql", handler.handle, methods=["POST"])], lifespan=lifespan)
    try:
        async with serve(app) as http:
            yield http
    finally:
        await services.background.drain()
        await services.background.aclose()


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    filename: str = "products.jsonl",
    **input: Any,
) -> httpx.Response:
    """productImport with ``data`` as a multipart request: operations, map, then the file."""
    operations = {"query": IMPORT, "variables": {"input": {"file": None, **input}}}
    return await client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (filename, data, "application/octet-stream")},
        headers={**PREFLIGHT, **headers},
    )


async def read_job(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    job_id: str,
    first: int = 20,
    after: str | None = None,
) -> dict[str, Any]:
    variables = {"id": job_id, "first": first, "after": after}
    response = await client.post(
        "/graphql", json={"query": JOB, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    job: dict[str, Any] = body["data"]["node"]
    return job


async def finished(
    client: httpx.AsyncClient, headers: dict[str, str], job_id: str, deadline_s: float = 30
) -> dict[str, Any]:
    """The job once it is SUCCEEDED or FAILED, polled through the API until ``deadline_s``."""
    give_up = time.monotonic() + deadline_s
    while True:
        job = await read_job(client, headers, job_id)
        if job["status"] in DONE:
            return job
        assert time.monotonic() < give_up, f"job {job_id} still {job['status']}"
        await asyncio.sleep(0.02)
