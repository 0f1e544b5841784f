"""The demo catalog with a mirror record for (almost) every media reference, through the API."""

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from cloudinary_emulator import EmulatorConfig, EmulatorServer, create_emulator
from cloudinary_emulator.store import Asset
from demo.seeding import seed_demo_catalog
from demo.upload import DemoMediaReport, upload_demo_media
from gateway.services import load_profiles, product_writer
from gateway.settings import Settings
from resolvers.assets import DamClient, DamConfig
from resolvers.db import Catalog, ensure_indexes
from resolvers.locales import LocaleResolver
from resolvers.readiness import materialize
from resolvers.services import Services
from resolvers.workflow.publications import backfill
from tests.graphql_helpers import services_for
from tests.media_fixtures import CLOUD, KEY, SECRET

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SETTINGS = Settings()
LOCALES = LocaleResolver(SETTINGS.locales, SETTINGS.default_locale, SETTINGS.fallback_chains)
# Wired with validation.toml's text length limits, as the gateway's are.
CHANNELS = load_profiles(SETTINGS).channels


def mirror_documents(products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mirror records for every reference except the planted missing ones, with some variety."""
    documents = []
    for index, product in enumerate(products):
        for reference in product["media"]:
            if reference["publicId"].startswith("catalog/missing/"):
                continue
            video = reference["role"] == "video"
            documents.append(
                {
                    "publicId": reference["publicId"],
                    "resourceType": "video" if video else "image",
                    "status": "rejected"
                    if index % 17 == 0 and reference["role"] == "hero"
                    else "active",
                    "format": "mp4" if video else "jpg",
                    "width": 800 if index % 5 == 0 else 1600,
                    "height": 800 if index % 5 == 0 else 1600,
                    "alt": {}
                    if index % 7 == 0
                    else {t: "alt" for t in ("en-US", "de-DE", "fr-FR", "it-IT")},
                    "sku": product["sku"],
                    "checkedAt": NOW,
                    "updatedAt": NOW,
                }
            )
    return documents


# What the first seed_demo of the session left in its database, by ``publish``: a later one
# inserts the same documents (~0.2 s) instead of generating, mirroring, scoring and publishing
# 300 products again (~1.5 s; a dozen tests and fixtures seed a database of their own).
_SEEDED: dict[bool, dict[str, list[dict[str, Any]]]] = {}


async def seed_demo(db: AsyncDatabase[dict[str, Any]], *, publish: bool = True) -> Catalog:
    """The demo catalog with its mirror and stored scores; ``publish``: and its published
    products live on every channel, as the demo's start leaves them."""
    catalog = Catalog(db)
    await ensure_indexes(catalog, LOCALES.locales, CHANNELS.names())
    seeded = _SEEDED.get(publish)
    if seeded is not None:
        # insert_many leaves documents that have an _id unchanged: the copies stay as read.
        await asyncio.gather(*(db[name].insert_many(docs) for name, docs in seeded.items()))
        return catalog
    await seed_demo_catalog(db, products=300, locales=SETTINGS.locales)
    products = await catalog.products.find().to_list()
    await catalog.assets.insert_many(mirror_documents(products))
    await materialize(catalog, CHANNELS, LOCALES, NOW)
    if publish:
        # Anonymous and storefront reads read publications: without them they see nothing.
        await backfill(catalog, CHANNELS, LOCALES, NOW)
    collections = await db.list_collection_names(filter={"type": "collection"})
    read = {name: await db[name].find().to_list() for name in collections}
    _SEEDED[publish] = {name: docs for name, docs in read.items() if docs}
    return catalog


@pytest.fixture(scope="session")
async def demo_catalog(
    mongo_client: AsyncMongoClient[dict[str, Any]],
) -> AsyncIterator[Catalog]:
    """One seeded demo catalog for the session (seeding takes seconds, a dozen modules read
    it): tests reach it through ``demo``, which fails a test that changes it."""
    name = f"test_demo_{uuid.uuid4().hex[:12]}"
    yield await seed_demo(mongo_client[name])
    await mongo_client.drop_database(name)


async def content_hash(catalog: Catalog) -> str:
    return str((await catalog.db.command("dbHash"))["md5"])


@pytest.fixture
async def demo(demo_catalog: Catalog) -> AsyncIterator[Services]:
    """Services over the module's demo catalog, which tests only read: one that changes it
    fails here (it would decide what later tests see); such tests take ``fresh_demo``."""
    before = await content_hash(demo_catalog)
    # With the gateway's writer: the docs' write examples run, as dry runs that change nothing.
    writer = product_writer(demo_catalog, load_profiles(SETTINGS))
    services = services_for(demo_catalog, clock=lambda: NOW, writer=writer)
    yield services
    await services.background.drain()
    assert await content_hash(demo_catalog) == before, "the test changed the shared demo catalog"


@pytest.fixture
async def fresh_demo(db: AsyncDatabase[dict[str, Any]]) -> Services:
    """The demo catalog in the test's own database, for tests that change it."""
    return services_for(await seed_demo(db), clock=lambda: NOW)


@dataclass(frozen=True, slots=True)
class DemoMedia:
    """A seeded demo catalog whose pictures went through ``demo.upload`` into an emulator."""

    catalog: Catalog
    dam: DamClient
    emulator: EmulatorServer
    report: DemoMediaReport


@dataclass(frozen=True, slots=True)
class _Uploaded:
    assets: list[Asset]  # the emulator's
    mirror: list[dict[str, Any]]  # the assets collection
    report: DemoMediaReport


@dataclass(slots=True)
class DemoMediaSnapshots:
    """What each demo upload left behind, kept for the session: drawing and uploading ~280
    pictures costs ~15 s of CPU; a later module gets copies of them in well under one."""

    taken: dict[tuple[int, datetime], _Uploaded] = field(default_factory=dict)


@pytest.fixture(scope="session")
def demo_media_snapshots() -> DemoMediaSnapshots:
    return DemoMediaSnapshots()


@asynccontextmanager
async def demo_media_uploaded(
    mongo_client: AsyncMongoClient[dict[str, Any]],
    products: int,
    now: datetime,
    snapshots: DemoMediaSnapshots,
) -> AsyncIterator[DemoMedia]:
    """Seed ``products`` demo products in a database of their own and upload their pictures
    (or restore copies of an earlier upload of the same demo from ``snapshots``).

    The emulator is the caller's own, so the per-test ``dam`` fixture (which empties the
    session emulator) cannot touch it; both are gone when the block ends.
    """
    name = f"test_demo_media_{uuid.uuid4().hex[:12]}"
    db = mongo_client[name]
    try:
        await seed_demo_catalog(db, products=products)
        catalog = Catalog(db)
        emulator = create_emulator(EmulatorConfig(cloud_name=CLOUD, api_key=KEY, api_secret=SECRET))
        earlier = snapshots.taken.get((products, now))
        if earlier is not None:
            for asset in earlier.assets:
                emulator.store.restore(copy.deepcopy(asset))
            await catalog.assets.insert_many(copy.deepcopy(earlier.mirror))
        with EmulatorServer(emulator=emulator) as server:
            sdk = server.sdk_config()
            dam = DamClient(DamConfig(CLOUD, KEY, SECRET, sdk_options=sdk), timeout_s=30)
            if earlier is None:
                report = await upload_demo_media(catalog, dam, now=now)
                mirror = await catalog.assets.find().to_list(None)
                assets = [copy.deepcopy(asset) for asset in emulator.store]
                snapshots.taken[(products, now)] = _Uploaded(assets, mirror, report)
            else:
                report = earlier.report
            yield DemoMedia(catalog, dam, server, report)
    finally:
        await mongo_client.drop_database(name)
