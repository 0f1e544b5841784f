"""``productRevert``: a product back to an earlier revision, as a new revision (catalog:write)."""

from __future__ import annotations

import strawberry

from resolvers.access import Scope
from resolvers.writes import (
    Actor,
    NotFound,
    OwnershipFailure,
    ProductWriter,
    Provenance,
    RevisionNotFound,
    ValidationFailure,
    VersionConflict,
    WriteFailure,
    WriteResult,
)
from schema.context import Context
from schema.permissions import requires
from schema.types.history import FieldChangeType, json_value
from schema.types.product import Product
from schema.types.user_errors import (
    FieldOwnershipError,
    FieldValue,
    InputError,
    NotFoundError,
    UserError,
    UserErrorCode,
    ValidationError,
    VersionConflictError,
)

Info = strawberry.Info[Context, None]


@strawberry.input(description="Which product to revert, to which revision.")
class ProductRevertInput:
    sku: strawberry.ID
    to_revision: int = strawberry.field(
        description="The revision whose fields the product gets back (see Product.history)."
    )
    expected_revision: int | None = strawberry.field(
        default=None,
        description="The revision the client saw; if the product was written since, nothing "
        "is reverted and a VersionConflictError names what changed (a revert would undo it).",
    )
    dry_run: bool = strawberry.field(
        default=False, description="Answer what would change, writing nothing."
    )


@strawberry.type(description="The result of productRevert.")
class ProductRevertPayload:
    product: Product | None = strawberry.field(
        description="After the revert (what it would be, for a dry run); as stored when "
        "errors is not empty; null when there is no such product."
    )
    revision: int | None = strawberry.field(
        description="The product's revision after the revert (would-be, for a dry run)."
    )
    changes: list[FieldChangeType] = strawberry.field(
        description="What the revert changed (would change); empty when the product already "
        "equals the revision."
    )
    dry_run: bool
    errors: list[UserError]


@strawberry.type
class HistoryMutations:
    @strawberry.mutation(
        description="Give a product the fields it had at an earlier revision, as a new "
        "revision (history keeps everything in between). Needs catalog:write; validated and "
        "checked for field ownership like any write.",
        extensions=requires(Scope.CATALOG_WRITE),
    )
    async def product_revert(
        self, info: Info, input: ProductRevertInput
    ) -> ProductRevertPayload | None:
        context = info.context
        writer = _writer(context)
        result = await writer.revert_to(
            str(input.sku),
            input.to_revision,
            Actor(context.principal, context.end_user),
            provenance=Provenance(request_id=context.request_id),
            dry_run=input.dry_run,
            expected_revision=input.expected_revision,
        )
        return _payload(result, input.dry_run)


def _writer(context: Context) -> ProductWriter:
    writer = context.services.writer
    if writer is None:  # a wiring mistake of ours (open_services always builds one)
        raise RuntimeError("this process has no product writer")
    return writer


def _payload(result: WriteResult, dry_run: bool) -> ProductRevertPayload:
    return ProductRevertPayload(
        product=Product.from_document(result.product) if result.product is not None else None,
        revision=result.revision,
        changes=[
            FieldChangeType(
                path=[str(p) for p in change.path],
                before=json_value(change.before),
                after=json_value(change.after),
            )
            for change in result.changes
        ],
        dry_run=dry_run,
        errors=[error for failure in result.failures for error in _errors(failure)],
    )


def _errors(failure: WriteFailure) -> list[UserError]:
    if isinstance(failure, NotFound):
        message = f"no product has SKU {failure.sku!r}"
        return [NotFoundError(code=UserErrorCode.NOT_FOUND, path=["input", "sku"], message=message)]
    if isinstance(failure, RevisionNotFound):
        message = f"history cannot rebuild revision {failure.revision} of {failure.sku!r}"
        path = ["input", "toRevision"]
        return [NotFoundError(code=UserErrorCode.NOT_FOUND, path=path, message=message)]
    if isinstance(failure, VersionConflict):
        return [
            VersionConflictError(
                code=UserErrorCode.VERSION_CONFLICT,
                path=["input", "expectedRevision"],
                message=f"the product is at revision {failure.current_revision}, not "
                f"{failure.expected_revision}",
                current_revision=failure.current_revision,
                current_values=[
                    FieldValue(path=[str(p) for p in c.path], value=json_value(c.value))
                    for c in failure.current
                ],
            )
        ]
    if isinstance(failure, OwnershipFailure):
        return [
            FieldOwnershipError(
                code=UserErrorCode.FIELD_OWNED,
                path=[str(p) for p in v.path],
                message=f"{'.'.join(map(str, v.path))} belongs to {v.owner}",
                owner=v.owner,
            )
            for v in failure.violations
        ]
    if isinstance(failure, ValidationFailure):
        return [
            ValidationError(
                code=UserErrorCode.__members__.get(v.code, UserErrorCode.INVALID),
                path=[str(p) for p in v.path],
                message=v.message,
                rule=v.rule,
                limit=json_value(v.limit),
            )
            for v in failure.violations
        ]
    # AlreadyExists: a revert creates nothing.
    return [InputError(code=UserErrorCode.INVALID, path=None, message=str(failure))]
