"""Inputs and payloads of the category mutations (``schema/mutations/categories.py``)."""

from __future__ import annotations

from collections.abc import Iterable

import strawberry

from schema.types.category import Category
from schema.types.history import FieldChangeType
from schema.types.user_errors import UserError

DRY_RUN = "When true: every check and the would-be changes, nothing written."


@strawberry.input(description="A category's name in one locale; on update, null removes it.")
class CategoryNameInput:
    locale: str = strawberry.field(description="A supported locale, e.g. de-DE.")
    value: str | None = strawberry.field(
        description="The name in that locale; null removes it on update."
    )


@strawberry.input(description="A new category.")
class CategoryCreateInput:
    slug: str = strawberry.field(
        description="Its identifier, for good: lowercase words of letters and digits joined "
        "by dashes, at most 64 characters."
    )
    name: list[CategoryNameInput] = strawberry.field(description="The name per locale.")
    parent: str | None = strawberry.field(
        default=None, description="The parent's slug; null: a root."
    )
    position: int | None = strawberry.field(
        default=None,
        description="Among its siblings, from 0 (the siblings from there on move down one); "
        "null: last.",
    )
    required_attributes: list[str] = strawberry.field(
        default_factory=list,
        description="Attribute codes every product of this category must fill.",
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


@strawberry.input(description="Changes to a category's own fields (its place: categoryMove).")
class CategoryUpdateInput:
    slug: str = strawberry.field(description="The slug of the category to change.")
    name: list[CategoryNameInput] | None = strawberry.field(
        default=None, description="Merged per locale; a null value removes the locale."
    )
    required_attributes: list[str] | None = strawberry.field(
        default=None,
        description="Replaces the list; the category's products are rescored when it changes.",
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


@strawberry.input(description="A category's new place in the tree; its subtree moves with it.")
class CategoryMoveInput:
    slug: str = strawberry.field(description="The slug of the category to move.")
    parent: str | None = strawberry.field(
        description="The new parent's slug (not the category nor one of its descendants); "
        "null: a root."
    )
    position: int | None = strawberry.field(
        default=None, description="Among its new siblings, from 0; null: last."
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


@strawberry.type
class CategoryWritePayload:
    category: Category | None = strawberry.field(
        description="The category after the write (for a dry run, as it would be; null for a "
        "dry-run create, which has no id yet, and on failure)."
    )
    changes: list[FieldChangeType] = strawberry.field(
        description="What changed (would change): name per locale, parent, ancestors, "
        "position, requiredAttributes. Empty when nothing changed or on failure."
    )
    dry_run: bool = strawberry.field(
        description="True when nothing was written: the input asked for a dry run."
    )
    errors: list[UserError] = strawberry.field(
        description="What the user can fix; empty on success."
    )


@strawberry.type(description="The result of categoryCreate.")
class CategoryCreatePayload(CategoryWritePayload):
    pass


@strawberry.type(description="The result of categoryUpdate.")
class CategoryUpdatePayload(CategoryWritePayload):
    pass


@strawberry.type(description="The result of categoryMove.")
class CategoryMovePayload(CategoryWritePayload):
    pass


def names(entries: Iterable[CategoryNameInput]) -> dict[str, str | None]:
    return {entry.locale: entry.value for entry in entries}
