"""The imports benchmark's harness on a small bench catalog, timing nothing: the file it
writes imports with the planted defects as the only failed rows, apply writes what the dry run
reported, and the re-run writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.imports import run_bench
from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.db import Catalog

PRODUCTS = 60


async def test_the_import_benchmark_applies_what_its_dry_run_reported(
    db: Any, tmp_path: Path
) -> None:
    catalog = Catalog(db)
    result = await run_bench(catalog, load_profiles(Settings()), PRODUCTS, tmp_path)
    dry, apply, rerun = result.dry_run.report, result.apply.report, result.rerun.report
    assert dry is not None
    assert apply is not None
    assert rerun is not None
    assert dry.rows == apply.rows == rerun.rows == PRODUCTS
    assert 0 < dry.failed < PRODUCTS
    assert (apply.created, apply.failed) == (dry.created, dry.failed)
    assert apply.written == dry.created == await catalog.products.count_documents({})
    assert await catalog.change_events.count_documents({}) == dry.created
    assert (rerun.unchanged, rerun.written) == (dry.created, 0)
    assert await catalog.change_events.count_documents({}) == dry.created
    scored = await catalog.products.count_documents({"readiness.web.score": {"$exists": True}})
    assert scored == dry.created
