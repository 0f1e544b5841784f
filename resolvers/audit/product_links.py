"""References to missing products.

**Missing product reference**: a ``related``, ``accessories`` or ``bundle`` SKU equal to no
product or variant SKU (exactly: normalisation is the duplicate-SKU section's business).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from resolvers.audit.pipeline import EXISTS, REFERENCE, Expr, Pipeline, Section, aggregate
from resolvers.db import Catalog


@dataclass(frozen=True, slots=True)
class MissingProductReference:
    sku: str
    field: Literal["related", "accessories", "bundle"]
    missing_sku: str


REFERENCE_FIELDS: tuple[Literal["related", "accessories", "bundle"], ...] = (
    "related",
    "accessories",
    "bundle",
)


def missing_product_references_pipeline(limit: int) -> Pipeline:
    """SKUs referenced by related/accessories/bundle that no product or variant has."""

    def strings(expr: Expr) -> Expr:
        return {
            "$filter": {
                "input": {"$ifNull": [expr, []]},
                "cond": {"$eq": [{"$type": "$$this"}, "string"]},
            }
        }

    def entries(expr: Expr, flag: int) -> Expr:
        return {"$map": {"input": strings(expr), "in": {"k": "$$this", "v": flag}}}

    references = {"$mod": ["$v", EXISTS]}
    return [
        {
            "$project": {
                "_id": 0,
                "e": {
                    "$concatArrays": [
                        entries(["$sku"], EXISTS),
                        entries("$variants.sku", EXISTS),
                        entries("$related", REFERENCE),
                        entries("$accessories", REFERENCE),
                        entries("$bundle.sku", REFERENCE),
                    ]
                },
            }
        },
        {"$unwind": "$e"},
        {"$group": {"_id": "$e.k", "v": {"$sum": "$e.v"}}},
        {"$match": {"v": {"$lt": EXISTS}}},
        {
            "$facet": {
                "total": [{"$group": {"_id": None, "n": {"$sum": references}}}],
                "examples": [{"$sort": {"_id": 1}}, {"$limit": max(limit, 1)}],
            }
        },
    ]


async def missing_product_references(
    catalog: Catalog, *, limit: int = 100
) -> Section[MissingProductReference]:
    (result,) = await aggregate(catalog.products, missing_product_references_pipeline(limit))
    total = int(result["total"][0]["n"]) if result["total"] else 0
    if not limit or not total:
        return Section(total, ())
    missing = sorted(row["_id"] for row in result["examples"])
    cursor = catalog.products.find(
        {
            "$or": [
                {"related": {"$in": missing}},
                {"accessories": {"$in": missing}},
                {"bundle.sku": {"$in": missing}},
            ]
        },
        {"_id": 0, "sku": 1, "related": 1, "accessories": 1, "bundle": 1},
    )
    wanted = set(missing)
    examples = []
    async for product in cursor:
        for field in REFERENCE_FIELDS:
            values = product.get(field) or []
            skus = (
                [v.get("sku") for v in values if isinstance(v, dict)]
                if field == "bundle"
                else values
            )
            examples += [
                MissingProductReference(product["sku"], field, str(sku))
                for sku in skus
                if sku in wanted
            ]
    examples.sort(key=lambda e: (e.sku, e.field, e.missing_sku))
    return Section(total, tuple(examples[:limit]))
