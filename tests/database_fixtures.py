"""Test databases: a fresh one per test, or one of a pool that already has the catalog's indexes.

Building the catalog's indexes in a new database (~140 of them, four channels' publications
with ~23 each) takes ~0.4 s, more than most tests' own work; hundreds of tests do it first thing.
A test marked ``indexed`` gets a database in which ``ensure_indexes`` already ran with the
gateway's default locales and channels, and no documents: what that test's own (or its
gateway's) ``ensure_indexes`` leaves in a fresh database. Afterwards the database is put back
as it was (documents deleted, other collections dropped) and the next marked test takes it; one
whose indexes or collections a test changed is dropped instead, never handed out again. A marked
test that does not send createIndexes for each of those collections itself fails: the marker
may save work, never hide it.
Unmarked tests get a fresh, empty database, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.db import Catalog, ensure_indexes

INDEXED = "indexed"
INDEXED_HELP = (
    f"{INDEXED}: the test's database (db, db_name, settings) comes with the indexes of "
    "ensure_indexes for the default locales and channels, which the test builds itself too"
)

# What the session's pool did, for the summary at the end (conftest.pytest_terminal_summary).
POOL_STATS: Counter[str] = Counter()

Db = AsyncDatabase[dict[str, Any]]
# A collection as the server describes it: its type and options, and its indexes by name.
Shape = tuple[str, dict[str, Any], dict[str, dict[str, Any]]]


class IndexBuilds(monitoring.CommandListener):
    """The collections a watched database got createIndexes for, from any client of this
    process: the test's own, its gateway's, its command line's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watched: dict[str, set[str]] = {}

    @contextmanager
    def watch(self, database: str) -> Iterator[set[str]]:
        seen: set[str] = set()
        with self._lock:
            self._watched[database] = seen
        try:
            yield seen
        finally:
            with self._lock:
                del self._watched[database]

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "createIndexes":
            with self._lock:
                seen = self._watched.get(event.database_name)
                if seen is not None:
                    seen.add(str(event.command["createIndexes"]))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


# Registered before any client exists (conftest imports this module): every client hears it.
INDEX_BUILDS = IndexBuilds()
monitoring.register(INDEX_BUILDS)


async def ensure_default_indexes(db: Db) -> None:
    """What the gateway's start does to its database with the shipped settings."""
    profiles = load_profiles(Settings())
    await ensure_indexes(Catalog(db), profiles.locales.locales, profiles.channels.names())


def _index(spec: dict[str, Any]) -> dict[str, Any]:
    # The key's order matters (a compound index), the other options' order does not.
    return {**spec, "key": list(spec["key"].items())}


async def _shape(db: Db, info: Mapping[str, Any]) -> Shape:
    indexes = await (await db[info["name"]].list_indexes()).to_list()
    return (
        info.get("type", "collection"),
        dict(info.get("options", {})),
        {spec["name"]: _index(dict(spec)) for spec in indexes},
    )


async def shapes(db: Db) -> dict[str, Shape]:
    infos = await (await db.list_collections()).to_list()
    described = await asyncio.gather(*(_shape(db, info) for info in infos))
    return {info["name"]: shape for info, shape in zip(infos, described, strict=True)}


@dataclass
class IndexedPool:
    """Databases with the default indexes and no documents, each used by one test at a time."""

    client: AsyncMongoClient[dict[str, Any]]
    free: list[str] = field(default_factory=list)
    lent: set[str] = field(default_factory=set)
    template: dict[str, Shape] | None = None
    stats: Counter[str] = field(default_factory=Counter)

    async def take(self) -> str:
        if self.free:
            name = self.free.pop()
            self.stats["reused"] += 1
        else:
            name = f"test_indexed_{uuid.uuid4().hex[:12]}"
            await ensure_default_indexes(self.client[name])
            if self.template is None:
                self.template = await shapes(self.client[name])
            self.stats["built"] += 1
        self.lent.add(name)
        return name

    async def give_back(self, name: str) -> None:
        self.lent.discard(name)
        if await self._restore(self.client[name]):
            self.free.append(name)
        else:
            self.stats["changed, dropped"] += 1
            await self.client.drop_database(name)

    async def _restore(self, db: Db) -> bool:
        """Back to the template: True when done, False when the test changed what deleting
        documents and dropping its own collections cannot undo."""
        assert self.template is not None
        now = await shapes(db)
        if any(name.startswith("system.") for name in now):
            return False
        if any(now.get(name) != shape for name, shape in self.template.items()):
            return False
        await asyncio.gather(
            *(
                db[name].delete_many({}) if name in self.template else db.drop_collection(name)
                for name in now
            )
        )
        return True

    async def close(self) -> None:
        await asyncio.gather(*(self.client.drop_database(name) for name in self.free))
        self.free.clear()


@pytest.fixture(scope="session")
async def indexed_pool(
    mongo_client: AsyncMongoClient[dict[str, Any]],
) -> AsyncIterator[IndexedPool]:
    pool = IndexedPool(mongo_client)
    yield pool
    await pool.close()
    POOL_STATS.update(pool.stats)


@pytest.fixture
async def db_name(
    request: pytest.FixtureRequest,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    indexed_pool: IndexedPool,
) -> AsyncIterator[str]:
    """The test's database name; the database is gone (or back in the pool) afterwards,
    whoever created it: the test, its gateway or its command line."""
    if request.node.get_closest_marker(INDEXED) is None:
        name = f"test_{uuid.uuid4().hex[:12]}"
        yield name
        await mongo_client.drop_database(name)
        return
    name = await indexed_pool.take()
    try:
        with INDEX_BUILDS.watch(name) as built:
            yield name
    finally:
        await indexed_pool.give_back(name)
    # The marker stands for the test's own ensure_indexes with the defaults, never for indexes
    # it would lack in a fresh database.
    missing = sorted(set(indexed_pool.template or ()) - built)
    if missing:
        pytest.fail(
            f"{request.node.nodeid} is marked {INDEXED} but builds no indexes on {missing}: "
            "it must not be marked, or ensure_indexes must get the default locales and channels"
        )


@pytest.fixture
def db(mongo_client: AsyncMongoClient[dict[str, Any]], db_name: str) -> Db:
    """The test's database: fresh and empty, or (marked ``indexed``) with the default indexes."""
    return mongo_client[db_name]
