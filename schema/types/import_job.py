"""``ImportJob``: a product import started by ``productImport``, read from ``import_jobs``."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from resolvers.db import Document
from resolvers.errors import BadUserInputError
from resolvers.imports.store import ImportJobs
from resolvers.pagination import check_page_size
from schema.context import Context
from schema.global_ids import to_global_id
from schema.types import arguments as args
from schema.types.connection import PageInfo
from schema.types.enums import described
from schema.types.node import Node

Info = strawberry.Info[Context, None]
TYPE_NAME = "ImportJob"


@strawberry.enum(description="Where an import job is.")
class ImportJobStatus(Enum):
    QUEUED = described("QUEUED", "Accepted; waiting for a worker.")
    RUNNING = described("RUNNING", "Being checked or written; see progress.")
    SUCCEEDED = strawberry.enum_value(
        "SUCCEEDED",
        description="The file was checked (and, unless a dry run, applied as the error policy "
        "says); rows with errors are counted in 'counts.failed' and listed in 'rowErrors'.",
    )
    FAILED = strawberry.enum_value(
        "FAILED",
        description="The job stopped: 'failure' says why (a file that cannot be parsed, "
        "another writer kept racing it, or the process running it stopped).",
    )


@strawberry.enum(description="The format of an import file.")
class ImportFormat(Enum):
    CSV = described("csv", "Comma-separated values with a header row.")
    JSONL = described("jsonl", "One JSON product per line.")


@strawberry.enum(description="What an import does with the file when some rows have errors.")
class ImportErrorPolicy(Enum):
    REJECT_ALL = strawberry.enum_value(
        "reject-all", description="Any row error and nothing is written."
    )
    REJECT_FAILED_ROWS = strawberry.enum_value(
        "reject-failed-rows", description="The rows without errors are written."
    )


@strawberry.type(description="What an import job found (and wrote), once it has finished.")
class ImportCounts:
    rows: int = strawberry.field(description="Data rows in the file.")
    created: int = strawberry.field(description="Rows that create (or would create) a product.")
    updated: int = strawberry.field(description="Rows that change (or would change) a product.")
    unchanged: int = strawberry.field(description="Rows that change nothing.")
    failed: int = strawberry.field(description="Rows with errors.")
    written: int = strawberry.field(
        description="Products written: 0 for a dry run and when reject-all refused the file."
    )


@strawberry.type(description="How far a running import job is.")
class ImportProgress:
    phase: str = strawberry.field(description="checking, writing, then done.")
    done: int = strawberry.field(description="Rows handled in the current phase.")
    total: int = strawberry.field(description="Rows to handle in the current phase.")


@strawberry.type(
    description="Readiness the imported products have (or would have) in one channel, over "
    "the rows without errors."
)
class ImportChannelReadiness:
    channel: str = strawberry.field(description="The channel scored.")
    products: int = strawberry.field(description="Products scored (rows without errors).")
    ready: int = strawberry.field(description="Those with no failed blocker.")
    mean_score: float | None = strawberry.field(
        description="Mean score; null when no product was scored."
    )


@strawberry.type(description="One thing wrong with one row of an import file.")
class ImportRowError:
    line: int = strawberry.field(description="The row's line in the file (1-based).")
    sku: str | None = strawberry.field(description="The row's SKU, when it has one.")
    path: list[str] = strawberry.field(description="The field at fault in the product.")
    code: str = strawberry.field(description="A stable, machine-readable reason.")
    message: str = strawberry.field(description="What is wrong, for people.")


@strawberry.type(description="A row error and its cursor.")
class ImportRowErrorEdge:
    node: ImportRowError = strawberry.field(description="The row error.")
    cursor: str = strawberry.field(description="Where this edge is, for 'after'.")


@strawberry.type(description="A page of an import job's row errors, in file order.")
class ImportRowErrorConnection:
    edges: list[ImportRowErrorEdge] = strawberry.field(description="The page's row errors.")
    page_info: PageInfo = strawberry.field(
        description="Whether there is a next page, and its cursor."
    )
    total_count: int = strawberry.field(
        description="Row errors of the whole file (the job keeps the first 10,000)."
    )


@strawberry.type(
    description="A product import (productImport): its status, what it found and wrote, and "
    "its row errors. Reading it needs catalog:write."
)
class ImportJob(Node):
    job_id: strawberry.Private[str]
    doc: strawberry.Private[Document]
    status: ImportJobStatus = strawberry.field(description="Where the job is.")
    dry_run: bool = strawberry.field(description="Checked only: nothing is written.")
    error_policy: ImportErrorPolicy = strawberry.field(
        description="What happens to the file when some rows have errors."
    )
    format: ImportFormat = strawberry.field(description="The file's format.")
    filename: str = strawberry.field(description="The uploaded file's name.")
    checksum: str = strawberry.field(
        description="The file's sha256: give it to an apply's expectChecksum so it writes the "
        "file this dry run checked."
    )
    counts: ImportCounts | None = strawberry.field(description="Null until the job finishes.")
    progress: ImportProgress = strawberry.field(description="How far the job is.")
    readiness: list[ImportChannelReadiness] = strawberry.field(
        description="Per channel; empty until the job finishes."
    )
    failure: str | None = strawberry.field(description="Why a FAILED job stopped.")
    actor: str = strawberry.field(description="Who started the job (a key's or user's label).")
    created_at: datetime = strawberry.field(description="When the job was started.")
    updated_at: datetime = strawberry.field(
        description="The job's last sign of life (a heartbeat while it runs)."
    )
    finished_at: datetime | None = strawberry.field(
        description="When it succeeded or failed; null while it runs."
    )

    @classmethod
    def from_document(cls, doc: Document) -> ImportJob:
        counts = doc.get("counts")
        return cls(
            id=strawberry.ID(to_global_id(TYPE_NAME, doc["_id"])),
            job_id=doc["_id"],
            doc=doc,
            status=ImportJobStatus(doc["status"]),
            dry_run=doc["dryRun"],
            error_policy=ImportErrorPolicy(doc["errorPolicy"]),
            format=ImportFormat(doc["format"]),
            filename=doc["filename"],
            checksum=doc["checksum"],
            counts=ImportCounts(**counts) if counts else None,
            progress=ImportProgress(**doc["progress"]),
            readiness=[
                ImportChannelReadiness(
                    channel=r["channel"],
                    products=r["products"],
                    ready=r["ready"],
                    mean_score=r["meanScore"],
                )
                for r in doc.get("readiness") or []
            ],
            failure=doc.get("failure"),
            actor=doc["actor"],
            created_at=doc["createdAt"],
            updated_at=doc["updatedAt"],
            finished_at=doc.get("finishedAt"),
        )

    @strawberry.field(description="The row errors, in file order, at most 100 a page.")
    async def row_errors(
        self, info: Info, first: args.First = 20, after: args.After = None
    ) -> ImportRowErrorConnection:
        size = check_page_size(first)
        offset = _offset(after) if after is not None else 0
        jobs = ImportJobs(info.context.catalog, info.context.services.clock)
        found = await jobs.get(self.job_id, errors=(offset, size + 1)) if size else None
        errors: list[Any] = found["rowErrors"] if found else []
        total = int(self.doc.get("rowErrorCount", 0))
        edges = [
            ImportRowErrorEdge(
                node=ImportRowError(
                    line=e["line"],
                    sku=e["sku"],
                    path=e["path"],
                    code=e["code"],
                    message=e["message"],
                ),
                cursor=_cursor(offset + i),
            )
            for i, e in enumerate(errors[:size])
        ]
        return ImportRowErrorConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(errors) > size,
                has_previous_page=offset > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=total,
        )


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"rowError:{index}".encode()).decode()


def _offset(cursor: str) -> int:
    try:
        kind, _, index = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "rowError" and index.isdigit():
            return int(index) + 1
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise BadUserInputError(f"{cursor!r} is not a cursor of rowErrors", argumentName="after")


async def load_import_job(info: Info, job_id: str) -> ImportJob | None:
    document = await ImportJobs(info.context.catalog, info.context.services.clock).get(job_id)
    return ImportJob.from_document(document) if document else None
