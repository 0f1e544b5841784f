from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from resolvers.errors import BadUserInputError
from resolvers.products import (
    AttributeCondition,
    ProductFilter,
    ReadinessCondition,
    SortField,
)
from schema.types.enums import ProductSortField, ProductStatus, SortDirection


def _cap(name: str, values: list[Any] | None, limit: int) -> None:
    if values is not None and len(values) > limit:
        raise BadUserInputError(
            f"'filter.{name}' has {len(values)} entries; the maximum is {limit}",
            argumentName="filter",
        )


@strawberry.input(description="Match an attribute: 'equals' a value, or 'min'/'max' (inclusive).")
class AttributeFilterInput:
    code: str
    equals: JSON | None = None
    min: float | None = None
    max: float | None = None
    locale: str | None = strawberry.field(
        default=None, description="For localizable attributes: match the value in this locale."
    )


@strawberry.input(description="A variant option value; all options given must hold on one variant.")
class VariantOptionInput:
    code: str
    value: str


@strawberry.input(description="Stored readiness of one channel (kept current on every write).")
class ReadinessFilterInput:
    channel: str
    min_score: int | None = None
    max_score: int | None = None
    ready: bool | None = None


@strawberry.input
class ProductFilterInput:
    category: str | None = strawberry.field(
        default=None, description="Category slug; products of its descendants are included."
    )
    brand: list[str] | None = None
    status: list[ProductStatus] | None = None
    search: str | None = strawberry.field(
        default=None, description="Full-text search over SKU, brand, names and descriptions."
    )
    attributes: list[AttributeFilterInput] | None = None
    variant_options: list[VariantOptionInput] | None = None
    readiness: ReadinessFilterInput | None = None

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
        )


@strawberry.input(description="Sort order; ties are broken by a stable internal key.")
class ProductSortInput:
    field: ProductSortField = ProductSortField.SKU
    direction: SortDirection = SortDirection.ASC
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
