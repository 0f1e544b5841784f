"""Published snapshots: what storefronts of a channel read (``publications.<channel>``).

A snapshot is the product as it was at the published revision, in the shape of ``products``
and under the product's ``_id``, so the loaders, listings and their indexes work on it
unchanged; ``status`` is ``published`` and ``publication`` says which revision, when and by
whom. The working copy's ``workflow`` is not copied: storefronts never see the editorial state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ReplaceOne, UpdateOne

from resolvers.channels import Channels
from resolvers.db import Catalog, Document
from resolvers.documents import PUBLISHED, SCHEMA_VERSION
from resolvers.locales import LocaleResolver
from resolvers.readiness.store import load_context, stored_readiness
from resolvers.workflow.states import State

BACKFILL_ACTOR = "migration"


def snapshot(product: Document, channel: str, by: str, at: datetime) -> Document:
    document = {k: v for k, v in product.items() if k != "workflow"}
    document["status"] = PUBLISHED
    document["publication"] = {
        "channel": channel,
        "revision": int(product.get("revision", 1)),
        "publishedBy": by,
        "publishedAt": at,
    }
    return document


async def with_readiness(
    catalog: Catalog,
    channels: Channels,
    locales: LocaleResolver,
    products: Sequence[Document],
    now: datetime,
) -> list[Document]:
    """``products`` with their stored readiness computed for what they are now (a revision
    rebuilt from history has no stored scores of its own)."""
    context = await load_context(catalog, list(products))
    return [
        {**p, "readiness": stored_readiness(p, channels, locales, now, context)} for p in products
    ]


def published_entry(product: Document, by: str, at: datetime) -> dict[str, Any]:
    revision = int(product.get("revision", 1))
    return {
        "state": State.PUBLISHED.value,
        "revision": revision,
        "publishedRevision": revision,
        "publishedBy": by,
        "publishedAt": at,
        "updatedAt": at,
    }


async def backfill(
    catalog: Catalog,
    channels: Channels,
    locales: LocaleResolver,
    now: datetime,
    *,
    batch: int = 500,
    dry_run: bool = False,
) -> int:
    """Publish, on every channel, each product whose status is ``published`` and that never
    entered the workflow on that channel: what storefronts saw before publications existed
    stays visible. Idempotent; records no change events (nothing changed for a reader).
    Returns the number of (product, channel) publications written (or that would be)."""
    names = channels.names()
    query: Document = {
        "status": PUBLISHED,
        "$and": [
            {"$or": [{f"workflow.{c}": {"$exists": False}} for c in names]},
            # A document of a future schemaVersion is not served; it is not published either.
            {
                "$or": [
                    {"schemaVersion": {"$exists": False}},
                    {"schemaVersion": {"$lte": SCHEMA_VERSION}},
                ]
            },
        ],
    }
    written = 0
    last_id: Any = None
    while True:
        page = query if last_id is None else {"$and": [query, {"_id": {"$gt": last_id}}]}
        products = await catalog.products.find(page).sort("_id", 1).limit(batch).to_list()
        if not products:
            return written
        last_id = products[-1]["_id"]
        scored = await with_readiness(catalog, channels, locales, products, now)
        todo = {p["_id"]: [c for c in names if c not in (p.get("workflow") or {})] for p in scored}
        written += sum(len(t) for t in todo.values())
        if dry_run:
            continue
        for channel in names:
            await replace_snapshots(
                catalog,
                channel,
                [
                    snapshot(p, channel, BACKFILL_ACTOR, now)
                    for p in scored
                    if channel in todo[p["_id"]]
                ],
            )
        await catalog.products.bulk_write(
            [
                UpdateOne(
                    {"_id": p["_id"]},
                    {
                        "$set": {
                            f"workflow.{c}": published_entry(p, BACKFILL_ACTOR, now)
                            for c in todo[p["_id"]]
                        }
                    },
                )
                for p in scored
                if todo[p["_id"]]
            ],
            ordered=False,
        )


async def replace_snapshots(
    catalog: Catalog, channel: str, snapshots: Sequence[Document], session: Any = None
) -> None:
    if snapshots:
        await catalog.publications(channel).bulk_write(
            [ReplaceOne({"_id": s["_id"]}, s, upsert=True) for s in snapshots],
            ordered=False,
            session=session,
        )
