"""What a product write refers to, checked before anything is written.

The validator judges a product on its own; references reach outside it: media public ids must
be assets the mirror knows and ingest did not reject, linked SKUs (accessories, related,
bundle items) must be products, categories must exist. A broken reference is a violation like
any other (never dropped silently), so a client learns of it when it writes, not when a
storefront renders a hole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from resolvers.assets.mirror import DELETED
from resolvers.db import Catalog
from resolvers.validation.violations import Violation

REJECTED = "rejected"


async def check_references(
    catalog: Catalog,
    *,
    media: Sequence[str] = (),
    products: Mapping[str, Sequence[str]] | None = None,
    categories: Sequence[str] = (),
) -> list[Violation]:
    """Violations at ``("media", publicId)``, ``(field, sku)`` and ``("categories", slug)``;
    one query per kind of reference given, none when nothing is given."""
    violations: list[Violation] = []
    if media:
        violations += await _media(catalog, media)
    linked = {field: list(skus) for field, skus in (products or {}).items() if skus}
    if linked:
        violations += await _products(catalog, linked)
    if categories:
        violations += await _categories(catalog, categories)
    return violations


async def _media(catalog: Catalog, public_ids: Sequence[str]) -> list[Violation]:
    wanted = list(dict.fromkeys(public_ids))
    usable: set[str] = set()
    refused: set[str] = set()
    found = catalog.assets.find({"publicId": {"$in": wanted}}, {"publicId": 1, "status": 1})
    async for asset in found:
        if asset.get("status") in (REJECTED, DELETED):
            refused.add(asset["publicId"])
        else:
            usable.add(asset["publicId"])  # one usable resource type is enough
    violations = []
    for public_id in wanted:
        if public_id in usable:
            continue
        if public_id in refused:
            violations.append(
                Violation(
                    ("media", public_id),
                    "REJECTED_ASSET",
                    f"asset {public_id!r} was rejected by ingest or deleted from Cloudinary",
                    "references.media",
                )
            )
        else:
            violations.append(
                Violation(
                    ("media", public_id),
                    "UNKNOWN_REFERENCE",
                    f"no asset {public_id!r} in the asset mirror (upload it, or let the "
                    "webhook or `media sync` mirror it, first)",
                    "references.media",
                )
            )
    return violations


async def _products(catalog: Catalog, linked: Mapping[str, Sequence[str]]) -> list[Violation]:
    wanted = list(dict.fromkeys(sku for skus in linked.values() for sku in skus))
    found = catalog.products.find({"sku": {"$in": wanted}}, {"sku": 1, "_id": 0})
    existing = {document["sku"] async for document in found}
    return [
        Violation(
            (field, sku),
            "UNKNOWN_REFERENCE",
            f"no product with SKU {sku!r}",
            "references.products",
        )
        for field, skus in linked.items()
        for sku in dict.fromkeys(skus)
        if sku not in existing
    ]


async def _categories(catalog: Catalog, slugs: Sequence[str]) -> list[Violation]:
    wanted = list(dict.fromkeys(slugs))
    found = catalog.categories.find({"slug": {"$in": wanted}}, {"slug": 1, "_id": 0})
    existing = {document["slug"] async for document in found}
    return [
        Violation(
            ("categories", slug),
            "UNKNOWN_REFERENCE",
            f"no category {slug!r}",
            "references.categories",
        )
        for slug in wanted
        if slug not in existing
    ]
