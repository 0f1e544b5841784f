"""Materialized readiness: scores stored on products so that filters, sorts and dashboards
work on large catalogs. Recomputed when a product, its assets or the channel profiles change.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import UpdateOne

from resolvers.channels import Channels
from resolvers.db import Catalog, Document
from resolvers.locales import LocaleResolver
from resolvers.readiness.rules import (
    RULES_VERSION,
    ScoringMemo,
    asset_keys,
    evaluate,
    needed_codes,
)

log = logging.getLogger(__name__)

BATCH = 500
YIELD_EVERY = 50
BANDS = (0, 20, 40, 60, 80, 100, 101)
# On a product: the cluster time at which the inputs of its stored scores were read.
BASED_ON = "readinessBasedOn"


def stored_fields(channel: str) -> str:
    return f"readiness.{channel}"


def rules_hash(channels: Channels) -> str:
    """What stored scores were computed with: the evaluator's version and the profiles."""
    return f"{RULES_VERSION}:{channels.digest}"


def stale_query(channels: Channels) -> dict[str, Any]:
    """Products whose stored scores were computed with other rules (or never)."""
    return {
        "$or": [
            {f"{stored_fields(name)}.rulesHash": {"$ne": rules_hash(channels)}}
            for name in channels.names()
        ]
    }


async def materialize(
    catalog: Catalog, channels: Channels, locales: LocaleResolver, now: datetime
) -> int:
    """Recompute and store the scores of every product (after a seed, or from cron: promotional
    windows open and close with time)."""
    return await rescore_query(catalog, channels, locales, now, {})


async def rescore_products_using(
    catalog: Catalog,
    channels: Channels,
    locales: LocaleResolver,
    now: datetime,
    public_ids: Sequence[str],
) -> int:
    """Rescore the products that use these assets (new, changed or deleted in the DAM)."""
    query = {"media.publicId": {"$in": list(public_ids)}}
    return await rescore_query(catalog, channels, locales, now, query)


async def rescore_skus(
    catalog: Catalog,
    channels: Channels,
    locales: LocaleResolver,
    now: datetime,
    skus: Sequence[str],
) -> int:
    """Rescore the products with these SKUs (e.g. after media was ingested for them)."""
    return await rescore_query(catalog, channels, locales, now, {"sku": {"$in": list(skus)}})


async def rescore_stale(
    catalog: Catalog, channels: Channels, locales: LocaleResolver, now: datetime
) -> int:
    """Rescore the products whose stored scores predate the current channel profiles; 0 when
    there are none (one cheap query finds out)."""
    query = stale_query(channels)
    if not await catalog.products.count_documents(query, limit=1):
        return 0
    return await rescore_query(catalog, channels, locales, now, query)


async def rescore_query(
    catalog: Catalog,
    channels: Channels,
    locales: LocaleResolver,
    now: datetime,
    query: dict[str, Any],
) -> int:
    """Recompute and store the scores of every product matching ``query`` (the follower's:
    what a batch of changes hit).

    Works in batches: one products page, then one query each for their assets, categories and
    attribute definitions, then one bulk write.
    """
    updated = 0
    last_id = None
    # A session for its operation time: the cluster time of each page's read.
    async with catalog.db.client.start_session(causal_consistency=False) as session:
        while True:
            page = query if last_id is None else {"$and": [query, {"_id": {"$gt": last_id}}]}
            found = catalog.products.find(page, session=session)
            products = await found.sort("_id", 1).limit(BATCH).to_list()
            if not products:
                return updated
            based_on = session.operation_time
            last_id = products[-1]["_id"]
            context = await load_context(catalog, products)
            operations = []
            for index, product in enumerate(products):
                if index % YIELD_EVERY == YIELD_EVERY - 1:
                    # Scoring is CPU work; let requests on the same event loop run in between.
                    await asyncio.sleep(0)
                fields: dict[str, Any] = {
                    stored_fields(name): scores
                    for name, scores in stored_readiness(
                        product, channels, locales, now, context
                    ).items()
                }
                operations.append(_compare_and_set(product["_id"], fields, based_on))
            await catalog.products.bulk_write(operations, ordered=False)
            updated += len(operations)


def _compare_and_set(product_id: Any, fields: dict[str, Any], based_on: Any) -> UpdateOne:
    """Store scores computed from inputs read at ``based_on`` (a cluster time), unless scores
    from a later read are stored already: two recomputations racing (a request's and the
    follower's, or two replicas') never leave the older one's result."""
    if based_on is None:  # a standalone server has no cluster time
        return UpdateOne({"_id": product_id}, {"$set": fields})
    return UpdateOne(
        {"_id": product_id, BASED_ON: {"$not": {"$gt": based_on}}},
        {"$set": {**fields, BASED_ON: based_on}},
    )


