"""Near-duplicate names: product names equal in the name normal form
(:func:`resolvers.audit.expressions.name_key`), grouped per brand (normalised the same way) and
locale."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from resolvers.audit.expressions import name_key
from resolvers.audit.pipeline import (
    KEY_SEPARATOR,
    Pipeline,
    Section,
    faceted,
    total_and_examples,
)
from resolvers.db import Catalog, Document


@dataclass(frozen=True, slots=True)
class NamedProduct:
    sku: str
    name: str


@dataclass(frozen=True, slots=True)
class DuplicateName:
    brand: str
    locale: str
    normalized: str
    products: tuple[NamedProduct, ...]


def duplicate_names_pipeline(locales: Sequence[str], limit: int) -> Pipeline:
    """Product names grouped by brand, locale and name normal form; groups of two or more."""
    names = {
        "$filter": {
            "input": {
                "$objectToArray": {"$cond": [{"$eq": [{"$type": "$name"}, "object"]}, "$name", {}]}
            },
            "as": "n",
            "cond": {
                "$and": [
                    {"$in": ["$$n.k", list(locales)]},
                    {"$eq": [{"$type": "$$n.v"}, "string"]},
                ]
            },
        }
    }
    brand = name_key({"$cond": [{"$eq": [{"$type": "$brand"}, "string"]}, "$brand", ""]})
    # One string key (and one accumulator): the smallest $group state per name.
    key = {
        "$let": {
            "vars": {"normal": name_key("$$n.v")},
            "in": {
                "$cond": [
                    {"$eq": ["$$normal", ""]},
                    None,
                    {"$concat": ["$$brand", KEY_SEPARATOR, "$$n.k", KEY_SEPARATOR, "$$normal"]},
                ]
            },
        }
    }
    return [
        {
            "$project": {
                "_id": 0,
                "sku": 1,
                "k": {
                    "$let": {
                        "vars": {"brand": brand},
                        "in": {"$map": {"input": names, "as": "n", "in": key}},
                    }
                },
            }
        },
        {"$unwind": "$k"},
        {"$match": {"k": {"$type": "string"}}},
        {"$group": {"_id": "$k", "skus": {"$push": "$sku"}}},
        {"$match": {"skus.1": {"$exists": True}}},
        total_and_examples({"_id": 1}, limit),
    ]


async def duplicate_names(
    catalog: Catalog, *, locales: Sequence[str], limit: int = 100
) -> Section[DuplicateName]:
    total, groups = await faceted(catalog.products, duplicate_names_pipeline(locales, limit), limit)
    skus = {sku for group in groups for sku in group["skus"]}
    products: dict[str, Document] = {}
    if skus:
        cursor = catalog.products.find(
            {"sku": {"$in": sorted(skus)}}, {"_id": 0, "sku": 1, "brand": 1, "name": 1}
        )
        products = {p["sku"]: p async for p in cursor}
    examples = []
    for group in groups:
        _, locale, normalized = group["_id"].split(KEY_SEPARATOR, 2)
        members = sorted(group["skus"])
        named = tuple(
            NamedProduct(sku, str((products.get(sku, {}).get("name") or {}).get(locale, "")))
            for sku in members
        )
        brand = str(products.get(members[0], {}).get("brand", ""))
        examples.append(DuplicateName(brand, locale, normalized, named))
    return Section(total, tuple(examples))
