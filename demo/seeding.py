"""Writing the demo catalog into MongoDB: on demand, or once when a replica set starts empty."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from demo.catalog import DEFAULT_LOCALES, generate_demo_catalog
from resolvers.db import Catalog

log = logging.getLogger(__name__)

SEED_CHUNK = 1_000
# The lock document (collection ``gateway_locks``) that elects one seeder among replicas.
DEMO_SEED_LOCK = "demo-seed"
SEED_TAKEOVER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What :func:`seed_demo_catalog` inserted."""

    products: int
    variants: int
    categories: int
    attributes: int
    media_references: int


class CatalogNotEmptyError(ValueError):
    """The catalog already holds products and the caller did not ask to replace them."""


async def seed_demo_catalog(
    db: AsyncDatabase[Any],
    *,
    products: int = 300,
    seed: int = 7,
    locales: Sequence[str] = DEFAULT_LOCALES,
    replace: bool = False,
) -> SeedReport:
    """Insert the demo catalog into ``products``, ``categories`` and ``attributes``.

    Refuses with :class:`CatalogNotEmptyError` when products exist, unless ``replace`` is set,
    which first deletes every document of the three collections (indexes are kept).
    """
    existing = await db["products"].count_documents({})
    if existing and not replace:
        raise CatalogNotEmptyError(
            f"the catalog already holds {existing} product(s) in {db.name}.products; "
            f"use --replace to delete products, categories and attributes and seed again"
        )
    # Generating 10,000 products takes about a second: keep it off the event loop.
    catalog = await asyncio.to_thread(
        generate_demo_catalog, products=products, seed=seed, locales=locales
    )
    if replace:
        for name in ("products", "categories", "attributes"):
            await db[name].delete_many({})
    await _insert(db["attributes"], catalog.attributes)
    await _insert(db["categories"], catalog.categories)
    await _insert(db["products"], catalog.products)
    return SeedReport(
        products=len(catalog.products),
        variants=sum(len(p["variants"]) for p in catalog.products),
        categories=len(catalog.categories),
        attributes=len(catalog.attributes),
        media_references=sum(len(p["media"]) for p in catalog.products),
    )


async def _insert(collection: AsyncCollection[Any], documents: Sequence[Any]) -> None:
    for start in range(0, len(documents), SEED_CHUNK):
        await collection.insert_many(documents[start : start + SEED_CHUNK], ordered=False)


async def seed_demo_if_empty(
    catalog: Catalog, *, products: int, locales: Sequence[str]
) -> SeedReport | None:
    """Seed the demo catalog once, even with several replicas starting together.

    A lock document elects one seeder; a seed that died half-way (lock never completed) is
    taken over after SEED_TAKEOVER and started again from scratch. None when the catalog
    already had products or another process seeds it.
    """
    if await catalog.products.estimated_document_count() > 0:
        return None
    locks = catalog.db["gateway_locks"]
    now = datetime.now(UTC)
    try:
        await locks.insert_one({"_id": DEMO_SEED_LOCK, "startedAt": now})
    except DuplicateKeyError:
        stale = {
            "_id": DEMO_SEED_LOCK,
            "completedAt": {"$exists": False},
            "startedAt": {"$lt": now - SEED_TAKEOVER},
        }
        taken = await locks.find_one_and_update(stale, {"$set": {"startedAt": now}})
        if taken is None:
            log.info("demo catalog: seeded, or being seeded, by another process")
            return None
        log.warning("demo catalog: an earlier seed did not finish; seeding again")
    report = await seed_demo_catalog(catalog.db, products=products, locales=locales, replace=True)
    await locks.update_one({"_id": DEMO_SEED_LOCK}, {"$set": {"completedAt": datetime.now(UTC)}})
    log.info("seeded the demo catalog: %s", report)
    return report
