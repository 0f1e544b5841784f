"""The category mutations (catalog:write): create, update, move.

Relay style, like the product mutations: one ``input`` (with ``dryRun``), a payload with the
category, the field-level changes and ``errors``. The domain is ``resolvers.writes.categories``
(slugs, parents, cycles, positions, history); what it refuses comes back as typed
``UserError``s.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

import strawberry

from resolvers.access import Scope
from resolvers.validation.violations import Path, Violation
from resolvers.writes import Actor, Provenance, ValidationFailure
from resolvers.writes.categories import (
    CategoryFailure,
    CategoryNotFound,
    CategoryResult,
    CategoryWriter,
    CycleFailure,
    SlugTaken,
)
from schema.context import Context
from schema.permissions import requires
from schema.types.category import Category
from schema.types.category_inputs import (
    CategoryCreateInput,
    CategoryCreatePayload,
    CategoryMoveInput,
    CategoryMovePayload,
    CategoryUpdateInput,
    CategoryUpdatePayload,
    CategoryWritePayload,
    names,
)
from schema.types.history import FieldChangeType, json_value
from schema.types.user_errors import (
    InputError,
    NotFoundError,
    UserError,
    UserErrorCode,
    ValidationError,
)

Info = strawberry.Info[Context, None]
P = TypeVar("P", bound=CategoryWritePayload)


@strawberry.type
class CategoryMutations:
    @strawberry.mutation(
        description="Create a category (needs catalog:write) under a parent, at a position.",
        extensions=requires(Scope.CATALOG_WRITE),
    )
    async def category_create(
        self,
        info: Info,
        input: Annotated[
            CategoryCreateInput, strawberry.argument(description="The category to create.")
        ],
    ) -> CategoryCreatePayload | None:
        result = await _writer(info).create(
            input.slug,
            {tag: text for tag, text in names(input.name).items() if text is not None},
            _actor(info),
            parent=input.parent,
            position=input.position,
            required_attributes=input.required_attributes,
            provenance=_provenance(info),
            dry_run=input.dry_run,
        )
        return _payload(CategoryCreatePayload, result, input.dry_run)

    @strawberry.mutation(
        description="Change a category's name or required attributes (needs catalog:write).",
        extensions=requires(Scope.CATALOG_WRITE),
    )
    async def category_update(
        self,
        info: Info,
        input: Annotated[
            CategoryUpdateInput, strawberry.argument(description="The category and its changes.")
        ],
    ) -> CategoryUpdatePayload | None:
        result = await _writer(info).update(
            input.slug,
            _actor(info),
            name=names(input.name) if input.name is not None else None,
            required_attributes=input.required_attributes,
            provenance=_provenance(info),
            dry_run=input.dry_run,
        )
        return _payload(CategoryUpdatePayload, result, input.dry_run)

    @strawberry.mutation(
        description="Move a category and its subtree under another parent, or reorder it "
        "among its siblings (needs catalog:write). Under itself or one of its descendants is "
        "a CYCLE error.",
        extensions=requires(Scope.CATALOG_WRITE),
    )
    async def category_move(
        self,
        info: Info,
        input: Annotated[
            CategoryMoveInput, strawberry.argument(description="The category and its new place.")
        ],
    ) -> CategoryMovePayload | None:
        result = await _writer(info).move(
            input.slug,
            _actor(info),
            parent=input.parent,
            position=input.position,
            provenance=_provenance(info),
            dry_run=input.dry_run,
        )
        return _payload(CategoryMovePayload, result, input.dry_run)


def _writer(info: Info) -> CategoryWriter:
    services = info.context.services
    return CategoryWriter(services.catalog, services.channels, services.locales, services.clock)


def _actor(info: Info) -> Actor:
    return Actor(info.context.principal, end_user=info.context.end_user)


def _provenance(info: Info) -> Provenance:
    return Provenance(request_id=info.context.request_id)


def _payload(payload: type[P], result: CategoryResult, dry_run: bool) -> P:
    category = result.category if result.ok else None
    return payload(
        category=Category.from_document(category) if category and "_id" in category else None,
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


def _errors(failure: CategoryFailure) -> list[UserError]:
    if isinstance(failure, ValidationFailure):
        return [_validation(v) for v in failure.violations]
    if isinstance(failure, CategoryNotFound):
        return [
            NotFoundError(
                code=UserErrorCode.NOT_FOUND,
                path=_input_path(failure.path),
                message=f"no category with slug {failure.slug!r}",
            )
        ]
    if isinstance(failure, SlugTaken):
        return [
            InputError(
                code=UserErrorCode.ALREADY_EXISTS,
                path=["input", "slug"],
                message=f"a category with slug {failure.slug!r} exists already",
            )
        ]
    assert isinstance(failure, CycleFailure)
    return [
        InputError(
            code=UserErrorCode.CYCLE,
            path=["input", "parent"],
            message=f"{failure.parent!r} is {failure.slug!r} or one of its descendants: a "
            "category cannot move under itself",
        )
    ]


def _validation(violation: Violation) -> ValidationError:
    return ValidationError(
        code=UserErrorCode.__members__.get(violation.code, UserErrorCode.INVALID),
        path=_input_path(violation.path),
        message=violation.message,
        rule=violation.rule,
        limit=json_value(violation.limit),
    )


def _input_path(path: Path) -> list[str]:
    return ["input", *(str(part) for part in path)]
