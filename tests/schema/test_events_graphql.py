"""``eventDeliveries`` and ``eventRedeliver``: admins see dead letters and send them again;
other roles are refused before anything is read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from strawberry.types import ExecutionResult

from gateway.settings import Settings
from resolvers.access import Principal, load_roles
from resolvers.db import Catalog
from resolvers.outbox import DeliveryWorker, Subscription
from resolvers.services import Services
from resolvers.writes.history import Actor, Provenance, event_document
from schema.context import Context
from tests.graphql_helpers import services_for, shared_schema
from tests.resolvers.outbox.receiver import receiver

Db = AsyncDatabase[dict[str, Any]]
ROLES = load_roles(Settings().roles_path)
DEAD = """{ eventDeliveries(status: DEAD) {
  id subscription eventId type key revision status attempts maxAttempts nextAttemptAt
  lastStatus lastError deliveredAt
} }"""
REDELIVER = """mutation($id: ID!) { eventRedeliver(id: $id) {
  delivery { id status attempts nextAttemptAt } errors { __typename path code message }
} }"""


def principal(role: str) -> Principal:
    found = ROLES.get(role)
    assert found is not None
    return Principal("key", found, f"test {role}", key_id=f"{role}-key")


async def run(
    services: Services, role: str, query: str, variables: dict[str, Any] | None = None
) -> ExecutionResult:
    context = Context.for_request(services, "test", principal(role))
    return await shared_schema().execute(query, variable_values=variables, context_value=context)


async def data(
    services: Services, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    result = await run(services, "admin", query, variables)
    assert result.errors is None, [e.formatted for e in result.errors]
    assert result.data is not None
    return result.data


async def test_an_admin_lists_dead_letters_and_redelivers_one(db: Db) -> None:
    event = event_document(
        {"sku": "P-1"}, 3, "update", [], Actor(Principal.system()), Provenance(), datetime.now(UTC)
    )
    await db["change_events"].insert_one(event)
    services = services_for(Catalog(db))
    healthy = False
    async with (
        receiver(lambda received, index: 204 if healthy else 502) as hook,
        httpx.AsyncClient() as http,
    ):
        shop = Subscription("shop", hook.url, ("product.*",), (b"k" * 32,), max_attempts=1)
        deliverer = DeliveryWorker(db, [shop], http)
        assert (await deliverer.run_once()).dead == 1

        [dead] = (await data(services, DEAD))["eventDeliveries"]
        assert {k: v for k, v in dead.items() if k != "id"} == {
            "subscription": "shop",
            "eventId": str(event["_id"]),
            "type": "product.update",
            "key": "product:P-1",
            "revision": 3,
            "status": "DEAD",
            "attempts": 1,
            "maxAttempts": 1,
            "nextAttemptAt": None,
            "lastStatus": 502,
            "lastError": "HTTP 502",
            "deliveredAt": None,
        }

        healthy = True
        queued = (await data(services, REDELIVER, {"id": dead["id"]}))["eventRedeliver"]
        assert queued["errors"] == []
        assert (queued["delivery"]["status"], queued["delivery"]["attempts"]) == ("PENDING", 0)
        again = (await data(services, REDELIVER, {"id": dead["id"]}))["eventRedeliver"]
        assert again["delivery"] is None
        assert again["errors"] == [
            {
                "__typename": "InputError",
                "path": ["id"],
                "code": "INVALID",
                "message": f"event delivery {dead['id']} is pending: it will be sent anyway",
            }
        ]
        assert (await deliverer.run_once()).delivered == 1
    assert [r.id for r in hook.received] == [str(event["_id"])] * 2
    assert (await data(services, DEAD))["eventDeliveries"] == []


async def test_an_unknown_delivery_is_not_found(db: Db) -> None:
    services = services_for(Catalog(db))
    missing = (await data(services, REDELIVER, {"id": "nope"}))["eventRedeliver"]
    assert missing["errors"] == [
        {
            "__typename": "NotFoundError",
            "path": ["id"],
            "code": "NOT_FOUND",
            "message": "no event delivery 'nope'",
        }
    ]
    result = await run(services, "admin", "{ eventDeliveries(first: 500) { id } }")
    assert result.errors is not None
    assert result.errors[0].extensions == {
        "code": "BAD_USER_INPUT",
        "argumentName": "first",
    }


@pytest.mark.parametrize("role", ["lead", "editor", "viewer", "storefront"])
async def test_only_admins_see_or_redeliver(db: Db, role: str) -> None:
    services = services_for(Catalog(db))
    for query, variables in ((DEAD, None), (REDELIVER, {"id": "x"})):
        result = await run(services, role, query, variables)
        assert result.errors is not None
        assert result.errors[0].extensions == {"code": "FORBIDDEN", "scope": "events:manage"}
