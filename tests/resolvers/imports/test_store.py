"""Import jobs in import_jobs: RUNNING with heartbeats and progress, then SUCCEEDED with the
report or FAILED with why; stale ones read as interrupted."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from resolvers.db import Catalog, Document
from resolvers.imports import ImportParseError, ImportReport
from resolvers.imports.job import Progress
from resolvers.imports.store import COLLECTION, INTERRUPTED, SHUT_DOWN, ImportJobs


async def wait_for(jobs: ImportJobs, job_id: str, test: Any, deadline_s: float = 10) -> Document:
    give_up = time.monotonic() + deadline_s
    while True:
        document = await jobs.get(job_id)
        assert document is not None
        if test(document):
            return document
        assert time.monotonic() < give_up, document
        await asyncio.sleep(0.01)


async def created(jobs: ImportJobs, job_id: str) -> None:
    await jobs.create(
        job_id=job_id,
        filename="products.jsonl",
        format="jsonl",
        file_checksum="c" * 64,
        dry_run=True,
        error_policy="reject-all",
        actor="key-1",
    )


async def test_a_running_job_beats_and_records_its_progress_then_its_report(db: Any) -> None:
    jobs = ImportJobs(Catalog(db), lambda: datetime.now(UTC), heartbeat=timedelta(seconds=0.01))
    await created(jobs, "import-1")
    release = asyncio.Event()

    async def work(progress: Progress) -> ImportReport:
        progress("checking", 1, 2)
        await release.wait()
        report = ImportReport("c" * 64, "jsonl", True, "reject-all", rows=2, created=2)
        return report

    running = asyncio.create_task(jobs.run("import-1", work))
    seen = await wait_for(jobs, "import-1", lambda d: d["progress"]["done"] == 1)
    assert (seen["status"], seen["progress"]) == (
        "RUNNING",
        {"phase": "checking", "done": 1, "total": 2},
    )
    release.set()
    await running
    done = await jobs.get("import-1")
    assert done is not None
    assert done["status"] == "SUCCEEDED"
    assert done["counts"] == {
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "failed": 0,
        "written": 0,
    }
    assert done["finishedAt"] is not None


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (ImportParseError(3, 7, "Expecting value"), "line 3, column 7: Expecting value"),
        (RuntimeError("boom"), "internal error; see the gateway's log"),
    ],
)
async def test_a_job_that_raises_is_failed_with_why(
    db: Any, error: Exception, failure: str
) -> None:
    jobs = ImportJobs(Catalog(db), lambda: datetime.now(UTC))
    await created(jobs, "import-2")

    async def work(progress: Progress) -> ImportReport:
        raise error

    await jobs.run("import-2", work)
    done = await jobs.get("import-2")
    assert done is not None
    assert (done["status"], done["failure"], done["counts"]) == ("FAILED", failure, None)


async def test_a_job_without_a_recent_heartbeat_reads_as_interrupted(db: Any) -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    clock = [now]
    jobs = ImportJobs(Catalog(db), lambda: clock[0], stale_after=timedelta(seconds=60))
    await created(jobs, "import-3")
    clock[0] = now + timedelta(seconds=60)
    fresh = await jobs.get("import-3")
    assert fresh is not None
    assert (fresh["status"], fresh["failure"]) == ("QUEUED", None)
    clock[0] = now + timedelta(seconds=61)
    stale = await jobs.get("import-3")
    assert stale is not None
    assert (stale["status"], stale["failure"]) == ("FAILED", INTERRUPTED)
    # Reported, not rewritten: the stored job is as its process left it.
    stored = await db[COLLECTION].find_one({"_id": "import-3"})
    assert stored["status"] == "QUEUED"


async def test_a_job_cancelled_at_shutdown_is_failed_at_once(db: Any) -> None:
    jobs = ImportJobs(Catalog(db), lambda: datetime.now(UTC))
    await created(jobs, "import-4")
    started = asyncio.Event()

    async def work(progress: Progress) -> ImportReport:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("not reached")

    running = asyncio.create_task(jobs.run("import-4", work))
    await started.wait()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    done = await jobs.get("import-4")
    assert done is not None
    assert (done["status"], done["failure"]) == ("FAILED", SHUT_DOWN)
    assert done["finishedAt"] is not None
