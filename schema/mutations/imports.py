"""``productImport`` (catalog:write): a CSV or JSONL file, sent with the GraphQL multipart
request spec, checked (dry run) or applied as an ``ImportJob``.

The mutation records the job and answers at once; the receiving process runs it in the
background (``resolvers.imports.store``) and any replica answers its status through
``node(id:)``. What the client can fix before a job exists (a format the file name does not
tell, a file that is not the one the dry run checked) is a ``UserError`` and no job.

With an ``Idempotency-Key`` header, a repeated request (same key, same file and input) answers
the job the first one started, and starts none; the same key with another body is refused, as
for every write mutation (``schema.mutations.write_payloads.remembered``).
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated, cast

import strawberry

from resolvers.access import Scope
from resolvers.imports import ImportJob as ImportRun
from resolvers.imports import ImportPlanner, ImportReport, checksum, detect_format, parse
from resolvers.imports.job import ErrorPolicy, Progress
from resolvers.imports.parsing import Format
from resolvers.imports.store import ImportJobs, new_job_id
from resolvers.validation import ValidationRules
from schema.mutations.write_payloads import (
    Info,
    Record,
    actor,
    input_error_record,
    product_writer,
    remembered,
    request_fingerprint,
)
from schema.permissions import requires
from schema.types.import_job import ImportErrorPolicy, ImportFormat, ImportJob, load_import_job
from schema.types.product_inputs import error_from_record
from schema.types.uploads import Upload, UploadedFile
from schema.types.user_errors import UserError, UserErrorCode

POLICIES: dict[ImportErrorPolicy, ErrorPolicy] = {
    ImportErrorPolicy.REJECT_ALL: "reject-all",
    ImportErrorPolicy.REJECT_FAILED_ROWS: "reject-failed-rows",
}


@strawberry.input(description="A product file to check or apply (docs/import.md).")
class ProductImportInput:
    file: Upload = strawberry.field(description="The CSV or JSONL file (a multipart request part).")
    format: ImportFormat | None = strawberry.field(
        default=None, description="Default: from the file name (.csv, .jsonl or .ndjson)."
    )
    dry_run: bool = strawberry.field(
        default=True,
        description="True (the default): check every row and write nothing. False: apply.",
    )
    error_policy: ImportErrorPolicy = strawberry.field(
        default=ImportErrorPolicy.REJECT_ALL,
        description="What to do when some rows have errors (default: reject the whole file).",
    )
    expect_checksum: str | None = strawberry.field(
        default=None,
        description="The sha256 a dry run's job reported: refuse a file that is not that one.",
    )


@strawberry.type(description="The result of productImport: the job started, or why none was.")
class ProductImportPayload:
    job: ImportJob | None = strawberry.field(description="Null when 'errors' refused the input.")
    errors: list[UserError] = strawberry.field(
        description="Why the input was refused; empty when a job started."
    )


@strawberry.type
class ImportMutations:
    @strawberry.mutation(
        description="Start a product import (needs catalog:write) of a file sent with the "
        "GraphQL multipart request spec; poll the job with node(id:) until it is SUCCEEDED or "
        "FAILED.",
        extensions=requires(Scope.CATALOG_WRITE),
    )
    async def product_import(
        self,
        info: Info,
        input: Annotated[
            ProductImportInput, strawberry.argument(description="The file and how to import it.")
        ],
    ) -> ProductImportPayload | None:
        request = None
        if info.context.idempotency_key is not None:
            # The fingerprint hashes the file: seconds for a large one, off the event loop.
            request = await asyncio.to_thread(request_fingerprint, info)
        record = await remembered(info, lambda: _start(info, input), _refusal, request=request)
        errors = [error_from_record(error) for error in record["errors"]]
        if record["jobId"] is None:
            return ProductImportPayload(job=None, errors=errors)
        # A replay answers the job the first request started, as it is now.
        job = await load_import_job(info, record["jobId"])
        return ProductImportPayload(job=job, errors=errors)


async def _start(info: Info, input: ProductImportInput) -> Record:
    """Record the job and start it in the background: its id, or why there is none."""
    upload: UploadedFile = input.file
    format: Format | None = (
        cast(Format, input.format.value)  # ImportFormat's values are the Format literals
        if input.format is not None
        else detect_format(upload.filename)
    )
    if format is None:
        return _refused(
            ["input", "format"],
            UserErrorCode.REQUIRED,
            f"the file name {upload.filename!r} does not tell the format: give format",
        )
    digest = await asyncio.to_thread(checksum, upload.data)
    if input.expect_checksum is not None and input.expect_checksum != digest:
        return _refused(
            ["input", "expectChecksum"],
            UserErrorCode.INVALID,
            f"the file's checksum is {digest}, not {input.expect_checksum}: it is not the "
            "file the dry run checked",
        )
    services = info.context.services
    rules = services.validation
    if rules is None:
        raise RuntimeError("this process was started without validation rules")
    writer = product_writer(info)
    planner = ImportPlanner(
        writer.catalog,
        writer.validate,
        writer.ownership,
        writer.channels,
        writer.locales,
        clock=writer.clock,
    )
    policy = POLICIES[input.error_policy]
    run = ImportRun(planner, actor(info), policy, request_id=info.context.request_id)
    jobs = ImportJobs(info.context.catalog, services.clock)
    job_id = new_job_id()
    await jobs.create(
        job_id=job_id,
        filename=upload.filename,
        format=format,
        file_checksum=digest,
        dry_run=input.dry_run,
        error_policy=policy,
        actor=info.context.principal.label,
    )
    work = partial(_work, run, rules, upload.data, format, digest, input.dry_run, job_id)
    services.background.spawn(jobs.run(job_id, work), name=f"import {job_id}")
    return {"jobId": job_id, "errors": []}


async def _work(
    run: ImportRun,
    rules: ValidationRules,
    data: bytes,
    format: Format,
    digest: str,
    dry_run: bool,
    job_id: str,
    progress: Progress,
) -> ImportReport:
    # Parsing a large file is seconds of CPU: off the event loop that serves requests.
    rows = await asyncio.to_thread(parse, data, format, rules)
    if dry_run:
        return await run.dry_run(rows, digest, format, progress)
    return await run.apply(rows, digest, format, progress=progress, job_id=job_id)


def _refused(path: list[str], code: UserErrorCode, message: str) -> Record:
    return _refusal(input_error_record(path, code, message))


def _refusal(error: Record) -> Record:
    return {"jobId": None, "errors": [error]}
