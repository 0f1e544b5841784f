"""`python -m benchmarks imports`: a 10,000-product JSONL import, dry run and apply.

The file is the bench catalog's products (the demo generator's, with 2-6 variants and 3-8 media
references each, planted defects included), one document per line; the mirror holds their
assets, categories and attribute definitions, as after ingest. In an embedded mongod:

1. parse the file;
2. dry run (validation, ownership, media references against the mirror, readiness per channel);
3. apply with ``reject-failed-rows`` (plan and write: products with stored readiness and their
   history events, one transaction per batch); the planted defects are the failed rows;
4. apply the same file again: every row unchanged, nothing written.

Reported: rows/s of each phase (parse included in neither), and the process's peak resident
memory during each (``VmHWM``, reset between phases through ``/proc/self/clear_refs``).
Targets: dry run >= 5,000 rows/s, apply >= 1,000 rows/s.
"""

from __future__ import annotations

import contextlib
import gc
import json
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from pymongo import AsyncMongoClient

from benchmarks.bench_catalog import generate_bench_catalog
from gateway.embedded_mongo import embedded_mongo, find_mongod
from gateway.services import Profiles, load_profiles
from gateway.settings import Settings
from resolvers.access.principal import Principal
from resolvers.db import Catalog, ensure_indexes
from resolvers.imports import ImportJob, ImportPlanner, ImportReport, checksum, parse
from resolvers.validation import Validator
from resolvers.writes import Actor, validate_with
from resolvers.writes.changes import BOOKKEEPING

PRODUCTS = 10_000
DB_NAME = "bench_imports"
DRY_RUN_TARGET = 5_000
APPLY_TARGET = 1_000


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    rows: int
    seconds: float
    peak_rss_mb: float | None
    report: ImportReport | None = None
    cpu_s: float = 0.0
    """CPU seconds of this process and of mongod: on a shared machine, rows per CPU second say
    what the phase costs when wall-clock rows/s only say how busy the machine was."""

    @property
    def rows_per_cpu_s(self) -> float:
        return self.rows / self.cpu_s if self.cpu_s else float("inf")

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")

    def line(self) -> str:
        memory = "" if self.peak_rss_mb is None else f", peak RSS {self.peak_rss_mb:.0f} MB"
        return (
            f"imports: {self.name:<10} {self.rows} rows in {self.seconds:6.2f}s = "
            f"{self.rows_per_s:8.0f} rows/s{memory}; {self.cpu_s:.2f} CPU s "
            f"(here + mongod) = {self.rows_per_cpu_s:.0f} rows per CPU s"
        )


@dataclass(frozen=True, slots=True)
class ImportBench:
    file_mb: float
    parse: Phase
    dry_run: Phase
    apply: Phase
    rerun: Phase


async def prepare(catalog: Catalog, profiles: Profiles, products: int, file: Path) -> None:
    """Write the JSONL file and fill the mirror (assets, categories, attribute definitions)."""
    bench = generate_bench_catalog(products, now=datetime.now(UTC))
    await ensure_indexes(catalog, profiles.locales.locales, profiles.channels.names())
    await catalog.categories.insert_many(bench.categories)
    await catalog.attributes.insert_many(bench.attributes)
    await catalog.assets.insert_many(bench.assets)
    with file.open("w", encoding="utf-8") as out:
        for product in bench.products:
            document = {k: v for k, v in product.items() if k not in BOOKKEEPING or k == "sku"}
            out.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")


class CpuClock:
    """CPU seconds spent by this process and by mongod since the last ``lap``."""

    def __init__(self, mongod_pid: int | None) -> None:
        self._mongod = psutil.Process(mongod_pid) if mongod_pid is not None else None
        self._last = self._now()

    def _now(self) -> float:
        spent = time.process_time()
        if self._mongod is not None:
            times = self._mongod.cpu_times()
            spent += times.user + times.system
        return spent

    def lap(self) -> float:
        now = self._now()
        spent, self._last = now - self._last, now
        return spent


