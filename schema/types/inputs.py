from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from resolvers.errors import BadUserInputError
from resolvers.products import (
    AttributeCondition,
    ProductFilter,
    PublishingCondition,
    ReadinessCondition,
    SortField,
)
from schema.types.enums import ProductSortField, ProductStatus, PublishingState, SortDirection


def _cap(name: str, values: list[Any] | None, limit: int) -> None:
    if values is not None and len(values) > limit:
        raise BadUserInputError(
            f"'filter.{name}' has {len(values)} entries; the maximum is {limit}",
            argumentName="filter",
        )


@strawberry.input(description="Match an attribute: 'equals' a value, or 'min'/'max' (inclusive).")
class AttributeFilterInput:
    code: str = strawberry.field(description="The attribute's code, e.g. color or weight.")
    equals: JSON | None = strawberry.field(
        default=None, description="Match this value exactly (a list attribute: one of its items)."
    )
    min: float | None = strawberry.field(
        default=None, description="Match numbers at least this (inclusive)."
    )
    max: float | None = strawberry.field(
        default=None, description="Match numbers at most this (inclusive)."
    )
    locale: str | None = strawberry.field(
        default=None, description="For localizable attributes: match the value in this locale."
    )


@strawberry.input(description="A variant option value; all options given must hold on one variant.")
class VariantOptionInput:
    code: str = strawberry.field(description="The option's code, e.g. color or size.")
    value: str = strawberry.field(description="The value a variant must have for it.")


@strawberry.input(description="Stored readiness of one channel (kept current on every write).")
class ReadinessFilterInput:
    channel: str = strawberry.field(description="The channel whose stored score is matched.")
    min_score: int | None = strawberry.field(
        default=None, description="Match scores at least this (0-100, inclusive)."
    )
    max_score: int | None = strawberry.field(
        default=None, description="Match scores at most this (0-100, inclusive)."
    )
    ready: bool | None = strawberry.field(
        default=None,
        description="Match products that are (true) or are not (false) ready for the channel.",
    )


@strawberry.input(description="The publishing state on one channel (needs catalog:read-drafts).")
class PublishingFilterInput:
    channel: str = strawberry.field(description="The channel whose publishing state is matched.")
    states: list[PublishingState] = strawberry.field(
        description="Match any of these states (DRAFT includes products never submitted)."
    )


@strawberry.input(description="Which products a listing holds; all conditions given must hold.")
class ProductFilterInput:
    category: str | None = strawberry.field(
        default=None, description="Category slug; products of its descendants are included."
    )
    brand: list[str] | None = strawberry.field(
        default=None, description="Match any of these brands (at most 50)."
    )
    status: list[ProductStatus] | None = strawberry.field(
        default=None, description="Match any of these statuses."
    )
    search: str | None = strawberry.field(
        default=None, description="Full-text search over SKU, brand, names and descriptions."
    )
    attributes: list[AttributeFilterInput] | None = strawberry.field(
        default=None, description="Attribute conditions, all of which must hold (at most 20)."
    )
    variant_options: list[VariantOptionInput] | None = strawberry.field(
        default=None, description="Options one variant must have together (at most 10)."
    )
    readiness: ReadinessFilterInput | None = strawberry.field(
        default=None, description="Match the stored readiness of one channel."
    )
    publishing: PublishingFilterInput | None = strawberry.field(
        default=None,
        description="Match the publishing state on one channel, e.g. what waits for review "
        "(needs catalog:read-drafts).",
    )

    def to_domain(self) -> ProductFilter:
        _cap("brand", self.brand, 50)
        _cap("attributes", self.attributes, 20)
        _cap("variantOptions", self.variant_options, 10)
        return ProductFilter(
            category=self.category,
            brands=tuple(self.brand or ()),
            statuses=tuple(s.value for s in self.status or ()),
            search=self.search,
            attributes=tuple(
                AttributeCondition(a.code, a.equals, a.min, a.max, a.locale)
                for a in self.attributes or ()
            ),
            variant_options={o.code: o.value for o in self.variant_options or ()},
            readiness=ReadinessCondition(
                self.readiness.channel,
                self.readiness.min_score,
                self.readiness.max_score,
                self.readiness.ready,
            )
            if self.readiness
            else None,
            publishing=PublishingCondition(
                self.publishing.channel, tuple(s.value for s in self.publishing.states)
            )
            if self.publishing
            else None,
        )


@strawberry.input(description="Sort order; ties are broken by a stable internal key.")
class ProductSortInput:
    field: ProductSortField = strawberry.field(
        default=ProductSortField.SKU, description="What to sort by (default SKU)."
    )
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="Ascending (default) or descending."
    )
    locale: str | None = strawberry.field(
        default=None,
        description="For NAME: sort by the name name(locale:) shows in this locale (along its "
        "fallback chain), in its language's order (default locale).",
    )
    channel: str | None = strawberry.field(
        default=None, description="For READINESS: the channel whose stored score to sort by."
    )

    @property
    def sort_field(self) -> SortField:
        return SortField(self.field.value)
