"""Query cost over HTTP: a costly operation is refused before any MongoDB command, every
priced answer carries extensions.cost, and X-Cost-Only prices without running."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from starlette.applications import Starlette
from starlette.routing import Route

from gateway.auth import TokenBuckets
from gateway.auth.setup import authenticator
from gateway.graphql_http import GraphQLHTTPHandler
from gateway.query_cost import POINTS_PER_REQUEST
from gateway.settings import Settings
from resolvers.access import load_roles
from resolvers.db import Catalog
from schema import build_schema
from tests.command_counter import CommandCounter
from tests.fixtures.small_catalog import load_small_catalog
from tests.graphql_helpers import services_for
from tests.http_helpers import key_store, serve

pytestmark = pytest.mark.indexed

Db = AsyncDatabase[dict[str, Any]]
GQL = "application/graphql-response+json"
PAGE = "query($n: Int!) { products(first: $n) { edges { node { sku } } } }"
LIMIT = 50


@asynccontextmanager
async def gateway(
    settings: Settings, db: Db, max_query_cost: int = LIMIT
) -> AsyncIterator[httpx.AsyncClient]:
    """The /graphql handler over the tests' client, whose commands the CommandCounter sees."""
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    keys = key_store(db, settings)
    services = services_for(catalog, settings, api_keys=keys)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {"services": services, "authenticator": authenticator(settings, keys, keys.roles)}

    handler = GraphQLHTTPHandler(
        build_schema(), settings.max_body_bytes, max_query_cost=max_query_cost
    )
    # A clock that stands still: a storefront's bucket refills 100 points in 50 ms, which a
    # request on a loaded machine takes, and the tests' numbers are exact.
    handler.buckets = TokenBuckets(clock=lambda: 0.0)
    app = Starlette(
        routes=[Route("/graphql", handler.handle, methods=["GET", "POST"])], lifespan=lifespan
    )
    try:
        async with serve(app) as client:
            yield client
    finally:
        await services.background.aclose()


async def page(
    client: httpx.AsyncClient, size: int, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post(
        "/graphql",
        json={"query": PAGE, "variables": {"n": size}},
        headers={"accept": GQL, **(headers or {})},
    )


async def test_over_the_limit_is_refused_before_any_mongodb_command(
    settings: Settings, db: Db, command_counter: CommandCounter
) -> None:
    async with gateway(settings, db) as client:
        with command_counter.record(db.name) as refused:
            response = await page(client, 100)
        assert response.status_code == 400
        body = response.json()
        assert "data" not in body
        [error] = body["errors"]
        # products 1 + 100 nodes of 1.
        assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 101, "limit": LIMIT}
        assert body["extensions"]["cost"]["requestedQueryCost"] == 101
        assert body["extensions"]["cost"]["actualQueryCost"] == 0
        assert len(refused) == 0
        # The same document under the limit runs: the price came from its variables.
        with command_counter.record(db.name) as ran:
            response = await page(client, 3)
        assert response.status_code == 200
        assert len(response.json()["data"]["products"]["edges"]) == 3
        assert len(ran) > 0


async def test_every_priced_answer_carries_its_cost_and_the_budget(
    settings: Settings, db: Db
) -> None:
    async with gateway(settings, db) as client:
        response = await page(client, 3)
    cost = response.json()["extensions"]["cost"]
    anonymous = load_roles(settings.roles_path).get(settings.anonymous_role)
    assert anonymous is not None
    storefront = anonymous.rate
    assert cost["requestedQueryCost"] == 4
    assert cost["actualQueryCost"] == 4
    status = cost["throttleStatus"]
    # The role's rate in cost points: POINTS_PER_REQUEST a request.
    capacity = storefront.burst * POINTS_PER_REQUEST
    assert status["maximumAvailable"] == capacity
    assert status["restoreRate"] == storefront.per_minute / 60 * POINTS_PER_REQUEST
    # This request (cost 4) spent the least a request spends from the full bucket.
    assert capacity - POINTS_PER_REQUEST <= status["currentlyAvailable"] < capacity


async def test_x_cost_only_prices_without_running(
    settings: Settings, db: Db, command_counter: CommandCounter
) -> None:
    async with gateway(settings, db) as client:
        with command_counter.record(db.name) as priced:
            response = await page(client, 40, {"X-Cost-Only": "1"})
            refused = await page(client, 400, {"X-Cost-Only": "1"})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert "errors" not in body
    assert body["extensions"]["cost"]["requestedQueryCost"] == 41
    assert body["extensions"]["cost"]["actualQueryCost"] == 0
    # Over the limit, the header does not hide the refusal.
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["cost"] == 401
    assert len(priced) == 0


async def test_a_shared_cacheable_get_carries_the_price_but_no_budget(
    settings: Settings, db: Db
) -> None:
    async with gateway(settings, db) as client:
        response = await client.get(
            "/graphql",
            params={"query": PAGE, "variables": '{"n": 2}'},
            headers={"accept": GQL},
        )
    assert response.status_code == 200
    assert "public" in response.headers["cache-control"]
    # A CDN would hand one client's budget to every other: the body is the same for all.
    assert response.json()["extensions"] == {
        "cost": {"requestedQueryCost": 3, "actualQueryCost": 3}
    }


# 1 + 100 products x (1 + 10 accessories x (1 + 10 related)).
COSTLY = "{ products(first: 100) { edges { node { accessories { related { sku } } } } } }"


async def test_the_budget_spends_cost_and_answers_429_when_it_is_spent(
    settings: Settings, db: Db, command_counter: CommandCounter
) -> None:
    anonymous = load_roles(settings.roles_path).get(settings.anonymous_role)
    assert anonymous is not None
    capacity = anonymous.rate.burst * POINTS_PER_REQUEST
    async with gateway(settings, db, max_query_cost=capacity) as client:
        first = await client.post("/graphql", json={"query": COSTLY}, headers={"accept": GQL})
        assert first.status_code == 200
        spent = first.json()["extensions"]["cost"]
        assert spent["actualQueryCost"] == 11_101
        assert spent["throttleStatus"]["currentlyAvailable"] < capacity - 11_101 + 100
        with command_counter.record(db.name) as refused:
            second = await client.post("/graphql", json={"query": COSTLY}, headers={"accept": GQL})
    assert second.status_code == 429
    assert int(second.headers["retry-after"]) >= 1
    assert second.headers["ratelimit-limit"] == str(capacity)
    assert int(second.headers["ratelimit-remaining"]) < 11_101
    assert int(second.headers["ratelimit-reset"]) >= 1
    body = second.json()
    assert body["errors"][0]["extensions"] == {"code": "THROTTLED", "cost": 11_101}
    assert body["extensions"]["cost"]["actualQueryCost"] == 0
    assert len(refused) == 0
