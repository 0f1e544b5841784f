"""The product mutations (catalog:write): create, update, archive, restore.

Relay style: one ``input`` (with ``dryRun``), a payload with the product, its revision, the
field-level changes and ``errors``. Writes go through the process's one ``ProductWriter``
(validated, ownership-checked, versioned, recorded in history in one transaction); what it
refuses comes back as typed ``UserError``s, and so do broken references (media the asset mirror
does not have or rejected, unknown SKUs and categories), checked here before the writer runs.
Anything unexpected is raised, and masked with the request id by the schema.

With an ``Idempotency-Key`` header, a repeated request (same key, same body) answers the
first result without writing again (``resolvers.idempotency``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import bson
import strawberry
from bson.codec_options import CodecOptions
from graphql import print_ast

from resolvers.access import Scope
from resolvers.db import Document
from resolvers.idempotency import Claimed, IdempotencyStore, Refused, Replay, fingerprint
from resolvers.upcasting import upcast
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
from resolvers.writes.references import check_references
from schema.context import Context
from schema.permissions import requires
from schema.types.enums import ProductStatus
from schema.types.product_inputs import (
    INPUT_NAMES,
    P,
    ProductArchivePayload,
    ProductCreateInput,
    ProductCreatePayload,
    ProductRestorePayload,
    ProductStatusInput,
    ProductUpdateInput,
    ProductUpdatePayload,
    attribute_values,
    bundle,
    changed_media,
    create_document,
    localized,
    payload_from_record,
    variant_document,
    variant_patch,
)
from schema.types.user_errors import UserErrorCode

Info = strawberry.Info[Context, None]
Record = dict[str, Any]
"""A payload as plain data: what the Idempotency-Key store keeps and a replay answers."""
# As MongoDB returns documents (aware datetimes, to the millisecond).
_STORED: CodecOptions[Record] = CodecOptions(tz_aware=True)


@strawberry.type
class ProductMutations:
    @strawberry.mutation(
        description="Create a product (needs catalog:write).",
        extensions=requires(Scope.CATALOG_WRITE),
    )
    async def product_create(
        self, info: Info, input: ProductCreateInput
    ) -> ProductCreatePayload | None:
        return await _answer(info, ProductCreatePayload, lambda: _create(info, input))

    @strawberry.mutation(
        description="Change a product (needs catalog:write): the fields given, merged onto the "
        "current product when it moved on since expectedRevision without touching them.",
        extensions=requires(Scope.CATALOG_WRITE),
    )
    async def product_update(
        self, info: Info, input: ProductUpdateInput
    ) -> ProductUpdatePayload | None:
        return await _answer(info, ProductUpdatePayload, lambda: _update(info, input))

    @strawberry.mutation(
        description="Archive a product (needs catalog:write); archiving an archived product "
        "changes nothing.",
        extensions=requires(Scope.CATALOG_WRITE),
    )
    async def product_archive(
        self, info: Info, input: ProductStatusInput
    ) -> ProductArchivePayload | None:
        async def run() -> Record:
            result = await _writer(info).archive(
                input.sku,
                _actor(info),
                expected_revision=input.expected_revision,
                provenance=_provenance(info),
                dry_run=input.dry_run,
            )
            return _record(result, input.dry_run)

        return await _answer(info, ProductArchivePayload, run)

    @strawberry.mutation(
        description="Bring an archived product back as a DRAFT (needs catalog:write): it is "
        "published again only through review.",
        extensions=requires(Scope.CATALOG_WRITE),
    )
    async def product_restore(
        self, info: Info, input: ProductStatusInput
    ) -> ProductRestorePayload | None:
        async def run() -> Record:
            result = await _writer(info).restore(
                input.sku,
                _actor(info),
                expected_revision=input.expected_revision,
                provenance=_provenance(info),
                dry_run=input.dry_run,
            )
            return _record(result, input.dry_run)

        return await _answer(info, ProductRestorePayload, run)


async def _create(info: Info, input: ProductCreateInput) -> Record:
    if refused := _publishing(info, input.status):
        return _failed(input.dry_run, [refused])
    document = create_document(input)
    violations = await check_references(
        info.context.catalog,
        media=[m.public_id for m in input.media],
        products=_linked(document),
        categories=document["categories"],
    )
    if violations:
        return _failed(input.dry_run, [_validation(v) for v in violations])
    result = await _writer(info).create(
        document, _actor(info), provenance=_provenance(info), dry_run=input.dry_run
    )
    return _record(result, input.dry_run)


async def _update(info: Info, input: ProductUpdateInput) -> Record:
    if refused := _publishing(info, input.status):
        return _failed(input.dry_run, [refused])
    patch: Document = {}
    if input.brand is not None:
        patch["brand"] = input.brand
    if input.status is not None:
        patch["status"] = input.status.value
    if input.name is not None:
        patch["name"] = localized(input.name)
    if input.description is not None:
        patch["description"] = localized(input.description)
    if input.attributes is not None:
        patch["attributes"] = attribute_values(input.attributes)
    if input.categories is not None:
        patch["categories"] = list(input.categories)
    for field, skus in (("accessories", input.accessories), ("related", input.related)):
        if skus is not None:
            patch[field] = list(skus)
    if input.bundle_items is not None:
        patch["bundle"] = bundle(input.bundle_items)
    errors: list[Record] = []
    if input.variants is not None or input.media is not None:
        # Variants and media change relative to what is stored: read it once.
        stored = await info.context.catalog.products.find_one({"sku": input.sku})
        if stored is None:
            return _failed(input.dry_run, [_not_found(input.sku)])
        current = upcast(stored)
        if input.variants is not None:
            errors += _variant_changes(current, input, patch)
        if input.media is not None:
            errors += _media_changes(current, input, patch)
    attached = [m.public_id for m in input.media.attach] if input.media else []
    violations = await check_references(
        info.context.catalog,
        media=attached,
        products=_linked(patch),
        categories=patch.get("categories") or [],
    )
    errors += [_validation(v) for v in violations]
    if errors:
        return _failed(input.dry_run, errors)
    result = await _writer(info).update(
        input.sku,
        patch,
        _actor(info),
        expected_revision=input.expected_revision,
        provenance=_provenance(info),
        dry_run=input.dry_run,
    )
    return _record(result, input.dry_run)


def _publishing(info: Info, status: ProductStatus | None) -> Record | None:
    """Editors write drafts; publishing is a lead's (catalog:publish), refused before any read."""
    if status != ProductStatus.PUBLISHED or info.context.principal.has(Scope.CATALOG_PUBLISH):
        return None
    return _input_error(
        ["input", "status"],
        UserErrorCode.NOT_PERMITTED,
        f"publishing needs the {Scope.CATALOG_PUBLISH.value!r} scope",
    )


