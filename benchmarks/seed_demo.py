"""How long `seed --demo --products 10000` takes against a fresh embedded mongod."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from demo.catalog import generate_demo_catalog
from demo.seeding import seed_demo_catalog
from gateway.embedded_mongo import embedded_mongo, find_mongod
from gateway.settings import Settings
from resolvers.db import Catalog, ensure_indexes

PRODUCTS = 10_000


async def main() -> None:
    settings = Settings()
    started = time.perf_counter()
    generate_demo_catalog(products=PRODUCTS, locales=settings.locales)
    generated = time.perf_counter() - started
    with (
        tempfile.TemporaryDirectory(prefix="bench-seed-") as dbpath,
        embedded_mongo(find_mongod(settings.mongod), Path(dbpath)) as server,
    ):
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.uri)
        catalog = Catalog(client["bench"])
        await ensure_indexes(catalog, settings.locales)
        started = time.perf_counter()
        report = await seed_demo_catalog(catalog.db, products=PRODUCTS, locales=settings.locales)
        seeded = time.perf_counter() - started
        await client.close()
    print(f"seed: generate {PRODUCTS} products {generated:.2f}s; generate+insert {seeded:.2f}s")
    print(f"seed: {report}")
