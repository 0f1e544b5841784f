from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from resolvers.attributes import OptionLabels, display_value, infer_type
from resolvers.db import Document
from resolvers.errors import BadUserInputError
from schema.context import Context
from schema.settled import Loaded, MaybeAwaitable, with_loaded
from schema.types.arguments import Locale
from schema.types.enums import AttributeType

Info = strawberry.Info[Context, None]

MAX_CODES = 100


@strawberry.type(description="A typed attribute value of a product or variant.")
class ProductAttribute:
    code: str = strawberry.field(description="The attribute's code.")
    type: AttributeType = strawberry.field(description="The kind of value it holds.")
    unit: str | None = strawberry.field(
        description="The unit of numbers, e.g. kg; null when unitless."
    )
    localizable: bool = strawberry.field(description="The value differs per locale.")
    raw: strawberry.Private[Any]
    definition: strawberry.Private[Document | None]

    @classmethod
    def build(
        cls, code: str, stored: dict[str, Any], definition: Document | None
    ) -> ProductAttribute:
        raw = stored.get("value")
        type_name = definition["type"] if definition else infer_type(raw)
        localizable = bool(definition["localizable"]) if definition else isinstance(raw, dict)
        unit = stored.get("unit") or (definition or {}).get("unit")
        return cls(
            code=code,
            type=AttributeType(type_name),
            unit=unit,
            localizable=localizable,
            raw=raw,
            definition=definition,
        )

    @strawberry.field(description="Label in the locale (default locale when omitted).")
    def label(self, info: Info, locale: Locale = None) -> str | None:
        labels = self.definition.get("label") if self.definition else None
        return info.context.localized(labels, locale, info.path)  # type: ignore[no-any-return]

    @strawberry.field(
        description="The typed value: string, number, boolean or list of strings. Localizable "
        "values are picked along the locale's fallback chain."
    )
    def value(self, info: Info, locale: Locale = None) -> JSON | None:
        if self.localizable and isinstance(self.raw, dict):
            return info.context.localized(self.raw, locale, info.path)  # type: ignore[no-any-return]
        return self.raw  # type: ignore[no-any-return]

    @strawberry.field(
        description="The value formatted for display in the locale, with its unit: numbers with "
        "the locale's decimal sign, yes/no and enum options in its language."
    )
    def display_value(self, info: Info, locale: Locale = None) -> str | None:
        value = self.value(info, locale)
        tag = info.context.locale(locale)
        options = None
        if self.type in (AttributeType.ENUM, AttributeType.LIST) and not self.localizable:
            defined = (self.definition or {}).get("optionLabels")
            options = OptionLabels.for_locale(info.context.locales, tag, defined)
        return display_value(value, self.unit, tag, options)


def resolve_attributes(
    info: Info, values: dict[str, Any], codes: list[str] | None
) -> MaybeAwaitable[list[ProductAttribute]]:
    """Attributes in stored order; definitions come from the request's taxonomy (one query)."""
    if codes is not None and len(codes) > MAX_CODES:
        raise BadUserInputError(f"'codes' has {len(codes)} entries; the maximum is {MAX_CODES}")
    wanted = [code for code in values if codes is None or code in codes]
    if not wanted:
        return []

    def build(loaded: Loaded) -> list[ProductAttribute]:
        return [
            ProductAttribute.build(code, values[code], loaded.attributes.get(code))
            for code in wanted
            if isinstance(values[code], dict)
        ]

    return with_loaded(info, build, attributes=True)