def _variant_changes(current: Document, input: ProductUpdateInput, patch: Document) -> list[Record]:
    assert input.variants is not None
    existing = {v.get("sku") for v in current.get("variants") or []}
    changes: dict[str, Any] = {}
    errors: list[Record] = []
    for variant in input.variants.add:
        if variant.sku in existing:
            errors.append(
                _input_error(
                    ["input", "variants", "add", variant.sku],
                    UserErrorCode.ALREADY_EXISTS,
                    f"the product has a variant {variant.sku!r} already; update it instead",
                )
            )
        changes[variant.sku] = variant_document(variant)
    for change in input.variants.update:
        if change.sku not in existing:
            errors.append(_missing_variant("update", change.sku))
        changes[change.sku] = variant_patch(change)
    for sku in input.variants.remove:
        if sku not in existing:
            errors.append(_missing_variant("remove", sku))
        changes[sku] = None
    if changes:
        patch["variants"] = changes
    return errors


def _missing_variant(operation: str, sku: str) -> Record:
    return {
        "kind": "not_found",
        "code": UserErrorCode.NOT_FOUND.name,
        "path": ["input", "variants", operation, sku],
        "message": f"the product has no variant {sku!r}",
    }


def _media_changes(current: Document, input: ProductUpdateInput, patch: Document) -> list[Record]:
    assert input.media is not None
    media = current.get("media") or []
    attached = {m.get("publicId") for m in media}
    errors = [
        {
            "kind": "not_found",
            "code": UserErrorCode.NOT_FOUND.name,
            "path": ["input", "media", operation, public_id],
            "message": f"asset {public_id!r} is not attached to the product",
        }
        for operation, public_ids in (("detach", input.media.detach), ("order", input.media.order))
        for public_id in public_ids
        if public_id not in attached
        and not (operation == "order" and public_id in {m.public_id for m in input.media.attach})
    ]
    errors += [
        _input_error(
            ["input", "media", "attach", m.public_id],
            UserErrorCode.ALREADY_EXISTS,
            f"asset {m.public_id!r} is attached already",
        )
        for m in input.media.attach
        if m.public_id in attached and m.public_id not in input.media.detach
    ]
    patch["media"] = changed_media(media, input.media)
    return errors


