"""Prometheus /metrics (CATALOG_METRICS): who may read it, and what a scraper sees after real
requests: by operation, status and key, MongoDB commands, loader batches, cost, breaker."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from gateway.app import create_app
from gateway.metrics import MAX_OPERATIONS, OTHER, UNNAMED, OperationNames, key_label
from gateway.observability import ObservabilityMiddleware
from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.db import Catalog
from resolvers.readiness import rescore_stale
from tests.fixtures.small_catalog import load_small_catalog
from tests.http_helpers import api_key, serve

Db = AsyncDatabase[dict[str, Any]]
TOKEN = "scrape-secret"
ENTITIES = (
    "query Entities($s: [_Any!]!) { _entities(representations: $s) { ... on Product { sku } } }"
)
SKUS = ["NW-RUN-001", "NW-RUN-002", "AC-RUN-003"]
# Priced 44,441: under CATALOG_MAX_QUERY_COST, over the anonymous bucket (12,000 points).
COSTLY = (
    "{ products(first: 40) { edges { node { sku "
    "accessories { sku accessories { sku related { sku } } } } } } }"
)
MEDIA = '{ product(sku: "NW-RUN-001") { media(channel: "web") { publicId } } }'

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_of_real_requests(settings: Settings, db: Db) -> None:
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    # Scored now, so that start-up has no rescoring to do while the test counts commands.
    profiles = load_profiles(settings)
    await rescore_stale(catalog, profiles.channels, profiles.locales, datetime.now(UTC))
    headers = await api_key(db, "viewer", settings)
    key_id = await db["api_keys"].find_one({}, {"_id": 1})
    assert key_id is not None
    settings = settings.model_copy(
        update={"metrics": True, "metrics_token": SecretStr(TOKEN), "schedule_poll_s": 3600}
    )
    async with serve(create_app(settings)) as client:
        assert (await client.get("/metrics")).status_code == 403
        wrong = await client.get("/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 403
        named = await client.post(
            "/graphql", json={"query": "query OneProduct { products(first: 1) { totalCount } }"}
        )
        assert named.status_code == 200, named.text
        await client.post("/graphql", json={"query": "{ __typename }"})
        invalid = await client.post(
            "/graphql",
            json={"query": "{ nope }"},
            headers={"accept": "application/graphql-response+json"},
        )
        assert invalid.status_code == 400
        assert (await client.post("/graphql", json={"query": COSTLY})).status_code == 429
        # Not in the mirror: the Admin API (the emulator) is asked.
        assert (await client.post("/graphql", json={"query": MEDIA})).status_code == 200
        representations = [{"__typename": "Product", "sku": sku} for sku in SKUS]
        body = {"query": ENTITIES, "variables": {"s": representations}}
        # Once before the scrape: the key is read (then cached), start-up's work is done.
        assert (await client.post("/graphql", json=body, headers=headers)).status_code == 200
        before = await scrape(client)
        entities = await client.post("/graphql", json=body, headers=headers)
        assert entities.status_code == 200, entities.text
        assert [p["sku"] for p in entities.json()["data"]["_entities"]] == SKUS
        after = await scrape(client)

    cost = named.json()["extensions"]["cost"]["requestedQueryCost"]
    requests = "catalog_http_requests_total"
    graphql = {"path": "/graphql"}
    assert value(before, requests, **graphql, operation="OneProduct", status="200", key="anonymous")
    assert value(before, requests, **graphql, operation=UNNAMED, status="200", key="anonymous")
    assert value(before, requests, **graphql, operation=UNNAMED, status="400", key="anonymous")
    assert value(before, requests, path="/metrics", operation="none", status="403", key="none")
    assert value(before, "catalog_query_cost_points_total", key="anonymous") >= cost
    assert value(before, requests, **graphql, operation=UNNAMED, status="429", key="anonymous")
    assert value(before, "catalog_throttled_requests_total", key="anonymous") == 1
    assert value(before, "catalog_dam_calls_total", api="admin", outcome="ok") >= 1
    assert value(before, "catalog_dam_breaker_state", state="closed") == 1
    assert value(before, "catalog_dam_breaker_state", state="open") == 0
    # The keyed request: its key id, one batch of three SKUs, one find between the scrapes.
    key = str(key_id["_id"])
    assert value(after, requests, **graphql, operation="Entities", status="200", key=key) == 2
    batches = "catalog_dataloader_batch_size"
    loader = {"loader": "ProductBySkuLoader"}
    assert (
        value(after, f"{batches}_count", **loader) - value(before, f"{batches}_count", **loader)
        == 1
    )
    assert value(after, f"{batches}_sum", **loader) - value(before, f"{batches}_sum", **loader) == 3
    commands = "catalog_mongodb_commands_total"
    finds = value(after, commands, command="find", outcome="ok") - value(
        before, commands, command="find", outcome="ok"
    )
    assert finds == 1
    latency = "catalog_http_request_duration_seconds_count"
    assert value(after, latency, path="/graphql", operation="Entities") == 2


async def test_metrics_off_by_default(settings: Settings) -> None:
    """Off (and no OTLP endpoint): nothing of observability's in the request path at all."""
    app = create_app(settings)
    installed: list[object] = [m.cls for m in app.user_middleware]
    assert ObservabilityMiddleware not in installed
    async with serve(app) as client:
        assert (await client.get("/metrics")).status_code == 404


def test_operation_and_key_labels_are_bounded() -> None:
    names = OperationNames(limit=2)
    assert names.label("A", succeeded=False) == OTHER  # a failed request admits no name
    assert names.label("A", succeeded=True) == "A"
    assert names.label("B", succeeded=True) == "B"
    assert names.label("C", succeeded=True) == OTHER  # no room left
    assert names.label("A", succeeded=False) == "A"
    assert names.label(None, succeeded=True) == UNNAMED
    assert MAX_OPERATIONS == 200
    assert [key_label(p) for p in ("k1", "jwt:alice", "anonymous", None)] == [
        "k1",
        "jwt",
        "anonymous",
        "none",
    ]
