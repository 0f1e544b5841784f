"""Import jobs started over the API: recorded in ``import_jobs``, run in the background.

The process that received the file runs the job (``Services.background``) and writes its
progress to the job's document, so any replica answers its status. A job's ``updatedAt`` is a
heartbeat, written while the job runs: a job still QUEUED or RUNNING whose heartbeat is older
than ``stale_after`` belonged to a process that died, and is reported FAILED ("interrupted")
without anyone having to clean it up.

Row errors are kept in the job's document (at most ``MAX_STORED_ROW_ERRORS``, below MongoDB's
16 MB document limit; ``rowErrorCount`` counts them all) and read a page at a time with
``$slice``. A TTL index (``resolvers.db.import_job_indexes``) deletes a job
``CATALOG_IMPORT_JOB_TTL_DAYS`` after its last update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pymongo.errors import PyMongoError

from resolvers.db import IMPORT_JOBS, Catalog, Collection, Document, as_utc
from resolvers.imports.job import (
    ChecksumMismatchError,
    ErrorPolicy,
    ImportRaceError,
    ImportReport,
    Progress,
)
from resolvers.imports.parsing import Format, ImportParseError

log = logging.getLogger(__name__)

JobStatus = Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"]
COLLECTION = IMPORT_JOBS
MAX_STORED_ROW_ERRORS = 10_000
HEARTBEAT = timedelta(seconds=5)
STALE_AFTER = timedelta(seconds=60)
INTERRUPTED = "interrupted: the process running the job stopped before it finished"
SHUT_DOWN = "interrupted: the gateway running the job shut down before it finished"

Work = Callable[[Progress], Awaitable[ImportReport]]


def new_job_id() -> str:
    return f"import-{uuid.uuid4().hex[:16]}"


@dataclass(slots=True)
class _Progress:
    phase: str = "checking"
    done: int = 0
    total: int = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        self.phase, self.done, self.total = phase, done, total


@dataclass(frozen=True, slots=True)
class ImportJobs:
    catalog: Catalog
    clock: Callable[[], datetime]
    heartbeat: timedelta = HEARTBEAT
    stale_after: timedelta = STALE_AFTER

    @property
    def collection(self) -> Collection:
        return self.catalog.import_jobs

    async def create(
        self,
        *,
        job_id: str,
        filename: str,
        format: Format,
        file_checksum: str,
        dry_run: bool,
        error_policy: ErrorPolicy,
        actor: str,
    ) -> Document:
        now = self.clock()
        document: Document = {
            "_id": job_id,
            "status": "QUEUED",
            "filename": filename,
            "format": format,
            "checksum": file_checksum,
            "dryRun": dry_run,
            "errorPolicy": error_policy,
            "actor": actor,
            "createdAt": now,
            "updatedAt": now,
            "finishedAt": None,
            "progress": {"phase": "checking", "done": 0, "total": 0},
            "counts": None,
            "readiness": [],
            "rowErrors": [],
            "rowErrorCount": 0,
            "failure": None,
        }
        await self.collection.insert_one(document)
        return document

    async def run(self, job_id: str, work: Work) -> None:
        """Run ``work`` as the job: RUNNING with heartbeats, then SUCCEEDED or FAILED."""
        progress = _Progress()
        await self._set(job_id, {"status": "RUNNING"})
        beating = asyncio.ensure_future(self._beat(job_id, progress))
        try:
            report = await work(progress)
        except (ImportParseError, ChecksumMismatchError, ImportRaceError) as exc:
            await self._finish(job_id, {"status": "FAILED", "failure": str(exc)})
            return
        except asyncio.CancelledError:
            # The gateway is shutting down: say so now rather than after the heartbeat ages.
            with contextlib.suppress(PyMongoError):
                await asyncio.shield(
                    self._finish(job_id, {"status": "FAILED", "failure": SHUT_DOWN})
                )
            raise
        except Exception:
            log.exception("import job %s failed", job_id)
            await self._finish(
                job_id, {"status": "FAILED", "failure": "internal error; see the gateway's log"}
            )
            return
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        await self._finish(job_id, {"status": "SUCCEEDED", **report_fields(report)})

    async def get(self, job_id: str, *, errors: tuple[int, int] = (0, 0)) -> Document | None:
        """The job, with the row errors ``errors`` (offset, count) names; a job whose process
        stopped answering is FAILED (interrupted)."""
        offset, count = errors
        projection = {"rowErrors": {"$slice": [offset, count]}} if count else {"rowErrors": 0}
        document = await self.collection.find_one({"_id": job_id}, projection)
        if document is None:
            return None
        document.setdefault("rowErrors", [])
        stale = self.clock() - self.stale_after
        if document["status"] in ("QUEUED", "RUNNING") and as_utc(document["updatedAt"]) < stale:
            document["status"] = "FAILED"
            document["failure"] = INTERRUPTED
        return document

    async def _beat(self, job_id: str, progress: _Progress) -> None:
        while True:
            await asyncio.sleep(self.heartbeat.total_seconds())
            try:
                await self._set(
                    job_id,
                    {
                        "progress": {
                            "phase": progress.phase,
                            "done": progress.done,
                            "total": progress.total,
                        }
                    },
                )
            except PyMongoError as exc:
                # A missed beat is harmless; the job itself fails if MongoDB stays away.
                log.warning("import job %s: heartbeat not written: %s", job_id, exc)

    async def _set(self, job_id: str, fields: Document) -> None:
        await self.collection.update_one(
            {"_id": job_id}, {"$set": {**fields, "updatedAt": self.clock()}}
        )

    async def _finish(self, job_id: str, fields: Document) -> None:
        await self._set(job_id, {**fields, "finishedAt": self.clock()})


def report_fields(report: ImportReport) -> Document:
    """What a finished job keeps of its report."""
    errors = report.errors[:MAX_STORED_ROW_ERRORS]
    return {
        "counts": {
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "failed": report.failed,
            "written": report.written,
        },
        "progress": {"phase": "done", "done": report.rows, "total": report.rows},
        "readiness": [
            {
                "channel": channel,
                "products": totals.products,
                "ready": totals.ready,
                "meanScore": totals.mean_score,
            }
            for channel, totals in report.readiness.items()
        ],
        "rowErrors": [
            {
                "line": e.line,
                "sku": e.sku,
                "path": [str(p) for p in e.path],
                "code": e.code,
                "message": e.message,
            }
            for e in errors
        ],
        "rowErrorCount": len(report.errors),
    }
