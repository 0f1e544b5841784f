"""``catalog-gateway import`` (gateway.cli.import_): dry run then apply tied by the checksum,
one-line errors, exit statuses, the JSON report, CSV with localized columns and variants."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import build_parser
from gateway.cli.import_ import import_file
from gateway.embedded_mongo import free_port
from gateway.settings import Settings
from resolvers.db import Catalog
from resolvers.imports import checksum
from tests.resolvers.imports.fixtures import counts, jsonl, prepared, product

pytestmark = pytest.mark.indexed


def import_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["import", *argv])


@pytest.fixture
async def catalog(db: Any) -> Catalog:
    return await prepared(Catalog(db))


async def test_a_dry_run_prints_the_checksum_and_the_apply_writes_that_file(
    catalog: Catalog, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "products.jsonl"
    file.write_bytes(jsonl([product("P-1"), product("P-2")]))
    digest = checksum(file.read_bytes())
    assert await import_file(import_args(str(file), "--dry-run"), settings) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # no progress bar when stderr is not a terminal
    out = captured.out.splitlines()
    assert out[0] == f"{file} (jsonl, sha256 {digest}): 2 rows"
    assert (
        out[1]
        == "dry run: would create 2, update 0, unchanged 0, 0 rows with errors; nothing written"
    )
    assert out[-1] == f"apply with: catalog-gateway import {file} --expect-checksum {digest}"
    assert await counts(catalog) == (0, 0)

    file.write_bytes(jsonl([product("P-1")]))
    assert await import_file(import_args(str(file), "--expect-checksum", digest), settings) == 1
    assert capsys.readouterr().err.startswith(
        f"catalog-gateway: error: {file}: the file's checksum"
    )
    assert await counts(catalog) == (0, 0)

    file.write_bytes(jsonl([product("P-1"), product("P-2")]))
    assert await import_file(import_args(str(file), "--expect-checksum", digest), settings) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].endswith(
        "create 2, update 0, unchanged 0, 0 rows with errors; 2 products written in 1 transaction"
    )
    assert await counts(catalog) == (2, 2)
    assert await import_file(import_args(str(file)), settings) == 0
    assert "create 0, update 0, unchanged 2" in capsys.readouterr().out
    assert await counts(catalog) == (2, 2)


async def test_row_errors_are_one_line_each_and_exit_1(
    catalog: Catalog, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "products.csv"
    file.write_text(
        "sku,parentSku,brand,categories,name[en-US],description[en-US],attr:color,option:size,media:hero\n"
        "P-1,,Acme,shoes,Trail Shoe,Light and quick on every trail.,red,,catalog/P-1/hero-1\n"
        "P-1-42,P-1,,,,,,42,\n"
        "P-2,,Acme,shoes,Road Shoe,Light and quick on every road.,plaid,,catalog/gone\n"
    )
    assert await import_file(import_args(str(file), "--json"), settings) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["rows"], report["create"], report["failed"], report["written"]) == (2, 1, 1, 0)
    assert [(e["line"], e["sku"], e["path"], e["code"]) for e in report["errors"]] == [
        (4, "P-2", "attributes.color", "ENUM"),
        (4, "P-2", "media.0", "DELETED_ASSET"),
    ]
    assert await counts(catalog) == (0, 0)

    args = import_args(str(file), "--error-policy", "reject-failed-rows")
    assert await import_file(args, settings) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"{file}:4: P-2: attributes.color: ENUM: 'plaid' is not one of" in "\n".join(out)
    assert await counts(catalog) == (1, 1)
    stored = await catalog.products.find_one({"sku": "P-1"})
    assert stored is not None
    assert stored["variants"] == [{"sku": "P-1-42", "options": {"size": "42"}}]
    assert stored["name"] == {"en-US": "Trail Shoe"}
    [event] = await catalog.change_events.find().to_list()
    assert event["importJob"].startswith("import-")


async def test_a_file_that_cannot_be_parsed_names_line_and_column(
    catalog: Catalog, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "products.jsonl"
    file.write_text('{"sku": "P-1"}\n{"sku": "P-2"\n')
    assert await import_file(import_args(str(file)), settings) == 1
    assert capsys.readouterr().err == (
        f"catalog-gateway: error: {file}:2:14: Expecting ',' delimiter\n"
    )
    other = tmp_path / "products.txt"
    other.write_text("")
    assert await import_file(import_args(str(other)), settings) == 1
    assert "give --format csv or jsonl" in capsys.readouterr().err
    assert await import_file(import_args(str(file), "--source", "mainframe"), settings) == 1
    assert "not a source system" in capsys.readouterr().err


async def test_an_import_fails_in_one_line_when_mongodb_is_unreachable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "products.jsonl"
    file.write_bytes(jsonl([product("P-1")]))
    settings = Settings(
        mongodb_uri=f"mongodb://127.0.0.1:{free_port()}/", mongo_timeout_ms=200, data_dir=tmp_path
    )
    assert await import_file(import_args(str(file), "--dry-run"), settings) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("catalog-gateway: error: cannot reach MongoDB: 127.0.0.1:")
    assert "Topology Description" not in line
