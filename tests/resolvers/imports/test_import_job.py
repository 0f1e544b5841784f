"""Dry run and apply of imports on a real replica set: what apply writes is what the dry run
reported, error policies, media references, ownership, idempotent re-runs, history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from resolvers.access.principal import Principal
from resolvers.db import Catalog
from resolvers.imports import (
    ImportJob,
    ImportPlanner,
    ImportReport,
    ImportRow,
    RowError,
    RowPlan,
    checksum,
    parse,
)
from resolvers.imports.job import ChecksumMismatchError
from resolvers.imports.plan import FileState
from resolvers.writes import Actor, ValidationFailure
from resolvers.writes.changes import BOOKKEEPING, FieldChange
from tests.resolvers.imports.fixtures import (
    PROFILES,
    SYSTEM,
    counts,
    job,
    jsonl,
    planner,
    prepared,
    product,
    writer,
)

pytestmark = pytest.mark.indexed

RULES = PROFILES.validation
GERMAN = "Leicht und schnell auf jedem Pfad."


@pytest.fixture
async def catalog(db: AsyncDatabase[dict[str, Any]]) -> Catalog:
    return await prepared(Catalog(db))


async def dry(catalog: Catalog, data: bytes, **options: Any) -> ImportReport:
    return await job(catalog, **options).dry_run(
        parse(data, "jsonl", RULES), checksum(data), "jsonl"
    )


async def applied(catalog: Catalog, data: bytes, **options: Any) -> ImportReport:
    return await job(catalog, **options).apply(parse(data, "jsonl", RULES), checksum(data), "jsonl")


def summary(report: ImportReport) -> tuple[int, int, int, int, int]:
    return (report.rows, report.created, report.updated, report.unchanged, report.failed)


async def test_a_dry_run_reports_creates_and_readiness_and_writes_nothing(
    catalog: Catalog,
) -> None:
    data = jsonl([product("P-1"), product("P-2")])
    report = await dry(catalog, data)
    assert report.errors == []
    assert summary(report) == (2, 2, 0, 0, 0)
    assert set(report.readiness) == set(PROFILES.channels.names())
    assert all(r.products == 2 and r.mean_score is not None for r in report.readiness.values())
    assert report.checksum == checksum(data)
    assert await counts(catalog) == (0, 0)


async def test_apply_writes_exactly_what_the_dry_run_reported(catalog: Catalog) -> None:
    await writer(catalog).create(product("P-2", brand="Old"), SYSTEM)
    data = jsonl([product("P-1"), product("P-2")])
    rows = parse(data, "jsonl", RULES)
    plans = [plan async for batch in planner(catalog).plan(rows, SYSTEM) for plan in batch]
    dry_report = await dry(catalog, data)
    report = await applied(catalog, data)
    assert summary(report) == summary(dry_report) == (2, 1, 1, 0, 0)
    assert report.written == 2
    assert report.batches == 1
    assert {c: (r.ready, r.score_total) for c, r in report.readiness.items()} == {
        c: (r.ready, r.score_total) for c, r in dry_report.readiness.items()
    }
    for plan in plans:
        stored = await catalog.products.find_one({"sku": plan.sku})
        assert stored is not None
        assert plan.product is not None
        assert {k: v for k, v in stored.items() if k not in BOOKKEEPING} == {
            k: v for k, v in plan.product.items() if k not in BOOKKEEPING
        }
        assert stored["revision"] == plan.revision
        for channel, readiness in plan.readiness.items():
            assert stored["readiness"][channel]["score"] == readiness["score"]
        [event] = await catalog.change_events.find(
            {"sku": plan.sku, "importJob": report.job_id}
        ).to_list()
        assert tuple(FieldChange.from_document(c) for c in event["changes"]) == plan.changes
        assert event["revision"] == plan.revision
        assert event["operation"] == plan.action


async def test_the_planner_answers_what_the_writer_dry_run_answers(catalog: Catalog) -> None:
    product_writer = writer(catalog)
    await product_writer.create(product("P-2"), SYSTEM)
    changed = product("P-2", brand="New", name={"en-US": "x" * 500})
    rows = parse(jsonl([product("P-1"), changed]), "jsonl", RULES)
    [create, update] = await planner(catalog).plan_batch(rows, SYSTEM)
    by_writer = await product_writer.create(product("P-1"), SYSTEM, dry_run=True)
    assert create.changes == by_writer.changes
    patch = {k: v for k, v in changed.items() if k != "sku"}
    by_writer = await product_writer.update(
        "P-2", patch, SYSTEM, expected_revision=None, dry_run=True
    )
    [failure] = by_writer.failures
    assert isinstance(failure, ValidationFailure)
    assert update.action == "error"
    assert [(e.path, e.code) for e in update.errors] == [
        (v.path, v.code) for v in failure.violations
    ]


async def test_reject_all_writes_nothing_when_a_row_in_the_middle_fails(
    catalog: Catalog,
) -> None:
    await writer(catalog).create(product("P-0"), SYSTEM)
    before = await counts(catalog)
    bad = product("P-2", attributes={"color": {"value": "plaid"}})
    data = jsonl([product("P-1"), bad, product("P-3"), product("P-0", brand="Changed")])
    report = await applied(catalog, data, batch_size=1)
    assert summary(report) == (4, 2, 1, 0, 1)
    assert report.written == 0
    assert report.errors == [
        RowError(2, "P-2", ("attributes", "color"), "ENUM", report.errors[0].message)
    ]
    assert await counts(catalog) == before
    stored = await catalog.products.find_one({"sku": "P-0"})
    assert stored is not None
    assert stored["brand"] == "Acme"


async def test_reject_failed_rows_writes_the_good_rows(catalog: Catalog) -> None:
    bad = product("P-2", attributes={"color": {"value": "plaid"}})
    data = jsonl([product("P-1"), bad, product("P-3")])
    report = await applied(catalog, data, policy="reject-failed-rows", batch_size=2)
    assert summary(report) == (3, 2, 0, 0, 1)
    assert report.written == 2
    assert await counts(catalog) == (2, 2)
    assert await catalog.products.find_one({"sku": "P-2"}) is None


async def test_running_the_same_file_again_changes_nothing(catalog: Catalog) -> None:
    data = jsonl([product("P-1"), product("P-2")])
    first = await applied(catalog, data)
    assert first.written == 2
    stored = await catalog.products.find().sort("sku").to_list()
    events = await counts(catalog)
    again = await applied(catalog, data)
    assert summary(again) == (2, 0, 0, 2, 0)
    assert (again.written, again.batches) == (0, 0)
    assert await counts(catalog) == events
    assert await catalog.products.find().sort("sku").to_list() == stored


async def test_media_references_are_checked_against_the_mirror(catalog: Catalog) -> None:
    media = [
        {"publicId": "catalog/P-1/hero-1", "role": "hero", "position": 0},
        {"publicId": "catalog/never-uploaded", "role": "front", "position": 1},
        {"publicId": "catalog/gone", "role": "side", "position": 2},
        {"publicId": "catalog/bad", "role": "back", "position": 3},
    ]
    report = await dry(catalog, jsonl([product("P-1", media=media)]))
    assert [(e.line, e.sku, e.path, e.code) for e in report.errors] == [
        (1, "P-1", ("media", 1), "UNKNOWN_ASSET"),
        (1, "P-1", ("media", 2), "DELETED_ASSET"),
        (1, "P-1", ("media", 3), "REJECTED_ASSET"),
    ]
    assert "too blurry" in report.errors[2].message


async def test_ownership_is_checked_for_the_source_the_import_runs_as(
    catalog: Catalog,
) -> None:
    await writer(catalog).create(product("P-1"), SYSTEM)
    integration = PROFILES.roles.get("integration")
    assert integration is not None
    erp = Actor(Principal("key", integration, "import", source="erp"))
    patch = {
        "sku": "P-1",
        "name": {"en-US": "Renamed"},
        "attributes": {"gtin": {"value": "12345678"}},
    }
    report = await dry(catalog, jsonl([patch]), actor=erp)
    assert [(e.path, e.code) for e in report.errors] == [(("name", "en-US"), "FIELD_OWNERSHIP")]
    assert "pim" in report.errors[0].message


async def test_a_variant_sku_of_another_product_is_a_row_error(catalog: Catalog) -> None:
    await writer(catalog).create(product("P-1"), SYSTEM)
    taken = product("P-2", variants=[{"sku": "P-1-42", "options": {"size": "42"}}])
    twice = product("P-3", variants=[{"sku": "P-9-42", "options": {"size": "42"}}])
    again = product("P-4", variants=[{"sku": "P-9-42", "options": {"size": "42"}}])
    report = await dry(catalog, jsonl([taken, twice, again]))
    assert [(e.line, e.sku, e.path, e.code) for e in report.errors] == [
        (1, "P-2", ("variants", "P-1-42"), "DUPLICATE"),
        (3, "P-4", ("variants", "P-9-42"), "DUPLICATE"),
    ]


async def test_the_same_sku_twice_and_read_only_fields_are_row_errors(catalog: Catalog) -> None:
    report = await dry(catalog, jsonl([product("P-1"), product("P-1", revision=4)]))
    assert [(e.line, e.path, e.code) for e in report.errors] == [(2, ("sku",), "DUPLICATE")]
    report = await dry(catalog, jsonl([product("P-2", revision=4)]))
    assert [(e.line, e.path, e.code) for e in report.errors] == [(1, ("revision",), "READ_ONLY")]


async def test_apply_refuses_a_file_other_than_the_one_checked(catalog: Catalog) -> None:
    data = jsonl([product("P-1")])
    with pytest.raises(ChecksumMismatchError):
        await job(catalog).apply(
            parse(data, "jsonl", RULES), checksum(data), "jsonl", expect_checksum="0" * 64
        )
    assert await counts(catalog) == (0, 0)


@dataclass(frozen=True, slots=True)
class MeddlingPlanner(ImportPlanner):
    """After planning the batch with ``sku`` the first time, another writer changes it."""

    sku: str = ""
    meddled: list[str] = field(default_factory=list)

    async def plan_batch(
        self, rows: Sequence[ImportRow], actor: Actor, seen: FileState | None = None
    ) -> list[RowPlan]:
        plans = await ImportPlanner.plan_batch(self, rows, actor, seen)
        if not self.meddled and any(row.sku == self.sku for row in rows):
            self.meddled.append(self.sku)
            result = await writer(self.catalog).update(
                self.sku, {"description": {"de-DE": GERMAN}}, SYSTEM, expected_revision=None
            )
            assert result.written
        return plans


async def test_a_batch_another_writer_changed_meanwhile_is_planned_and_written_again(
    catalog: Catalog,
) -> None:
    for sku in ("P-1", "P-2", "P-3"):
        await writer(catalog).create(product(sku), SYSTEM)
    base = planner(catalog, batch_size=1)
    meddling = MeddlingPlanner(
        base.catalog,
        base.validate,
        base.ownership,
        base.channels,
        base.locales,
        base.clock,
        1,
        sku="P-2",
    )
    data = jsonl([product(sku, brand="Imported") for sku in ("P-1", "P-2", "P-3")])
    report = await ImportJob(meddling, SYSTEM, "reject-failed-rows").apply(
        parse(data, "jsonl", RULES), checksum(data), "jsonl"
    )
    assert summary(report) == (3, 0, 3, 0, 0)
    assert (report.written, report.batches) == (3, 3)
    stored = await catalog.products.find_one({"sku": "P-2"})
    assert stored is not None
    assert (stored["brand"], stored["description"]["de-DE"], stored["revision"]) == (
        "Imported",
        GERMAN,
        3,
    )
    assert await counts(catalog) == (3, 3 + 1 + 3)
