"""An import job: dry run or apply, with an error policy, and the report both answer.

- ``dry_run``: every row planned (``plan``), nothing written.
- ``reject-all``: the whole file is planned first; one row error and nothing is written. Then
  the file is planned again batch by batch and each batch is written: the second plan sees
  the database as it is when the batch is written, which is what the compare-and-set guards.
- ``reject-failed-rows``: each batch is planned and its good rows written.

A batch is written in one transaction: the products (inserts, and compare-and-set updates on
the revision read) with their stored readiness, and their ``change_events`` with the job id
(``Provenance(import_job=...)``). A batch that lost a race to another writer is planned and
written again. Rows that change nothing write nothing, so running a file twice changes nothing
the second time.

``checksum`` (sha256 of the file) ties a dry-run report to the apply that follows it:
``expect_checksum`` refuses a file that is not the one the dry run checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bson import ObjectId
from pymongo import InsertOne, UpdateOne
from pymongo.errors import BulkWriteError, PyMongoError

from resolvers.db import Catalog, Document
from resolvers.documents import SCHEMA_VERSION
from resolvers.imports.parsing import Format, ImportRow, RowError
from resolvers.imports.plan import FileState, ImportPlanner, RowPlan
from resolvers.writes.history import Actor, Provenance, event_document

ErrorPolicy = Literal["reject-all", "reject-failed-rows"]
ERROR_POLICIES: tuple[ErrorPolicy, ...] = ("reject-all", "reject-failed-rows")
MAX_ATTEMPTS = 5

Progress = Callable[[str, int, int], None]
"""(phase, rows done, rows in all): ``checking`` then, when applying, ``writing``."""


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ChecksumMismatchError(Exception):
    """The file is not the one the dry run checked."""


class ImportRaceError(Exception):
    """Other writers kept changing a batch's products between its plan and its write."""


@dataclass(slots=True)
class ChannelReadiness:
    products: int = 0
    ready: int = 0
    score_total: int = 0

    @property
    def mean_score(self) -> float | None:
        return round(self.score_total / self.products, 1) if self.products else None


@dataclass(slots=True)
class ImportReport:
    checksum: str
    format: Format
    dry_run: bool
    error_policy: ErrorPolicy
    job_id: str | None = None
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    """Rows with errors."""
    errors: list[RowError] = field(default_factory=list)
    readiness: dict[str, ChannelReadiness] = field(default_factory=dict)
    """Per channel, over the rows without errors (as they would be, or were, written)."""
    written: int = 0
    """Products written (created or updated); 0 for a dry run and when reject-all refused."""
    batches: int = 0
    """Transactions committed."""

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, plan: RowPlan) -> None:
        self.rows += 1
        if plan.action == "error":
            self.failed += 1
            self.errors += plan.errors
            return
        if plan.action == "create":
            self.created += 1
        elif plan.action == "update":
            self.updated += 1
        else:
            self.unchanged += 1
        for channel, stored in plan.readiness.items():
            totals = self.readiness.setdefault(channel, ChannelReadiness())
            totals.products += 1
            totals.ready += bool(stored["ready"])
            totals.score_total += int(stored["score"])

    def to_json(self) -> Document:
        return {
            "jobId": self.job_id,
            "checksum": self.checksum,
            "format": self.format,
            "dryRun": self.dry_run,
            "errorPolicy": self.error_policy,
            "rows": self.rows,
            "create": self.created,
            "update": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "written": self.written,
            "batches": self.batches,
            "readiness": {
                channel: {"products": r.products, "ready": r.ready, "meanScore": r.mean_score}
                for channel, r in self.readiness.items()
            },
            "errors": [error.to_json() for error in self.errors],
        }


