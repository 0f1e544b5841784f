"""Scheduled publishing: a due schedule fires once across two gateways on one database, runs
its gates again, and fails visibly (SCHEDULE_FAILED, reasons, an event) when they fail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from resolvers.db import Catalog
from resolvers.leases import leases
from resolvers.workflow.scheduler import Scheduler
from resolvers.workflow.service import Workflow
from resolvers.writes.history import Actor, Provenance
from tests.workflow_fixtures import EDITOR, LEAD, NOW, hero, load, product, workflow

pytestmark = pytest.mark.indexed

GOOD, BAD = "WF-GOOD", "WF-BAD"
AT = NOW + timedelta(hours=1)


@pytest.fixture
async def catalog(db: AsyncDatabase[dict[str, Any]]) -> Catalog:
    catalog = Catalog(db)
    await load(catalog, [product(GOOD, 1), product(BAD, 2)])
    flow = workflow(catalog, clock=lambda: NOW)
    for step, who in ((flow.submit, EDITOR), (flow.approve, LEAD)):
        outcomes = await step([GOOD, BAD], ["web"], Actor(who), Provenance())
        assert all(o.ok for o in outcomes), outcomes
    scheduled = await flow.publish([GOOD, BAD], ["web"], Actor(LEAD), Provenance(), at=AT)
    assert all(o.ok for o in scheduled), scheduled
    return catalog


@pytest.fixture
async def second_client(mongodb_uri: str) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    """Another gateway's connection to the same database."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    yield client
    await client.close()


def scheduler(catalog: Catalog, now: datetime) -> Scheduler:
    flow: Workflow = workflow(catalog, clock=lambda: now)
    return Scheduler(flow, leases(catalog.db), clock=lambda: now)


async def test_nothing_fires_before_its_time(catalog: Catalog) -> None:
    assert await scheduler(catalog, AT - timedelta(seconds=1)).tick() == []
    assert await catalog.publications("web").count_documents({}) == 0


async def test_a_due_schedule_fires_once_across_two_gateways_and_rechecks_its_gates(
    catalog: Catalog, second_client: AsyncMongoClient[dict[str, Any]]
) -> None:
    # Between approval and the due time the bad product's hero was rejected in Cloudinary.
    await catalog.assets.update_one(
        {"publicId": hero(BAD)},
        {"$set": {"status": "rejected", "rejectReasons": ["model release missing"]}},
    )
    later = AT + timedelta(minutes=1)
    first = scheduler(catalog, later)
    other = scheduler(Catalog(second_client[catalog.db.name]), later)
    rounds = await asyncio.gather(first.tick(), other.tick(), first.tick(), other.tick())
    fired = [o for outcomes in rounds for o in outcomes]
    assert sorted((o.sku, o.ok) for o in fired) == [(BAD, False), (GOOD, True)]
    published = await catalog.publications("web").find({}, {"sku": 1}).to_list()
    assert [p["sku"] for p in published] == [GOOD]
    events = await catalog.change_events.find(
        {"operation": {"$in": ["workflow.publish", "workflow.schedule_failed"]}}
    ).to_list()
    assert sorted((e["sku"], e["operation"], e["workflow"]["to"]) for e in events) == [
        (BAD, "workflow.schedule_failed", "SCHEDULE_FAILED"),
        (GOOD, "workflow.publish", "PUBLISHED"),
    ]
    bad = await catalog.products.find_one({"sku": BAD})
    assert bad is not None
    entry = bad["workflow"]["web"]
    assert entry["state"] == "SCHEDULE_FAILED"
    assert {r["check"] for r in entry["reasons"]} == {
        "readiness.hero_image",
        "readiness.asset_validity",
        "asset",
    }
    assert any("model release missing" in r["message"] for r in entry["reasons"])
    # Nothing is due any more: later rounds, on either gateway, fire nothing.
    assert await other.tick() == []
    assert await scheduler(catalog, later + timedelta(hours=1)).tick() == []


async def test_two_loops_racing_without_the_lease_still_fire_once(catalog: Catalog) -> None:
    """The lease keeps replicas apart; the guarded write is what makes a firing unique."""
    later = AT + timedelta(minutes=1)
    flows = [workflow(catalog, clock=lambda: later) for _ in range(4)]
    rounds = await asyncio.gather(*(f.fire_due(later) for f in flows))
    fired = sorted(o.sku for outcomes in rounds for o in outcomes if o.ok)
    assert fired == [BAD, GOOD]
    assert await catalog.change_events.count_documents({"operation": "workflow.publish"}) == 2
    assert await catalog.publications("web").count_documents({}) == 2


async def test_looking_for_due_schedules_reads_only_scheduled_products(catalog: Catalog) -> None:
    await catalog.products.insert_many([product(f"WF-IDLE-{n}", 10 + n) for n in range(20)])
    query = {"workflow.web.state": "SCHEDULED", "workflow.web.scheduledAt": {"$lte": AT}}
    plan = await catalog.products.find(query).explain()
    winning = str(plan["queryPlanner"]["winningPlan"])
    assert "scheduled_web" in winning
    # WF-GOOD and WF-BAD, none of the twenty products nobody scheduled.
    assert plan["executionStats"]["totalDocsExamined"] == 2
