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
from resolvers.readiness.rollout import ADOPTED, REPLICAS, RULES, adopt, adopted_rules
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


def _under_other_rules(channels: Channels) -> list[dict[str, Any]]:
    """One clause per channel: its stored scores were computed with rules other than these."""
    current = rules_hash(channels)
    return [
        {f"{stored_fields(name)}.rulesHash": {"$nin": [current, None]}} for name in channels.names()
    ]


async def materialize(
    catalog: Catalog,
    channels: Channels,
    locales: LocaleResolver,
    now: datetime,
    *,
    overrule: bool = False,
) -> int:
    """Recompute and store the scores of every product (after a seed, or from cron: promotional
    windows open and close with time). ``overrule``: as in ``rescore_query``."""
    return await rescore_query(catalog, channels, locales, now, {}, overrule=overrule)


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
    there are none (one cheap query finds out). Overrules scores stored under other rules: call
    it only on a replica of the rules stored scores follow (``rollout``)."""
    query = stale_query(channels)
    if not await catalog.products.count_documents(query, limit=1):
        return 0
    return await rescore_query(catalog, channels, locales, now, query, overrule=True)


async def rescore_stale_if_followed(
    catalog: Catalog, channels: Channels, locales: LocaleResolver, now: datetime
) -> int | None:
    """``rescore_stale`` on a replica of the rules stored scores follow (adopting this
    replica's when none are adopted yet: the first start); None on a replica of other rules,
    which leaves the stored scores to the replicas of the adopted ones."""
    current = rules_hash(channels)
    adopted = await adopted_rules(catalog.db)
    if adopted is None:
        adopted = await adopt(catalog.db, current, "start-up", None) or await adopted_rules(
            catalog.db
        )
    if adopted is not None and adopted.rules_hash != current:
        return None
    return await rescore_stale(catalog, channels, locales, now)


async def rescore_query(
    catalog: Catalog,
    channels: Channels,
    locales: LocaleResolver,
    now: datetime,
    query: dict[str, Any],
    *,
    overrule: bool = False,
) -> int:
    """Recompute and store the scores of every product matching ``query`` (the follower's:
    what a batch of changes hit).

    Scores stored under other rules (another ``channels.toml`` during a rolling deploy) are
    left alone unless ``overrule``: only a replica of the rules stored scores follow (its
    readiness follower, ``readiness refresh``) replaces them, so replicas of two configurations
    never rewrite each other's scores (``rollout``).

    Works in batches: one products page, then one query each for their assets, categories and
    attribute definitions, then one bulk write.
    """
    updated = 0
    last_id = None
    others = _under_other_rules(channels)
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
                operations.append(
                    _compare_and_set(product["_id"], fields, based_on, others, overrule=overrule)
                )
            await catalog.products.bulk_write(operations, ordered=False)
            updated += len(operations)


def _compare_and_set(
    product_id: Any,
    fields: dict[str, Any],
    based_on: Any,
    others: list[dict[str, Any]] | None = None,
    *,
    overrule: bool = False,
) -> UpdateOne:
    """Store scores computed from inputs read at ``based_on`` (a cluster time), unless scores
    from a later read are stored already: two recomputations racing (a request's and the
    follower's, or two replicas') never leave the older one's result.

    ``others`` (``_under_other_rules``) match scores stored under other rules: they are left
    alone whatever their time, or with ``overrule`` replaced whatever their time (the cluster
    time orders scores of the same rules only)."""
    condition: dict[str, Any] = {}
    if based_on is not None:  # a standalone server has no cluster time
        condition = {BASED_ON: {"$not": {"$gt": based_on}}}
        fields = {**fields, BASED_ON: based_on}
    if others and overrule:
        condition = {"$or": [*others, condition]} if condition else {}
    elif others:
        condition = {**condition, "$nor": others}
    return UpdateOne({"_id": product_id, **condition}, {"$set": fields})


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
                "rules": [{"$group": {"_id": f"${prefix}.rulesHash", "n": {"$sum": 1}}}],
                # Beside the scores, in the same round trip: which rules the live replicas
                # run and which ones stored scores follow (``rollout``).
                "rollout": [
                    {"$limit": 1},
                    {
                        "$lookup": {
                            "from": REPLICAS,
                            "pipeline": [
                                {"$match": {"$expr": {"$gt": ["$expiresAt", "$$NOW"]}}},
                                {"$group": {"_id": "$rulesHash", "n": {"$sum": 1}}},
                            ],
                            "as": "live",
                        }
                    },
                    {
                        "$lookup": {
                            "from": RULES,
                            "pipeline": [{"$match": {"_id": ADOPTED}}],
                            "as": "adopted",
                        }
                    },
                    {"$project": {"_id": 0, "live": 1, "adopted": 1}},
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

    rules = _rules_in_use(facets, rules_hash(channels))
    bands = {row["_id"]: row["count"] for row in facets["bands"]}
    average = facets["average"][0]["value"] if facets["average"] else None
    return {
        "channel": channel,
        "products": count("total"),
        "scored": count("scored"),
        # Not scored under the rules stored scores follow: being redone (or never scored).
        "stale": count("total") - sum(r["scores"] for r in rules if r["adopted"]),
        "rules": rules,
        "ready": count("ready"),
        "averageScore": round(average, 1) if average is not None else None,
        "bands": [
            {"min": low, "max": min(high, 101) - 1, "count": bands.get(low, 0)}
            for low, high in itertools.pairwise(BANDS)
        ],
        "failing": [{"id": row["_id"], "count": row["count"]} for row in facets["failing"]],
    }


def _rules_in_use(facets: dict[str, Any], current: str) -> list[dict[str, Any]]:
    """Every rules hash that live replicas run or stored scores carry: replicas, scores, and
    whether stored scores follow it (this replica's own when nothing is adopted yet)."""
    scores = {row["_id"]: row["n"] for row in facets["rules"] if row["_id"] is not None}
    rollout = facets["rollout"][0] if facets["rollout"] else {"live": [], "adopted": []}
    replicas = {row["_id"]: row["n"] for row in rollout["live"]}
    adopted = rollout["adopted"][0]["rulesHash"] if rollout["adopted"] else current
    hashes = sorted({*scores, *replicas, adopted, current})
    return [
        {
            "rulesHash": hash_,
            "replicas": replicas.get(hash_, 0),
            "scores": scores.get(hash_, 0),
            "adopted": hash_ == adopted,
            "thisReplica": hash_ == current,
        }
        for hash_ in hashes
    ]
