"""``catalog-gateway audit`` (gateway.cli.audit): the report as tables or JSON, and one line when
MongoDB cannot be reached."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from demo.defects import BLANK_ATTRIBUTE
from gateway.cli.audit import add_parser, audit, report_json
from gateway.embedded_mongo import free_port
from gateway.settings import Settings
from tests.fixtures.audit_catalogs import PRODUCTS, Database, audit_demo, defects, seed_demo


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in ("limit", "seconds")}


def audit_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="catalog-gateway")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["audit", *argv])


async def test_cli_prints_tables(
    db: Database, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_demo(db)
    assert await audit(audit_args("--limit", "2"), settings) == 0
    out = capsys.readouterr().out
    planted = defects()
    headers = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert headers[:8] == [
        f"Duplicate SKUs (case, spaces, - and _ ignored): {len(planted.sku_collisions)} group(s)",
        f"Near-duplicate names (per brand and locale): "
        f"{4 * len(planted.near_duplicate_names)} group(s)",
        f"Fill rates over {PRODUCTS} product(s): 1 always-blank field(s)",
        f"Missing required attributes: {len(planted.missing_required_attributes)} "
        "(product, category) pair(s)",
        "Orphaned assets (used by no product or channel): 1 asset(s)",
        f"References to missing assets: {len(planted.missing_assets)} reference(s)",
        f"References to missing products: {len(planted.broken_references)} reference(s)",
        "Duplicate media (equal perceptual hash): 1 group(s)",
    ]
    assert headers[8].startswith("Audited in ")
    lines = out.splitlines()
    gtin = next(line for line in lines if "attributes.gtin" in line)
    assert gtin.split()[-3:] == ["0.0%", "ALWAYS", "BLANK"]
    header = next(line for line in lines if line.split()[:2] == ["field", "locale"])
    # Columns line up: every row of the fill table has its rate right under the "rate" header.
    rate_end = header.index("rate") + len("rate")
    assert gtin[rate_end - len("0.0%") : rate_end] == "0.0%"
    assert "  ... 1 more (raise --limit to see them)" in lines


async def test_cli_prints_json(
    db: Database, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_demo(db)
    assert await audit(audit_args("--json"), settings) == 0
    report = json.loads(capsys.readouterr().out)
    expected = await audit_demo(db, limit=20)
    assert comparable(report) == comparable(report_json(expected))
    assert report["limit"] == 20
    assert report["fillRates"]["alwaysBlank"][0]["field"] == f"attributes.{BLANK_ATTRIBUTE}"


def test_cli_rejects_a_bad_limit(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        audit_args("--limit", "many")
    assert "'many' is not a whole number" in capsys.readouterr().err


async def test_cli_fails_in_one_line_when_mongodb_is_unreachable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        mongodb_uri=f"mongodb://127.0.0.1:{free_port()}/",
        mongo_timeout_ms=200,
        data_dir=tmp_path,
    )
    assert await audit(audit_args(), settings) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("catalog-gateway: error: cannot reach MongoDB: 127.0.0.1:")
