"""``catalog-gateway migrate`` (gateway.cli.migrate): counts per version, a dry run that writes
nothing, a second run that changes nothing, one-line errors."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import build_parser
from gateway.cli.migrate import migrate
from gateway.embedded_mongo import free_port
from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.db import Catalog
from resolvers.upcasting import count_by_version
from tests.resolvers.test_upcasting import DEMO_PRODUCTS, v1_demo_products


def published_pairs(documents: list[dict[str, Any]] | None = None) -> int:
    """What the migration publishes: each published product, on every channel."""
    products = v1_demo_products() if documents is None else documents
    channels = load_profiles(Settings()).channels.names()
    published = sum(1 for p in products if p["status"] == "published")
    return published * len(channels)


def migrate_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["migrate", *argv])


async def test_a_dry_run_prints_what_would_change_and_writes_nothing(
    db: Any, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    products = Catalog(db).products
    await products.insert_many(v1_demo_products())
    assert await migrate(migrate_args("--dry-run", "--batch-size", "25"), settings) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"products by schemaVersion before: v1: {DEMO_PRODUCTS}",
        f"dry run: would upgrade {DEMO_PRODUCTS} products to v2 (from v1: {DEMO_PRODUCTS}); "
        "nothing written",
        "  v1 -> v2: adds revision (every write increments it); a v1 document is at revision 1",
        f"dry run: would publish {published_pairs()} product-channel pairs published before "
        "publications existed",
    ]
    assert await count_by_version(products) == {1: DEMO_PRODUCTS}
    assert await Catalog(db).publications("web").count_documents({}) == 0


async def test_migrate_upgrades_everything_and_a_second_run_changes_nothing(
    db: Any, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    products = Catalog(db).products
    documents = v1_demo_products()
    documents[0]["schemaVersion"] = 3
    await products.insert_many(documents)
    assert await migrate(migrate_args("--batch-size", "25"), settings) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"products by schemaVersion before: v1: {DEMO_PRODUCTS - 1}, v3: 1",
        f"upgraded {DEMO_PRODUCTS - 1} products to v2 (from v1: {DEMO_PRODUCTS - 1}) in 3 batches",
        f"products by schemaVersion after: v2: {DEMO_PRODUCTS - 1}, v3: 1",
        "1 product with a schemaVersion this gateway cannot read (newer than 2, or malformed): "
        "left alone; the gateway refuses to serve them",
        f"published {published_pairs(documents[1:])} product-channel pairs that were published "
        "before publications existed",
    ]
    web = await Catalog(db).publications("web").find({}, {"sku": 1}).to_list()
    assert sorted(p["sku"] for p in web) == sorted(
        d["sku"] for d in documents[1:] if d["status"] == "published"
    )
    assert await migrate(migrate_args(), settings) == 0
    assert capsys.readouterr().out.splitlines()[:2] == [
        f"products by schemaVersion before: v2: {DEMO_PRODUCTS - 1}, v3: 1",
        "upgraded 0 products to v2 in 0 batches",
    ]


def test_migrate_is_a_command_and_bounds_its_batches(capsys: pytest.CaptureFixture[str]) -> None:
    assert migrate_args().batch_size == 500
    for bad in ("0", "10001", "many"):
        with pytest.raises(SystemExit):
            migrate_args("--batch-size", bad)
    err = capsys.readouterr().err
    assert "argument --batch-size: 0 is not between 1 and 10000" in err
    assert "'many' is not a whole number" in err


async def test_migrate_fails_in_one_line_when_mongodb_is_unreachable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        mongodb_uri=f"mongodb://127.0.0.1:{free_port()}/", mongo_timeout_ms=200, data_dir=tmp_path
    )
    assert await migrate(migrate_args(), settings) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("catalog-gateway: error: cannot reach MongoDB: 127.0.0.1:")
