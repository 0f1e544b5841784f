"""How long the catalog audit takes on 100,000 demo products and their media mirror, against a
fresh embedded mongod (seeding takes a few minutes; the audit is what is timed)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from demo.defects import MISSING_ASSET_PREFIX
from demo.seeding import seed_demo_catalog
from gateway.embedded_mongo import embedded_mongo, find_mongod
from gateway.settings import Settings
from resolvers import audit
from resolvers.db import Catalog, ensure_indexes
from resolvers.locales import LocaleResolver

PRODUCTS = 100_000
ORPHANS = 1_000
# About one asset in this many shares its phash with others (a few per group).
DUPLICATE_EVERY = 97
LIMIT = 20


def mirror_pipeline(now: datetime) -> list[dict[str, Any]]:
    """A mirror record for every planted-present media reference, written by the server."""
    hashed = {"$toHashedIndexKey": "$publicId"}
    duplicated = {"$eq": [{"$mod": [hashed, DUPLICATE_EVERY]}, 0]}
    return [
        {"$project": {"_id": 0, "sku": 1, "media": 1}},
        {"$unwind": "$media"},
        {"$match": {"media.publicId": {"$not": {"$regex": f"^{MISSING_ASSET_PREFIX}"}}}},
        {
            "$project": {
                "publicId": "$media.publicId",
                "resourceType": {"$cond": [{"$eq": ["$media.role", "video"]}, "video", "image"]},
                "status": "active",
                "role": "$media.role",
                "sku": 1,
                "checkedAt": now,
                "updatedAt": now,
                "source": "benchmark",
            }
        },
        {
            "$set": {
                "phash": {
                    "$toString": {
                        "$cond": [duplicated, {"$mod": [hashed, 1_000 * DUPLICATE_EVERY]}, hashed]
                    }
                }
            }
        },
        {
            "$merge": {
                "into": "assets",
                "on": ["publicId", "resourceType"],
                "whenMatched": "keepExisting",
                "whenNotMatched": "insert",
            }
        },
    ]


async def seed(catalog: Catalog, settings: Settings) -> None:
    started = time.perf_counter()
    report = await seed_demo_catalog(catalog.db, products=PRODUCTS, locales=settings.locales)
    seeded = time.perf_counter() - started
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    await (await catalog.products.aggregate(mirror_pipeline(now), allowDiskUse=True)).to_list()
    await catalog.assets.insert_many(
        [
            {
                "publicId": f"catalog/unused/{n:05d}",
                "resourceType": "image",
                "status": "active",
                "phash": f"unused-{n}",
                "checkedAt": now,
                "updatedAt": now,
            }
            for n in range(ORPHANS)
        ]
    )
    mirrored = time.perf_counter() - started
    assets = await catalog.assets.count_documents({})
    print(f"audit: seeded {report} in {seeded:.1f}s", flush=True)
    print(f"audit: mirrored {assets} assets ({ORPHANS} unused) in {mirrored:.1f}s", flush=True)


async def time_sections(catalog: Catalog, locales: LocaleResolver) -> None:
    fallbacks = audit.audit_fallbacks(locales)
    tags = locales.locales
    sections: dict[str, Callable[[], Awaitable[Any]]] = {
        "duplicate_skus": lambda: audit.duplicate_skus(catalog, limit=LIMIT),
        "duplicate_names": lambda: audit.duplicate_names(catalog, locales=tags, limit=LIMIT),
        "fill_rates": lambda: audit.fill_rates(catalog, locales=tags, fallbacks=fallbacks),
        "missing_required_attributes": lambda: audit.missing_required_attributes(
            catalog, locales=tags, limit=LIMIT, fallbacks=fallbacks
        ),
        "media_links (orphans + missing assets)": lambda: audit.media_links(catalog, limit=LIMIT),
        "missing_product_references": lambda: audit.missing_product_references(
            catalog, limit=LIMIT
        ),
        "duplicate_media": lambda: audit.duplicate_media(catalog, limit=LIMIT),
    }
    total = 0.0
    for name, section in sections.items():
        started = time.perf_counter()
        await section()
        took = time.perf_counter() - started
        total += took
        print(f"audit:   {name:<40} {took:6.2f}s", flush=True)
    print(f"audit:   {'sum':<40} {total:6.2f}s", flush=True)


async def main() -> None:
    settings = Settings()
    locales = LocaleResolver(settings.locales, settings.default_locale, settings.fallback_chains)
    with (
        tempfile.TemporaryDirectory(prefix="bench-audit-") as dbpath,
        embedded_mongo(find_mongod(settings.mongod), Path(dbpath)) as server,
    ):
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.uri, tz_aware=True)
        catalog = Catalog(client["bench"])
        await ensure_indexes(catalog, settings.locales)
        await seed(catalog, settings)
        for run in ("first", "second"):
            report = await audit.run_audit(
                catalog,
                locales=locales.locales,
                limit=LIMIT,
                fallbacks=audit.audit_fallbacks(locales),
            )
            print(f"audit: run_audit ({run} run, sections concurrently), wall seconds:", flush=True)
            for name in audit.SECTIONS:
                total = getattr(report, name).total
                print(
                    f"audit:   {name:<40} {report.seconds[name]:6.2f}s  total={total}", flush=True
                )
            print(f"audit:   {'total':<40} {report.seconds['total']:6.2f}s", flush=True)
        print("audit: each section alone:", flush=True)
        await time_sections(catalog, locales)
        await client.close()
