"""Shared fixtures: a real MongoDB (an ephemeral mongod or ``MONGODB_URI``), a database per test
(tests/database_fixtures.py)."""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient, MongoClient

from gateway.embedded_mongo import embedded_mongo, find_mongod
from gateway.settings import Settings
from tests.cli_fixtures import cli_env
from tests.command_counter import CommandCounter
from tests.database_fixtures import INDEXED, INDEXED_HELP, POOL_STATS, db, db_name, indexed_pool
from tests.demo_fixtures import demo, demo_catalog, demo_media_snapshots, fresh_demo
from tests.media_fixtures import dam, emulator

# Fixtures shared with every test module.
__all__ = [
    "cli_env",
    "dam",
    "db",
    "db_name",
    "demo",
    "demo_catalog",
    "demo_media_snapshots",
    "emulator",
    "fresh_demo",
    "indexed_pool",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", INDEXED_HELP)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # fresh_demo seeds the test's database after ensure_indexes with the defaults: any test
    # that takes it can start from the indexed pool.
    for item in items:
        if "fresh_demo" in getattr(item, "fixturenames", ()):
            item.add_marker(INDEXED)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if POOL_STATS:
        counts = ", ".join(f"{count} {what}" for what, count in sorted(POOL_STATS.items()))
        terminalreporter.write_line(f"indexed test databases: {counts}")


@pytest.fixture(autouse=True, scope="session")
def _collect_garbage_at_the_end() -> Iterator[None]:
    """Leaks of the session fixtures fail the last test's teardown, like those of a module;
    so does what outlived its module and was frozen there (below), then became garbage."""
    yield
    gc.unfreeze()
    gc.collect()


@pytest.fixture(autouse=True, scope="module")
def _collect_garbage_per_module() -> Iterator[None]:
    """A socket, client or transport a module left unclosed fails that module (filterwarnings
    makes the ResourceWarning of its finalizer an error) rather than whichever later test the
    collector happens to run in. PYTHONTRACEMALLOC=5 shows where it was opened.

    What is still reachable then (modules, the schema, session fixtures) is frozen: every
    later collection, these ~160 and the automatic ones, would walk it again (~0.1 s each
    here). Garbage is never frozen, since the collection just ran."""
    yield
    gc.collect()
    gc.freeze()


def scratch_dir() -> str | None:
    """/dev/shm when it has room (a few hundred MB are used): in memory, the throwaway mongod's
    fsyncs and the removal of its files at the end cost nothing. None: the usual temp dir."""
    shm = Path("/dev/shm")
    try:
        if os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 2 * 1024**3:
            return str(shm)
    except OSError:
        pass
    return None


# CATALOG_KEY_PEPPER of the tests' gateways (outside the demo it is required).
TEST_KEY_PEPPER = "test pepper: 32 characters or more"


@pytest.fixture(scope="session")
def mongodb_uri() -> Iterator[str]:
    """``MONGODB_URI`` when given, otherwise an ephemeral single-node replica set."""
    external = os.environ.get("MONGODB_URI")
    if external:
        yield external
        return
    binary = find_mongod(
        Path(os.environ["CATALOG_MONGOD"]) if "CATALOG_MONGOD" in os.environ else None
    )
    with (
        tempfile.TemporaryDirectory(prefix="catalog-test-mongod-", dir=scratch_dir()) as dbpath,
        embedded_mongo(binary, Path(dbpath)) as server,
    ):
        # Index builds and database drops wait for a journal commit, every 100 ms by default:
        # ~0.1 s of each test's set-up and teardown. A throwaway server can commit every 1 ms.
        with MongoClient[dict[str, Any]](server.uri) as client:
            client.admin.command("setParameter", 1, journalCommitInterval=1)
            # Every test database brings ~60 collections and indexes, each a WiredTiger file,
            # and WiredTiger keeps a file open for 10 minutes after its last use (dropped ones
            # too, until a checkpoint): the suite ran into the open-file limit (20,000 here)
            # and mongod aborted. Closing idle files after a few seconds keeps a few hundred.
            client.admin.command(
                "setParameter",
                1,
                wiredTigerEngineRuntimeConfig="file_manager=(close_idle_time=5,"
                "close_scan_interval=2,close_handle_minimum=250)",
            )
        yield server.uri
        # Its data goes with the directory: no clean shutdown (5-10 s of checkpointing).
        process = server.process
        if process is not None:
            process.kill()
            process.wait()
            if process.stderr:  # EmbeddedMongo.stop closes it only for a running mongod
                process.stderr.close()


@pytest.fixture(scope="session")
def command_counter() -> CommandCounter:
    return CommandCounter()


@pytest.fixture(scope="session")
async def mongo_client(
    mongodb_uri: str, command_counter: CommandCounter
) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongodb_uri,
        event_listeners=[command_counter],
        tz_aware=True,
        # The session's event loop stands still while a synchronous test runs (a CLI command
        # in a subprocess can take a minute on a loaded machine). The server monitor's check
        # in flight then "times out" when the loop resumes, and PyMongo clears the pool and
        # cancels the next test's operation (_OperationCancelled). Its timeout is this one.
        connectTimeoutMS=600_000,
    )
    yield client
    await client.close()


@pytest.fixture
def settings(mongodb_uri: str, db_name: str, tmp_path: Path) -> Settings:
    return Settings(
        mongodb_uri=mongodb_uri,
        db=db_name,
        data_dir=tmp_path / "data",
        key_pepper=TEST_KEY_PEPPER,
        # Its own tests turn it on: elsewhere a task rescoring behind a test's back would make
        # what the test sees depend on timing.
        readiness_follower=False,
        cache_invalidation=False,
        # Its tests sweep by hand: a sweep's Admin API calls would upset others' exact counts.
        dam_reconcile=False,
    )
