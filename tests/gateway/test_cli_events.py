"""``catalog-gateway events``: dead deliveries listed and sent again from the command line."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from gateway.cli import main
from resolvers.access.principal import Principal
from resolvers.outbox import DeliveryWorker, Subscription
from resolvers.writes.history import Actor, Provenance, event_document
from tests.resolvers.outbox.receiver import receiver

# Each command works on the test's own database.
pytestmark = pytest.mark.usefixtures("cli_env")

KEY = b"k" * 32


def events(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["events", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


async def deliver(mongodb_uri: str, db_name: str, *, record: bool, healthy: bool) -> list[str]:
    """One pass of a worker whose receiver fails (or not); the webhook ids it received."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    try:
        db = client[db_name]
        if record:
            event = event_document(
                {"sku": "P-1"}, 1, "update", [], Actor(Principal.system()), Provenance(), _now()
            )
            await db["change_events"].insert_one(event)
        async with (
            receiver(lambda received, index: 200 if healthy else 500) as hook,
            httpx.AsyncClient() as http,
        ):
            shop = Subscription("shop", hook.url, ("product.*",), (KEY,), max_attempts=1)
            await DeliveryWorker(db, [shop], http).run_once()
        return [r.id for r in hook.received]
    finally:
        await client.close()


def _now() -> datetime:
    return datetime.now(UTC)


def test_list_dead_and_redeliver(
    capsys: pytest.CaptureFixture[str], mongodb_uri: str, db_name: str
) -> None:
    [event_id] = asyncio.run(deliver(mongodb_uri, db_name, record=True, healthy=False))

    status, out, _ = events(capsys, "list", "--dead", "--json")
    assert status == 0
    [dead] = [json.loads(line) for line in out.splitlines()]
    assert (dead["eventId"], dead["status"], dead["attempts"]) == (event_id, "dead", 1)
    assert (dead["type"], dead["key"], dead["lastError"]) == (
        "product.update",
        "product:P-1",
        "HTTP 500",
    )
    status, out, _ = events(capsys, "list")
    assert status == 0
    assert out.splitlines()[0].split() == [
        "ID", "SUBSCRIPTION", "TYPE", "ON", "REV", "STATUS", "ATTEMPTS", "CREATED", "LAST",
    ]  # fmt: skip
    assert dead["id"] in out
    assert "HTTP 500" in out

    status, _, err = events(capsys, "redeliver", dead["id"])
    assert status == 0
    assert f"delivery {dead['id']} of event {event_id}" in err
    assert "pending again" in err
    status, out, _ = events(capsys, "list", "--dead")
    assert len(out.splitlines()) == 1  # the header alone
    # The next pass of a worker sends it, with the same id.
    assert asyncio.run(deliver(mongodb_uri, db_name, record=False, healthy=True)) == [event_id]
    status, out, _ = events(capsys, "list", "--status", "delivered", "--json")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [dead["id"]]


def test_one_line_errors(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = events(capsys, "redeliver", "not-an-id")
    assert (status, err) == (1, "catalog-gateway: error: no event delivery 'not-an-id'\n")
    status, _, err = events(capsys, "redeliver", "6560f0f0f0f0f0f0f0f0f0f0")
    assert status == 1
    assert err == "catalog-gateway: error: no event delivery '6560f0f0f0f0f0f0f0f0f0f0'\n"
    status, _, err = events(capsys, "list", "--dead", "--status", "pending")
    assert (status, err) == (
        1,
        "catalog-gateway: error: --dead and --status name different states\n",
    )