async def run_bench(
    catalog: Catalog,
    profiles: Profiles,
    products: int,
    workdir: Path,
    mongod_pid: int | None = None,
) -> ImportBench:
    file = workdir / "products.jsonl"
    await prepare(catalog, profiles, products, file)
    gc.collect()
    planner = ImportPlanner(
        catalog,
        validate_with(Validator(profiles.validation)),
        profiles.ownership,
        profiles.channels,
        profiles.locales,
        clock=lambda: datetime.now(UTC),
    )
    job = ImportJob(planner, Actor(Principal.system()), "reject-failed-rows")
    data = file.read_bytes()
    digest = checksum(data)

    cpu = CpuClock(mongod_pid)
    _reset_peak()
    started = time.perf_counter()
    rows = parse(data, "jsonl", profiles.validation)
    parsed = Phase("parse", len(rows), time.perf_counter() - started, _peak_mb(), cpu_s=cpu.lap())

    _reset_peak()
    started = time.perf_counter()
    dry = await job.dry_run(rows, digest, "jsonl")
    dry_run = Phase("dry run", len(rows), time.perf_counter() - started, _peak_mb(), dry, cpu.lap())

    _reset_peak()
    started = time.perf_counter()
    written = await job.apply(rows, digest, "jsonl", expect_checksum=digest)
    apply = Phase("apply", len(rows), time.perf_counter() - started, _peak_mb(), written, cpu.lap())

    _reset_peak()
    started = time.perf_counter()
    again = await job.apply(rows, digest, "jsonl")
    rerun = Phase("re-run", len(rows), time.perf_counter() - started, _peak_mb(), again, cpu.lap())
    return ImportBench(len(data) / 1e6, parsed, dry_run, apply, rerun)


def _reset_peak() -> None:
    """Start a new peak resident set (Linux: writing 5 to clear_refs resets VmHWM)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float | None:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def print_results(result: ImportBench) -> None:
    dry, apply, rerun = result.dry_run.report, result.apply.report, result.rerun.report
    assert dry is not None
    assert apply is not None
    assert rerun is not None
    print(
        f"imports: {result.dry_run.rows} rows ({result.file_mb:.1f} MB of JSONL); dry run: "
        f"create {dry.created}, update {dry.updated}, unchanged {dry.unchanged}, "
        f"{dry.failed} rows with errors ({len(dry.errors)} errors)"
    )
    for phase in (result.parse, result.dry_run, result.apply, result.rerun):
        print(phase.line())
    print(
        f"imports: apply wrote {apply.written} products in {apply.batches} transactions "
        f"(events and stored readiness included); re-run: unchanged {rerun.unchanged}, "
        f"written {rerun.written}"
    )
    for name, phase, target in (
        ("dry run", result.dry_run, DRY_RUN_TARGET),
        ("apply", result.apply, APPLY_TARGET),
    ):
        verdict = "met" if phase.rows_per_s >= target else "MISSED"
        print(
            f"imports: target {name} >= {target} rows/s: {verdict} "
            f"({phase.rows_per_cpu_s:.0f} rows per CPU second)"
        )


async def main() -> None:
    settings = Settings()
    profiles = load_profiles(settings)
    with (
        tempfile.TemporaryDirectory(prefix="bench-imports-") as workdir,
        # A production-like WiredTiger cache: with the embedded default (0.25 GB) the data and
        # the 22 indexes of 10,000 products do not fit, and mongod spends 270 CPU seconds
        # evicting inside the apply's transactions instead of 22.
        embedded_mongo(find_mongod(settings.mongod), Path(workdir) / "db", cache_gb=1.0) as server,
    ):
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.uri, tz_aware=True)
        try:
            pid = server.process.pid if server.process is not None else None
            result = await run_bench(
                Catalog(client[DB_NAME]), profiles, PRODUCTS, Path(workdir), pid
            )
        finally:
            await client.close()
    print_results(result)
