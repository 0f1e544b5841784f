"""The demo's publishing: its published products live on every channel, and some products
in every other state, so GraphiQL shows the workflow."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from demo.workflow import publish_demo
from tests.demo_fixtures import NOW, seed_demo
from tests.graphql_helpers import services_for

pytestmark = pytest.mark.indexed


async def test_the_demo_has_products_in_every_state_and_a_second_run_changes_nothing(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    # Seeded as `seed --demo` seeds, before the start publishes anything.
    fresh_demo = services_for(await seed_demo(db, publish=False), clock=lambda: NOW)
    catalog, channels = fresh_demo.catalog, fresh_demo.channels
    published = await catalog.products.count_documents({"status": "published"})
    first = await publish_demo(catalog, channels, fresh_demo.locales, NOW)
    assert first.published == published * len(channels.names())
    assert first.staged == {
        "IN_REVIEW": 3,
        "APPROVED": 4,
        "SCHEDULED": 1,
        "UNPUBLISHED": 1,
        "SCHEDULE_FAILED": 1,
    }
    states: Counter[str] = Counter()
    async for product in catalog.products.find({}, {"workflow": 1}):
        for name in channels.names():
            states[((product.get("workflow") or {}).get(name) or {}).get("state", "DRAFT")] += 1
    assert set(states) == {
        "DRAFT",
        "IN_REVIEW",
        "APPROVED",
        "SCHEDULED",
        "PUBLISHED",
        "UNPUBLISHED",
        "SCHEDULE_FAILED",
    }
    # Unpublished on the last channel: gone from its storefronts only.
    last = channels.names()[-1]
    assert await catalog.publications(last).count_documents({}) == published - 1
    assert await catalog.publications(channels.names()[0]).count_documents({}) == published
    again = await publish_demo(catalog, channels, fresh_demo.locales, NOW)
    assert (again.published, again.staged) == (0, {})
