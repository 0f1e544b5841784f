"""The small collections some sections need: category requirements and attribute definitions.

**Required attributes** of a category are its own ``requiredAttributes`` and its ancestors'.
"""

from __future__ import annotations

from resolvers.audit.pipeline import Pipeline, aggregate
from resolvers.db import Catalog


def category_requirements_pipeline() -> Pipeline:
    """Each category's required attribute codes, its ancestors' included."""
    own = {"$ifNull": ["$requiredAttributes", []]}
    inherited = {
        "$reduce": {
            "input": "$up.r",
            "initialValue": [],
            "in": {"$setUnion": ["$$value", {"$ifNull": ["$$this", []]}]},
        }
    }
    return [
        {
            "$lookup": {
                "from": "categories",
                "localField": "ancestors",
                "foreignField": "slug",
                "as": "up",
                "pipeline": [{"$project": {"_id": 0, "r": "$requiredAttributes"}}],
            }
        },
        {"$project": {"_id": 0, "slug": 1, "required": {"$setUnion": [own, inherited]}}},
    ]


async def category_requirements(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    rows = await aggregate(catalog.categories, category_requirements_pipeline())
    return {
        row["slug"]: tuple(sorted(row["required"]))
        for row in rows
        if isinstance(row.get("slug"), str)
    }


async def attribute_definitions(catalog: Catalog) -> dict[str, bool]:
    """Attribute code → localizable."""
    cursor = catalog.attributes.find({}, {"_id": 0, "code": 1, "localizable": 1})
    return {d["code"]: bool(d.get("localizable")) async for d in cursor if "code" in d}