class ReadinessContext:
    """What scoring a batch of products needs, loaded with one query per collection."""

    def __init__(
        self,
        assets: dict[tuple[str, str], Document],
        categories: dict[str, Document],
        attributes: dict[str, Document],
    ) -> None:
        self.assets = assets
        self.categories = categories
        self.attributes = attributes


async def load_context(catalog: Catalog, products: list[Document]) -> ReadinessContext:
    keys = {key for product in products for key in asset_keys(product)}
    slugs = {slug for product in products for slug in product.get("categories") or []}
    assets = {
        (d.get("resourceType", "image"), d["publicId"]): d
        async for d in catalog.assets.find(
            {"publicId": {"$in": [k[1] for k in keys]}}, {"fingerprint": 0}
        )
    }
    categories = {
        d["slug"]: d async for d in catalog.categories.find({"slug": {"$in": list(slugs)}})
    }
    codes = needed_codes(categories.values())
    attributes = {d["code"]: d async for d in catalog.attributes.find({"code": {"$in": codes}})}
    return ReadinessContext(assets, categories, attributes)


def stored_readiness(
    product: Document,
    channels: Channels,
    locales: LocaleResolver,
    now: datetime,
    context: ReadinessContext,
) -> dict[str, dict[str, Any]]:
    """Channel → the readiness stored on ``product`` for it (score, ready, failed, rulesHash,
    computedAt); the channels share one ``ScoringMemo``."""
    categories = [
        context.categories[s] for s in product.get("categories") or [] if s in context.categories
    ]
    assets = {k: context.assets.get(k) for k in asset_keys(product)}
    attributes = {c: context.attributes.get(c) for c in needed_codes(categories)}
    memo = ScoringMemo()
    current = rules_hash(channels)
    stored = {}
    for channel in channels.names():
        result = evaluate(
            product,
            assets=assets,
            categories=categories,
            attributes=attributes,
            channel=channel,
            channels=channels,
            locales=locales,
            locale=None,
            now=now,
            memo=memo,
        )
        stored[channel] = {
            "score": result.score,
            "ready": result.ready,
            "failed": result.failed,
            "rulesHash": current,
            "computedAt": now,
        }
    return stored


async def summary(catalog: Catalog, channels: Channels, channel: str) -> dict[str, Any]:
    """Dashboard numbers for a channel from the stored scores, in one aggregation."""
    prefix = stored_fields(channel)
    pipeline: list[dict[str, Any]] = [
        {
            "$facet": {
                "total": [{"$count": "n"}],
                "scored": [{"$match": {f"{prefix}.score": {"$exists": True}}}, {"$count": "n"}],
                "stale": [
                    {"$match": {f"{prefix}.rulesHash": {"$ne": rules_hash(channels)}}},
                    {"$count": "n"},
                ],
                "ready": [{"$match": {f"{prefix}.ready": True}}, {"$count": "n"}],
                "average": [{"$group": {"_id": None, "value": {"$avg": f"${prefix}.score"}}}],
                "bands": [
                    {"$match": {f"{prefix}.score": {"$exists": True}}},
                    {
                        "$bucket": {
                            "groupBy": f"${prefix}.score",
                            "boundaries": list(BANDS),
                            "default": "other",
                            "output": {"count": {"$sum": 1}},
                        }
                    },
                ],
                "failing": [
                    {"$unwind": f"${prefix}.failed"},
                    {"$group": {"_id": f"${prefix}.failed", "count": {"$sum": 1}}},
                    {"$sort": {"count": -1, "_id": 1}},
                ],
            }
        }
    ]
    [facets] = await (await catalog.products.aggregate(pipeline)).to_list()

    def count(name: str) -> int:
        rows = facets[name]
        return int(rows[0]["n"]) if rows else 0

    bands = {row["_id"]: row["count"] for row in facets["bands"]}
    average = facets["average"][0]["value"] if facets["average"] else None
    return {
        "channel": channel,
        "products": count("total"),
        "scored": count("scored"),
        "stale": count("stale"),
        "ready": count("ready"),
        "averageScore": round(average, 1) if average is not None else None,
        "bands": [
            {"min": low, "max": min(high, 101) - 1, "count": bands.get(low, 0)}
            for low, high in itertools.pairwise(BANDS)
        ],
        "failing": [{"id": row["_id"], "count": row["count"]} for row in facets["failing"]],
    }