def _linked(document: Document) -> dict[str, list[str]]:
    linked = {f: list(document[f]) for f in ("accessories", "related") if document.get(f)}
    if document.get("bundle"):
        linked["bundle"] = [item["sku"] for item in document["bundle"]]
    return linked


# WriteResult → record.


def _record(result: WriteResult, dry_run: bool) -> Record:
    errors: list[Record] = []
    for failure in result.failures:
        if isinstance(failure, ValidationFailure):
            errors += [_validation(v) for v in failure.violations]
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
                    "path": _input_path(v.path),
                    "message": f"{'.'.join(map(str, v.path))} is owned by {v.owner!r}",
                    "owner": v.owner,
                }
                for v in failure.violations
            ]
        elif isinstance(failure, NotFound | RevisionNotFound):
            errors.append(_not_found(failure.sku))
        elif isinstance(failure, AlreadyExists):
            errors.append(
                _input_error(
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


def _failed(dry_run: bool, errors: list[Record]) -> Record:
    return {"product": None, "revision": None, "changes": [], "dryRun": dry_run, "errors": errors}


def _validation(violation: Violation) -> Record:
    code = UserErrorCode.__members__.get(violation.code, UserErrorCode.INVALID)
    return {
        "kind": "validation",
        "code": code.name,
        "path": _input_path(violation.path),
        "message": violation.message,
        "rule": violation.rule,
        "limit": violation.limit,
    }


def _not_found(sku: str) -> Record:
    return {
        "kind": "not_found",
        "code": UserErrorCode.NOT_FOUND.name,
        "path": ["input", "sku"],
        "message": f"no product with SKU {sku!r}",
    }


def _input_error(path: list[str] | None, code: UserErrorCode, message: str) -> Record:
    return {"kind": "input", "code": code.name, "path": path, "message": message}


def _input_path(path: Path) -> list[str]:
    first, *rest = path
    return ["input", INPUT_NAMES.get(str(first), str(first)), *map(str, rest)]


# The request around a write: who, where from, and the Idempotency-Key.


def _writer(info: Info) -> ProductWriter:
    writer = info.context.services.writer
    if writer is None:
        raise RuntimeError("this process was started without a product writer")
    return writer


def _actor(info: Info) -> Actor:
    return Actor(info.context.principal, end_user=info.context.end_user)


def _provenance(info: Info) -> Provenance:
    return Provenance(request_id=info.context.request_id)


async def _answer(info: Info, payload: type[P], run: Callable[[], Awaitable[Record]]) -> P:
    key = info.context.idempotency_key
    if key is None:
        return payload_from_record(payload, _as_stored(await run()))
    store = IdempotencyStore(info.context.catalog.idempotency)
    scope = f"{info.context.principal.label}\x00{info.path.key}"
    outcome = await store.begin(scope, key, _request_fingerprint(info), info.context.now)
    if isinstance(outcome, Replay):
        return payload_from_record(payload, outcome.result)
    if isinstance(outcome, Refused):
        return payload_from_record(payload, _failed(False, [_refusal(outcome)]))
    assert isinstance(outcome, Claimed)
    try:
        record = await run()
    except BaseException:
        await store.release(outcome)
        raise
    await store.finish(outcome, record)
    return payload_from_record(payload, _as_stored(record))


def _as_stored(record: Record) -> Record:
    """The record as MongoDB keeps it: the writer's times have microseconds, stored ones
    milliseconds, and the answer must equal both a replay and a later read."""
    return bson.decode(bson.encode(record), codec_options=_STORED)


def _refusal(refused: Refused) -> Record:
    if refused.reason == "reused":
        return _input_error(
            None,
            UserErrorCode.IDEMPOTENCY_KEY_REUSED,
            "this Idempotency-Key was used with another request body; use a new key",
        )
    return _input_error(
        None,
        UserErrorCode.IDEMPOTENCY_KEY_IN_USE,
        "a request with this Idempotency-Key is still running; retry once it has answered",
    )


def _request_fingerprint(info: Info) -> str:
    """The request body as executed: the operation, its fragments and variables."""
    fragments: Sequence[str] = [
        print_ast(fragment) for _, fragment in sorted(info._raw_info.fragments.items())
    ]
    variables = json.dumps(info.variable_values, sort_keys=True, default=str)
    return fingerprint(print_ast(info.operation), *fragments, variables)
