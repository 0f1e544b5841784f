"""HTTP caching and compression of GraphQL answers: what CDNs may keep, ETags, 304, gzip."""

import gzip
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.http_cache import entity_tag, not_modified
from gateway.settings import Settings
from resolvers.db import Catalog
from tests.fixtures.small_catalog import load_small_catalog
from tests.http_helpers import api_key, serve

pytestmark = pytest.mark.indexed

LISTING = "{ products(first: 10) { edges { node { sku name description brand } } } }"
IDENTITY = {"accept-encoding": "identity"}


@asynccontextmanager
async def gateway(settings: Settings, db: Any, **update: Any) -> AsyncIterator[httpx.AsyncClient]:
    await load_small_catalog(Catalog(db))
    update.setdefault("compress_min_bytes", 200)
    async with serve(create_app(settings.model_copy(update=update))) as client:
        yield client


@pytest.fixture
async def client(settings: Settings, db: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway(settings, db) as http:
        yield http


def vary(response: httpx.Response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("vary", "").split(",")}


async def test_anonymous_get_is_public_with_an_etag_and_304(client: httpx.AsyncClient) -> None:
    first = await client.get("/graphql", params={"query": LISTING}, headers=IDENTITY)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, max-age=60, stale-while-revalidate=300"
    tag = first.headers["etag"]
    assert tag.startswith('"')  # strong: no W/
    assert tag == entity_tag(first.content, None)
    assert {
        "accept",
        "accept-encoding",
        "authorization",
        "origin",
        "x-channel",
        "x-preview-token",
    } <= vary(first)
    assert "content-encoding" not in first.headers

    again = await client.get(
        "/graphql", params={"query": LISTING}, headers={**IDENTITY, "if-none-match": tag}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert again.headers["cache-control"].startswith("public, max-age=60")
    assert "authorization" in vary(again)

    stale = await client.get(
        "/graphql", params={"query": LISTING}, headers={**IDENTITY, "if-none-match": '"old"'}
    )
    assert stale.status_code == 200
    assert stale.content == first.content


async def test_gzip_above_the_threshold_keeps_etag_and_304(client: httpx.AsyncClient) -> None:
    plain = await client.get("/graphql", params={"query": LISTING}, headers=IDENTITY)
    request = client.build_request(
        "GET", "/graphql", params={"query": LISTING}, headers={"accept-encoding": "gzip, br"}
    )
    zipped = await client.send(request, stream=True)
    raw = b"".join([chunk async for chunk in zipped.aiter_raw()])
    await zipped.aclose()
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) == len(raw) < len(plain.content)
    assert gzip.decompress(raw) == plain.content
    # Another representation, another strong tag; a tag of either answers 304.
    gz_tag = zipped.headers["etag"]
    assert gz_tag == entity_tag(plain.content, "gzip") != plain.headers["etag"]
    for tag in (gz_tag, plain.headers["etag"], f"W/{gz_tag}"):
        revalidated = await client.get(
            "/graphql",
            params={"query": LISTING},
            headers={"accept-encoding": "gzip", "if-none-match": tag},
        )
        assert revalidated.status_code == 304
    # Below the threshold nothing is compressed.
    small = await client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"accept-encoding": "gzip"}
    )
    assert "content-encoding" not in small.headers


async def test_private_answers_are_not_stored(
    client: httpx.AsyncClient, db: Any, settings: Settings
) -> None:
    viewer = await api_key(db, "viewer", settings)  # sees drafts
    storefront = await api_key(db, "storefront", settings)
    drafts = await client.get("/graphql", params={"query": LISTING}, headers=viewer)
    assert drafts.status_code == 200
    assert drafts.headers["cache-control"] == "private, no-store"
    assert "etag" not in drafts.headers

    store = await client.get("/graphql", params={"query": LISTING}, headers=storefront)
    assert store.headers["cache-control"].startswith("public")  # Vary: Authorization keys it

    post = await client.post("/graphql", json={"query": LISTING})
    assert post.headers["cache-control"] == "private, no-store"
    error = await client.get(
        "/graphql",
        params={"query": "{ nope }"},
        headers={"accept": "application/graphql-response+json"},
    )
    assert error.status_code == 400
    assert error.headers["cache-control"] == "private, no-store"
    mutation = await client.get("/graphql", params={"query": "mutation { __typename }"})
    assert mutation.status_code == 405
    assert mutation.headers["cache-control"] == "private, no-store"


async def test_max_age_zero_revalidates_every_time(settings: Settings, db: Any) -> None:
    async with gateway(settings, db, http_cache_max_age_s=0) as client:
        response = await client.get("/graphql", params={"query": "{ __typename }"})
    assert response.headers["cache-control"] == "public, no-cache"
    assert "etag" in response.headers


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ('"abc"', True),
        ('"abc-gzip"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ("*", True),
        ('"abd"', False),
    ],
)
def test_if_none_match(header: str | None, matches: bool) -> None:
    assert not_modified(header, '"abc"') is matches
