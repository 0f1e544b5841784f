"""What every catalog write mutation shares: a WriteResult as a payload record, the writer,
who asks and from where, and answering through the Idempotency-Key store.

A payload is first a record (plain data): that is what the Idempotency-Key store keeps and a
replay answers, so a replay and the first answer are the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import bson
import strawberry
from bson.codec_options import CodecOptions
from graphql import print_ast

from resolvers.idempotency import Claimed, IdempotencyStore, Refused, Replay, fingerprint
from resolvers.validation.violations import Path, Violation
from resolvers.writes import (
    Actor,
    AlreadyExists,
    NotFound,
    OwnershipFailure,
    ProductWriter,
    Provenance,
    RevisionNotFound,
    ValidationFailure,
    VersionConflict,
    WriteResult,
)
from schema.context import Context
from schema.types.product_inputs import INPUT_NAMES, P, payload_from_record
from schema.types.uploads import UploadedFile
from schema.types.user_errors import UserErrorCode

Info = strawberry.Info[Context, None]
Record = dict[str, Any]
"""A payload as plain data: what the Idempotency-Key store keeps and a replay answers."""
# As MongoDB returns documents (aware datetimes, to the millisecond).
_STORED: CodecOptions[Record] = CodecOptions(tz_aware=True)


def write_record(result: WriteResult, dry_run: bool) -> Record:
    errors: list[Record] = []
    for failure in result.failures:
        if isinstance(failure, ValidationFailure):
            errors += [validation_record(v) for v in failure.violations]
        elif isinstance(failure, VersionConflict):
            paths = ", ".join(".".join(map(str, c.path)) for c in failure.current)
            errors.append(
                {
                    "kind": "conflict",
                    "code": UserErrorCode.VERSION_CONFLICT.name,
                    "path": None,
                    "message": f"changed since revision {failure.expected_revision}: {paths}; "
                    f"the product is at revision {failure.current_revision}",
                    "currentRevision": failure.current_revision,
                    "currentValues": [
                        {"path": list(c.path), "value": c.value} for c in failure.current
                    ],
                }
            )
        elif isinstance(failure, OwnershipFailure):
            errors += [
                {
                    "kind": "ownership",
                    "code": UserErrorCode.FIELD_OWNED.name,
                    "path": input_path(v.path),
                    "message": f"{'.'.join(map(str, v.path))} is owned by {v.owner!r}",
                    "owner": v.owner,
                }
                for v in failure.violations
            ]
        elif isinstance(failure, NotFound):
            errors.append(not_found_record(failure.sku))
        elif isinstance(failure, RevisionNotFound):
            errors.append(
                {
                    "kind": "not_found",
                    "code": UserErrorCode.NOT_FOUND.name,
                    "path": ["input", "toRevision"],
                    "message": f"history cannot rebuild revision {failure.revision} of "
                    f"{failure.sku!r}",
                }
            )
        elif isinstance(failure, AlreadyExists):
            errors.append(
                input_error_record(
                    ["input", "sku"],
                    UserErrorCode.ALREADY_EXISTS,
                    f"a product with SKU {failure.sku!r} exists already",
                )
            )
    return {
        "product": result.product,
        "revision": result.revision,
        "changes": [change.to_document() for change in result.changes],
        "dryRun": dry_run,
        "errors": errors,
    }


def failed_record(dry_run: bool, errors: list[Record]) -> Record:
    return {"product": None, "revision": None, "changes": [], "dryRun": dry_run, "errors": errors}


def validation_record(violation: Violation) -> Record:
    code = UserErrorCode.__members__.get(violation.code, UserErrorCode.INVALID)
    return {
        "kind": "validation",
        "code": code.name,
        "path": input_path(violation.path),
        "message": violation.message,
        "rule": violation.rule,
        "limit": violation.limit,
    }


def not_found_record(sku: str) -> Record:
    return {
        "kind": "not_found",
        "code": UserErrorCode.NOT_FOUND.name,
        "path": ["input", "sku"],
        "message": f"no product with SKU {sku!r}",
    }


def input_error_record(path: list[str] | None, code: UserErrorCode, message: str) -> Record:
    return {"kind": "input", "code": code.name, "path": path, "message": message}


def input_path(path: Path) -> list[str]:
    first, *rest = path
    return ["input", INPUT_NAMES.get(str(first), str(first)), *map(str, rest)]


def product_writer(info: Info) -> ProductWriter:
    writer = info.context.services.writer
    if writer is None:
        raise RuntimeError("this process was started without a product writer")
    return writer


def actor(info: Info) -> Actor:
    return Actor(info.context.principal, end_user=info.context.end_user)


def provenance(info: Info) -> Provenance:
    return Provenance(request_id=info.context.request_id)


async def answer(info: Info, payload: type[P], run: Callable[[], Awaitable[Record]]) -> P:
    record = await remembered(info, run, lambda error: failed_record(False, [error]))
    return payload_from_record(payload, record)


async def remembered(
    info: Info,
    run: Callable[[], Awaitable[Record]],
    refused: Callable[[Record], Record],
    *,
    request: str | None = None,
) -> Record:
    """``run``'s record, or with the request's Idempotency-Key the first request's record
    (``run`` does not run again), or ``refused`` of the error record when the key was used with
    another body or its first request still runs. ``request`` is the body's fingerprint when
    the caller computed it (``request_fingerprint``) off the event loop."""
    key = info.context.idempotency_key
    if key is None:
        return _as_stored(await run())
    store = IdempotencyStore(info.context.catalog.idempotency)
    scope = f"{info.context.principal.label}\x00{info.path.key}"
    body = request if request is not None else request_fingerprint(info)
    outcome = await store.begin(scope, key, body, info.context.now)
    if isinstance(outcome, Replay):
        return outcome.result
    if isinstance(outcome, Refused):
        return refused(_refusal(outcome))
    assert isinstance(outcome, Claimed)
    try:
        record = await run()
    except BaseException:
        await store.release(outcome)
        raise
    await store.finish(outcome, record)
    return _as_stored(record)


def _as_stored(record: Record) -> Record:
    """The record as MongoDB keeps it: the writer's times have microseconds, stored ones
    milliseconds, and the answer must equal both a replay and a later read."""
    return bson.decode(bson.encode(record), codec_options=_STORED)


def _refusal(refused: Refused) -> Record:
    if refused.reason == "reused":
        return input_error_record(
            None,
            UserErrorCode.IDEMPOTENCY_KEY_REUSED,
            "this Idempotency-Key was used with another request body; use a new key",
        )
    return input_error_record(
        None,
        UserErrorCode.IDEMPOTENCY_KEY_IN_USE,
        "a request with this Idempotency-Key is still running; retry once it has answered",
    )


def request_fingerprint(info: Info) -> str:
    """The request body as executed: the operation, its fragments and variables (an uploaded
    file by its name, type and sha256: hashing a large one takes a while, call this in a
    thread)."""
    fragments: Sequence[str] = [
        print_ast(fragment) for _, fragment in sorted(info._raw_info.fragments.items())
    ]
    variables = json.dumps(info.variable_values, sort_keys=True, default=_plain)
    return fingerprint(print_ast(info.operation), *fragments, variables)


def _plain(value: object) -> object:
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256(value.data).hexdigest()
        return {"filename": value.filename, "contentType": value.content_type, "sha256": digest}
    return str(value)
