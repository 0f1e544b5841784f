"""Duplicate media: active or rejected assets with equal perceptual hash (``phash``)."""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.audit.asset_links import AssetRef
from resolvers.audit.pipeline import (
    LIVE_ASSET_STATUSES,
    Pipeline,
    Section,
    faceted,
    total_and_examples,
)
from resolvers.db import Catalog


@dataclass(frozen=True, slots=True)
class DuplicateMedia:
    phash: str
    assets: tuple[AssetRef, ...]


def duplicate_media_pipeline(limit: int) -> Pipeline:
    return [
        {
            "$match": {
                "phash": {"$type": "string", "$ne": ""},
                "status": {"$in": list(LIVE_ASSET_STATUSES)},
            }
        },
        {"$group": {"_id": "$phash", "n": {"$sum": 1}}},
        {"$match": {"n": {"$gt": 1}}},
        total_and_examples({"_id": 1}, limit),
    ]


async def duplicate_media(catalog: Catalog, *, limit: int = 100) -> Section[DuplicateMedia]:
    total, rows = await faceted(catalog.assets, duplicate_media_pipeline(limit), limit)
    phashes = [row["_id"] for row in rows]
    members: dict[str, list[AssetRef]] = {p: [] for p in phashes}
    if phashes:
        cursor = catalog.assets.find(
            {"phash": {"$in": phashes}, "status": {"$in": list(LIVE_ASSET_STATUSES)}},
            {"_id": 0, "publicId": 1, "resourceType": 1, "status": 1, "sku": 1, "phash": 1},
        )
        async for asset in cursor:
            members[asset["phash"]].append(
                AssetRef(
                    asset["publicId"],
                    asset.get("resourceType", "image"),
                    asset["status"],
                    asset.get("sku"),
                )
            )
    examples = tuple(
        DuplicateMedia(p, tuple(sorted(members[p], key=lambda a: (a.public_id, a.resource_type))))
        for p in phashes
    )
    return Section(total, examples)
