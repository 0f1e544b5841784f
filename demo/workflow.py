"""The demo catalog's publishing: its published products live on every channel, and a few
products in each other state, so GraphiQL shows the workflow (``Product.publishing``).

The states are written directly, as a seed writes products (no gates, no change events): the
demo's planted defects would fail the gates, and its history starts at the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from resolvers.channels import Channels
from resolvers.db import Catalog, Document
from resolvers.locales import LocaleResolver
from resolvers.workflow.publications import backfill
from resolvers.workflow.states import State

EDITOR, LEAD = "demo-editor", "demo-lead"


@dataclass(frozen=True, slots=True)
class DemoPublishing:
    published: int
    """(product, channel) publications written."""
    staged: dict[str, int]
    """Products put in each other state, by state."""


async def publish_demo(
    catalog: Catalog, channels: Channels, locales: LocaleResolver, now: datetime
) -> DemoPublishing:
    """Publish what the seed marked published; on a fresh seed, stage the other states too.
    Safe to run at every start (it does nothing the second time)."""
    published = await backfill(catalog, channels, locales, now)
    if not published:
        return DemoPublishing(0, {})
    return DemoPublishing(published, await _stage(catalog, channels.names(), now))


async def _stage(catalog: Catalog, names: list[str], now: datetime) -> dict[str, int]:
    drafts = await _skus(catalog, "draft", 6)
    live = await _skus(catalog, "published", 2)
    first, second = names[0], names[1 % len(names)]
    last = names[-1]
    plan: list[tuple[Document, str, dict[str, Any]]] = []
    submitted = {"submittedBy": EDITOR, "submittedAt": now - timedelta(days=2)}
    approved = {**submitted, "approvedBy": LEAD, "approvedAt": now - timedelta(days=1)}
    for product in drafts[:3]:
        plan.append((product, first, {"state": State.IN_REVIEW, **submitted}))
    for product in drafts[3:5]:
        plan += [(product, c, {"state": State.APPROVED, **approved}) for c in (first, second)]
    for product in drafts[5:6]:
        plan.append(
            (
                product,
                first,
                {
                    "state": State.SCHEDULED,
                    **approved,
                    "scheduledAt": now + timedelta(days=7),
                    "scheduledBy": LEAD,
                },
            )
        )
    for product in live[:1]:
        plan.append((product, last, {"state": State.UNPUBLISHED, "unpublishedBy": LEAD}))
        await catalog.publications(last).delete_one({"_id": product["_id"]})
    for product in live[1:2]:
        entry = (product.get("workflow") or {}).get(second) or {}
        reasons = [
            {
                "check": "readiness.hero_image",
                "channel": second,
                "message": "no deliverable hero image",
                "hint": "Upload one: catalog-gateway media ingest FILE --sku SKU --role hero",
                "path": [],
            }
        ]
        plan.append(
            (
                product,
                second,
                {**entry, "state": State.SCHEDULE_FAILED, **approved, "reasons": reasons},
            )
        )
    staged: dict[str, int] = {}
    for product, channel, fields in plan:
        entry = {
            "revision": int(product.get("revision", 1)),
            "updatedAt": now,
            **{k: (v.value if isinstance(v, State) else v) for k, v in fields.items()},
        }
        await catalog.products.update_one(
            {"_id": product["_id"]}, {"$set": {f"workflow.{channel}": entry}}
        )
        staged[entry["state"]] = staged.get(entry["state"], 0) + 1
    return staged


async def _skus(catalog: Catalog, status: str, count: int) -> list[Document]:
    return (
        await catalog.products.find({"status": status}, {"sku": 1, "revision": 1, "workflow": 1})
        .sort("sku", 1)
        .limit(count)
        .to_list()
    )