@dataclass(frozen=True, slots=True)
class ImportJob:
    planner: ImportPlanner
    actor: Actor
    error_policy: ErrorPolicy = "reject-all"
    request_id: str | None = None

    async def dry_run(
        self,
        rows: Sequence[ImportRow],
        file_checksum: str,
        format: Format,
        progress: Progress | None = None,
    ) -> ImportReport:
        report = ImportReport(file_checksum, format, True, self.error_policy)
        async for batch in self.planner.plan(rows, self.actor):
            for plan in batch:
                report.add(plan)
            if progress is not None:
                progress("checking", report.rows, len(rows))
        return report

    async def apply(
        self,
        rows: Sequence[ImportRow],
        file_checksum: str,
        format: Format,
        *,
        expect_checksum: str | None = None,
        progress: Progress | None = None,
        job_id: str | None = None,
    ) -> ImportReport:
        if expect_checksum is not None and expect_checksum != file_checksum:
            raise ChecksumMismatchError(
                f"the file's checksum is {file_checksum}, not {expect_checksum}: it is not the "
                "file the dry run checked"
            )
        job = job_id or f"import-{uuid.uuid4().hex[:16]}"
        if self.error_policy == "reject-all":
            checked = await self.dry_run(rows, file_checksum, format, progress)
            if not checked.ok:
                checked.dry_run = False
                checked.job_id = job
                return checked
        report = ImportReport(file_checksum, format, False, self.error_policy, job_id=job)
        provenance = Provenance(request_id=self.request_id, import_job=job)
        pending: _Pending | None = None
        try:
            seen = FileState()
            size = self.planner.batch_size
            for start in range(0, len(rows) + size, size):
                batch = rows[start : start + size]
                before = seen.copy()
                # Planned while the previous batch's transaction is in MongoDB's hands.
                plans = await self.planner.plan_batch(batch, self.actor, seen) if batch else []
                if pending is not None:
                    try:
                        written = await pending.commit
                    except _LostRaceError:
                        # Another writer came in: that batch again, alone, then this one anew.
                        seen = pending.before.copy()
                        pending.plans, written = await self._write_batch(
                            pending.rows, seen, provenance
                        )
                        before = seen.copy()
                        plans = (
                            await self.planner.plan_batch(batch, self.actor, seen) if batch else []
                        )
                    report.written += written
                    report.batches += 1 if written else 0
                    for plan in pending.plans:
                        report.add(plan)
                    if progress is not None:
                        progress("writing", report.rows, len(rows))
                    stop = self._refuses(pending.plans)
                    pending = None
                    if stop:
                        break
                if not batch:
                    break
                if self._refuses(plans):
                    # The file passed the check, so the database changed since: stop here.
                    for plan in plans:
                        report.add(plan)
                    break
                commit = asyncio.ensure_future(self._commit(plans, provenance))
                pending = _Pending(batch, plans, commit, before)
        finally:
            if pending is not None and not pending.commit.done():
                pending.commit.cancel()
                with contextlib.suppress(BaseException):
                    await pending.commit
        return report

    def _refuses(self, plans: Sequence[RowPlan]) -> bool:
        """Whether reject-all must stop at this batch (a row error after the file passed)."""
        return self.error_policy == "reject-all" and any(p.action == "error" for p in plans)

    async def _write_batch(
        self, rows: Sequence[ImportRow], seen: FileState, provenance: Provenance
    ) -> tuple[list[RowPlan], int]:
        """Plan and write one batch, again while other writers keep changing its products."""
        for _ in range(MAX_ATTEMPTS):
            attempt = seen.copy()
            plans = await self.planner.plan_batch(rows, self.actor, attempt)
            if self._refuses(plans):
                return plans, 0
            try:
                written = await self._commit(plans, provenance)
            except _LostRaceError:
                continue
            seen.skus, seen.variants = attempt.skus, attempt.variants
            return plans, written
        raise ImportRaceError(
            f"rows {rows[0].line}-{rows[-1].line}: other writers changed these products "
            f"{MAX_ATTEMPTS} times between reading and writing"
        )

    async def _commit(self, plans: Sequence[RowPlan], provenance: Provenance) -> int:
        catalog: Catalog = self.planner.catalog
        now = self.planner.clock()
        operations: list[InsertOne[Document] | UpdateOne] = []
        events: list[Document] = []
        updates = 0
        for plan in plans:
            if plan.action not in ("create", "update"):
                continue
            assert plan.product is not None
            assert plan.revision is not None
            readiness = plan.readiness
            if plan.action == "create":
                product: Document = {
                    **plan.product,
                    "_id": ObjectId(),
                    "revision": 1,
                    "schemaVersion": SCHEMA_VERSION,
                    "createdAt": now,
                    "updatedAt": now,
                    "readiness": readiness,
                }
                operations.append(InsertOne(product))
                events.append(
                    event_document(product, 1, "create", plan.changes, self.actor, provenance, now)
                )
                continue
            stored = plan.stored
            assert stored is not None
            after = {
                **plan.product,
                "revision": plan.revision,
                "schemaVersion": SCHEMA_VERSION,
                "updatedAt": now,
            }
            operations.append(UpdateOne(*_compare_and_set(stored, after, plan, readiness)))
            updates += 1
            events.append(
                event_document(
                    stored, plan.revision, "update", plan.changes, self.actor, provenance, now
                )
            )
        if not operations:
            return 0
        client = catalog.db.client
        try:
            async with client.start_session() as session, await session.start_transaction():
                result = await catalog.products.bulk_write(operations, session=session)
                if result.matched_count != updates:
                    raise _LostRaceError
                await catalog.change_events.insert_many(events, session=session)
        except BulkWriteError as exc:
            # A product or variant SKU another writer took since the plan read.
            if any(e.get("code") == 11000 for e in exc.details.get("writeErrors", [])):
                raise _LostRaceError from exc
            raise
        except PyMongoError as exc:
            if exc.has_error_label("TransientTransactionError"):
                raise _LostRaceError from exc
            raise
        return len(operations)


class _LostRaceError(Exception):
    pass


@dataclass(slots=True)
class _Pending:
    """A batch whose transaction runs while the next batch is planned."""

    rows: Sequence[ImportRow]
    plans: list[RowPlan]
    commit: asyncio.Future[int]
    before: FileState
    """The file's state before this batch was planned (to plan it again after a lost race)."""


def _compare_and_set(
    stored: Document, after: Document, plan: RowPlan, readiness: dict[str, Document]
) -> tuple[Document, Document]:
    """The writer's update (``ProductWriter._commit``): the changed top-level fields (every
    field for an older schemaVersion, upgraded lazily), only if the revision is the one read."""
    fields = dict.fromkeys(str(change.path[0]) for change in plan.changes)
    if stored.get("schemaVersion") != SCHEMA_VERSION:
        fields = dict.fromkeys(
            name
            for name in [*stored, *after]
            if name not in ("_id", "readiness", "readinessBasedOn")
        )
    update: dict[str, Any] = {
        "$set": {
            **{name: after[name] for name in fields if name in after},
            "revision": after["revision"],
            "schemaVersion": after["schemaVersion"],
            "updatedAt": after["updatedAt"],
            **{f"readiness.{channel}": value for channel, value in readiness.items()},
        }
    }
    removed = {name: "" for name in fields if name not in after}
    if removed:
        update["$unset"] = removed
    same_revision: Document = (
        {"revision": stored["revision"]}
        if "revision" in stored
        else {"revision": {"$exists": False}}
    )
    return {"_id": stored["_id"], **same_revision}, update
