"""Events from the real writer: a write that changes nothing sends nothing, and the source
system that made a change does not get it back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gateway.services import load_profiles, product_writer
from gateway.settings import Settings
from resolvers.access.principal import Principal
from resolvers.db import Catalog, Database, ensure_indexes
from resolvers.outbox import DeliveryWorker, Subscription
from resolvers.writes.history import Actor
from tests.resolvers.outbox.receiver import receiver

pytestmark = pytest.mark.indexed

PROFILES = load_profiles(Settings())
KEY = b"k" * 32


def actor(role: str, source: str | None = None) -> Actor:
    found = PROFILES.roles.get(role)
    assert found is not None
    return Actor(Principal("key", found, f"{role} key", key_id=f"{role}-1", source=source))


SHOE: dict[str, Any] = {
    "sku": "P-1",
    "brand": "Acme",
    "name": {"en-US": "Trail Shoe"},
    "description": {"en-US": "A light trail shoe for long runs."},
}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def test_no_op_writes_send_nothing_and_a_source_gets_no_echo(
    db: Database, http: httpx.AsyncClient
) -> None:
    catalog = Catalog(db)
    await ensure_indexes(catalog, PROFILES.locales.locales, PROFILES.channels.names())
    writer = product_writer(catalog, PROFILES)
    editor, erp = actor("editor"), actor("integration", source="erp")

    created = await writer.create(SHOE, editor)
    assert created.ok, created.failures
    same = await writer.update("P-1", {"brand": "Acme"}, editor, expected_revision=None)
    assert same.ok
    assert same.revision == 1  # nothing changed, no event
    coded = await writer.update(
        "P-1", {"attributes": {"gtin": {"value": "4006381333931"}}}, erp, expected_revision=None
    )
    assert coded.revision == 2, coded.failures
    renamed = await writer.update(
        "P-1", {"name": {"en-US": "Trail Shoe 2"}}, editor, expected_revision=None
    )
    assert renamed.revision == 3

    async with receiver() as erp_hook, receiver() as shop_hook:
        subscriptions = [
            Subscription("erp", erp_hook.url, ("product.*",), (KEY,), source="erp"),
            Subscription("shop", shop_hook.url, ("product.*",), (KEY,)),
        ]
        deliverer = DeliveryWorker(db, subscriptions, http)
        for _ in range(3):  # one event per product and subscription per pass
            await deliverer.run_once(datetime.now(UTC))
    shop = [(r.json["type"], r.json["data"]["revision"]) for r in shop_hook.received]
    assert shop == [("product.create", 1), ("product.update", 2), ("product.update", 3)]
    assert shop_hook.received[1].json["data"]["changedFields"] == [["attributes", "gtin"]]
    # The ERP's own change is not sent back to it; the others' changes are.
    erp_sent = [r.json["data"]["revision"] for r in erp_hook.received]
    assert erp_sent == [1, 3]
    assert erp_hook.received[1].json["data"]["actor"]["source"] is None
