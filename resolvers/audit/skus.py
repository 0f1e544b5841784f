"""Duplicate SKUs: product and variant SKUs equal in the SKU normal form
(:func:`resolvers.audit.expressions.sku_key`)."""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.audit.expressions import sku_key
from resolvers.audit.pipeline import Pipeline, Section, faceted, total_and_examples
from resolvers.db import Catalog


@dataclass(frozen=True, slots=True)
class SkuOccurrence:
    sku: str
    product_sku: str  # the product itself for a product SKU, its owner for a variant SKU
    variant: bool


@dataclass(frozen=True, slots=True)
class DuplicateSku:
    normalized: str
    occurrences: tuple[SkuOccurrence, ...]


def duplicate_skus_pipeline(limit: int) -> Pipeline:
    """Product and variant SKUs grouped by SKU normal form; groups of two or more."""
    variant = {"s": "$$v.sku", "p": "$sku"}
    return [
        {
            "$project": {
                "_id": 0,
                "e": {
                    "$concatArrays": [
                        [{"s": "$sku"}],
                        {
                            "$map": {
                                "input": {"$ifNull": ["$variants", []]},
                                "as": "v",
                                "in": variant,
                            }
                        },
                    ]
                },
            }
        },
        {"$unwind": "$e"},
        {"$match": {"e.s": {"$type": "string"}}},
        {"$group": {"_id": sku_key("$e.s"), "e": {"$push": "$e"}}},
        {"$match": {"e.1": {"$exists": True}}},
        total_and_examples({"_id": 1}, limit),
    ]


async def duplicate_skus(catalog: Catalog, *, limit: int = 100) -> Section[DuplicateSku]:
    total, groups = await faceted(catalog.products, duplicate_skus_pipeline(limit), limit)
    examples = []
    for group in groups:
        occurrences = sorted(
            (
                SkuOccurrence(sku=e["s"], product_sku=e.get("p", e["s"]), variant="p" in e)
                for e in group["e"]
            ),
            key=lambda o: (o.sku, o.product_sku),
        )
        examples.append(DuplicateSku(normalized=group["_id"], occurrences=tuple(occurrences)))
    return Section(total, tuple(examples))
