"""Media links: orphaned assets and references to missing assets (one aggregation serves both).

* **Orphaned asset**: an active or rejected mirror record (it exists in Cloudinary) whose
  ``(resourceType, publicId)`` no product media reference, no video ``poster`` and no
  configured public id (channel placeholders) uses. ``missing``/``deleted`` records are the
  mirror remembering an absence, not assets.
* **Missing asset reference**: a product media reference with no active or rejected record for
  its key (``video`` role → video resource, any other role → image).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from resolvers.audit.pipeline import (
    EXISTS,
    LIVE_ASSET_STATUSES,
    POSTER,
    REFERENCE,
    Expr,
    Pipeline,
    Section,
    aggregate,
)
from resolvers.db import Catalog, Document


@dataclass(frozen=True, slots=True)
class AssetRef:
    public_id: str
    resource_type: str
    status: str
    sku: str | None  # the product the mirror record claims (Cloudinary context or tag)


@dataclass(frozen=True, slots=True)
class MissingAssetReference:
    sku: str
    public_id: str
    role: str
    resource_type: str
    status: str  # of the mirror record: "missing", "deleted", or "absent" without one


def _asset_key(resource_type: Expr, public_id: Expr) -> Expr:
    # The resource type has no "/", so the first "/" splits the key unambiguously.
    return {
        "$cond": [
            {
                "$and": [
                    {"$eq": [{"$type": resource_type}, "string"]},
                    {"$eq": [{"$type": public_id}, "string"]},
                ]
            },
            {"$concat": [resource_type, "/", public_id]},
            None,
        ]
    }


def _key(resource_type: str, public_id: str) -> str:
    return f"{resource_type}/{public_id}"


def _split_key(key: str) -> tuple[str, str]:
    resource_type, _, public_id = key.partition("/")
    return resource_type, public_id


def media_links_pipeline(linked: Iterable[str], limit: int) -> Pipeline:
    """Orphaned assets (``orphans``) and references to missing assets (``missing``) from one
    $group over every asset key: ``v`` sums REFERENCE per product media reference, POSTER per
    live video naming it as its poster, and EXISTS for a live mirror record."""
    live = {"$in": ["$status", list(LIVE_ASSET_STATUSES)]}
    reference_type = {"$cond": [{"$eq": ["$$m.role", "video"]}, "video", "image"]}
    linked_keys = sorted({_key(t, p) for p in linked for t in ("image", "video")})
    references = {"$mod": ["$v", POSTER]}
    # Unlinked live record (twice if the unique index is missing) / referenced, nothing live.
    orphan = {"$and": [{"$gte": ["$v", EXISTS]}, {"$eq": [{"$mod": ["$v", EXISTS]}, 0]}]}
    missing = {"$and": [{"$lt": ["$v", EXISTS]}, {"$gt": [references, 0]}]}
    return [
        {
            "$project": {
                "_id": 0,
                "k": {
                    "$map": {
                        "input": {"$ifNull": ["$media", []]},
                        "as": "m",
                        "in": _asset_key(reference_type, "$$m.publicId"),
                    }
                },
            }
        },
        {"$unwind": "$k"},
        {"$project": {"k": 1, "v": {"$literal": REFERENCE}}},
        {
            "$unionWith": {
                "coll": "assets",
                "pipeline": [
                    {
                        "$project": {
                            "_id": 0,
                            "k": _asset_key("$resourceType", "$publicId"),
                            "v": {"$cond": [live, EXISTS, 0]},
                        }
                    }
                ],
            }
        },
        {
            "$unionWith": {
                "coll": "assets",
                "pipeline": [
                    {
                        "$match": {
                            "poster": {"$type": "string"},
                            "status": {"$in": list(LIVE_ASSET_STATUSES)},
                        }
                    },
                    {
                        "$project": {
                            "_id": 0,
                            "k": _asset_key("image", "$poster"),
                            "v": {"$literal": POSTER},
                        }
                    },
                ],
            }
        },
        {"$match": {"k": {"$type": "string"}}},
        {"$group": {"_id": "$k", "v": {"$sum": "$v"}}},
        {"$match": {"$expr": {"$or": [orphan, missing]}}},
        {
            "$facet": {
                "orphans": [
                    {"$match": {"$expr": orphan, "_id": {"$nin": linked_keys}}},
                    {"$sort": {"_id": 1}},
                    {
                        "$group": {
                            "_id": None,
                            "n": {"$sum": 1},
                            "first": {"$firstN": {"input": "$_id", "n": max(limit, 1)}},
                        }
                    },
                ],
                "missing": [
                    {"$match": {"$expr": missing}},
                    {"$sort": {"_id": 1}},
                    {
                        "$group": {
                            "_id": None,
                            "n": {"$sum": references},
                            "first": {"$firstN": {"input": "$_id", "n": max(limit, 1)}},
                        }
                    },
                ],
            }
        },
    ]


async def media_links(
    catalog: Catalog, *, linked: Iterable[str] = (), limit: int = 100
) -> tuple[Section[AssetRef], Section[MissingAssetReference]]:
    """Orphaned assets and references to missing assets (one aggregation serves both)."""
    (result,) = await aggregate(catalog.products, media_links_pipeline(linked, limit))
    orphan_total, orphan_keys = _counted_keys(result["orphans"], limit)
    missing_total, missing_keys = _counted_keys(result["missing"], limit)
    records = await _assets_by_key(catalog, [*orphan_keys, *missing_keys])
    referrers = await _referrers(catalog, missing_keys)
    orphan_examples = tuple(
        AssetRef(
            public_id,
            resource_type,
            str(records.get((resource_type, public_id), {}).get("status", "active")),
            records.get((resource_type, public_id), {}).get("sku"),
        )
        for resource_type, public_id in orphan_keys
    )
    missing_examples = []
    for sku, reference in referrers:
        key = (_resource_type(reference), str(reference.get("publicId")))
        missing_examples.append(
            MissingAssetReference(
                sku=sku,
                public_id=key[1],
                role=str(reference.get("role")),
                resource_type=key[0],
                status=str(records.get(key, {}).get("status", "absent")),
            )
        )
    missing_examples.sort(key=lambda e: (e.sku, e.public_id, e.role))
    return (
        Section(orphan_total, orphan_examples),
        Section(missing_total, tuple(missing_examples[:limit])),
    )


def _counted_keys(rows: list[Document], limit: int) -> tuple[int, list[tuple[str, str]]]:
    if not rows:
        return 0, []
    return int(rows[0]["n"]), [_split_key(key) for key in rows[0]["first"][:limit]]


def _resource_type(reference: Document) -> str:
    return "video" if reference.get("role") == "video" else "image"


async def _referrers(
    catalog: Catalog, keys: Sequence[tuple[str, str]]
) -> list[tuple[str, Document]]:
    """(product SKU, media reference) pairs referencing ``keys``."""
    if not keys:
        return []
    wanted = set(keys)
    # No index on media.publicId: one scan, for at most `limit` ids and only when there are any.
    cursor = catalog.products.find(
        {"media.publicId": {"$in": sorted({p for _, p in keys})}},
        {"_id": 0, "sku": 1, "media": 1},
    )
    found = []
    async for product in cursor:
        for reference in product.get("media") or []:
            if (_resource_type(reference), reference.get("publicId")) in wanted:
                found.append((str(product["sku"]), reference))
    return found


async def _assets_by_key(
    catalog: Catalog, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Document]:
    if not keys:
        return {}
    cursor = catalog.assets.find(
        {"publicId": {"$in": sorted({p for _, p in keys})}},
        {"_id": 0, "publicId": 1, "resourceType": 1, "status": 1, "sku": 1},
    )
    wanted = set(keys)
    found: dict[tuple[str, str], Document] = {}
    async for asset in cursor:
        key = (str(asset.get("resourceType", "image")), str(asset["publicId"]))
        if key in wanted:
            found[key] = asset
    return found


async def orphaned_assets(
    catalog: Catalog, *, linked: Iterable[str] = (), limit: int = 100
) -> Section[AssetRef]:
    return (await media_links(catalog, linked=linked, limit=limit))[0]


async def missing_asset_references(
    catalog: Catalog, *, limit: int = 100
) -> Section[MissingAssetReference]:
    return (await media_links(catalog, limit=limit))[1]
