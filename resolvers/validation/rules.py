"""Validation rules (``validation.toml``): attribute types, units, ranges, patterns, lengths,
enum values, localized fields each channel needs, and the name/description length limits that
readiness uses too.

The file is validated once at start-up, against the channel profiles and the configured
locales; a bad file stops start-up with the file, the line, the key and the reason.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from resolvers.config_files import ConfigFileError, line_of, parse_config, read_config_text
from resolvers.documents import PRODUCT_STATUSES, AttributeType, ProductStatus
from resolvers.locales import LocaleError, LocaleResolver
from resolvers.validation.units import UnitFamily

if TYPE_CHECKING:
    from resolvers.channels import Channels

LOCALIZED_FIELDS = ("name", "description")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class ValidationConfigError(ConfigFileError):
    """The validation rules are invalid; the message names the file, line, key and reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _compiles(pattern: str | None) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
    return pattern


class TextLimit(_Strict):
    min_length: Annotated[int, Field(ge=0)]
    max_length: Annotated[int, Field(ge=1)]

    @model_validator(mode="after")
    def _ordered(self) -> TextLimit:
        if self.min_length > self.max_length:
            raise ValueError("min_length is above max_length")
        return self


class TextLengths(_Strict):
    """Length limits of product names and descriptions, per locale (characters)."""

    name: TextLimit
    description: TextLimit

    # The names readiness's text_lengths rule reads.
    @property
    def name_min(self) -> int:
        return self.name.min_length

    @property
    def name_max(self) -> int:
        return self.name.max_length

    @property
    def description_min(self) -> int:
        return self.description.min_length

    @property
    def description_max(self) -> int:
        return self.description.max_length


class SkuRule(_Strict):
    pattern: str
    max_length: Annotated[int, Field(ge=1)]

    _pattern = field_validator("pattern")(_compiles)


class AttributeRule(_Strict):
    """What a value of one attribute code may be."""

    type: AttributeType
    localizable: bool = False
    unit_family: str | None = None
    units: list[str] | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    max_length: Annotated[int, Field(ge=1)] | None = None
    values: Annotated[list[str], Field(min_length=1)] | None = None

    _pattern = field_validator("pattern")(_compiles)

    @model_validator(mode="after")
    def _fits_type(self) -> AttributeRule:
        kind = self.type
        if self.localizable and kind not in ("text", "list"):
            raise ValueError("only text and list attributes are localizable")
        if kind != "number":
            for key in ("unit_family", "units", "min", "max"):
                if getattr(self, key) is not None:
                    raise ValueError(f"{key} applies to number attributes only")
        if kind not in ("text", "list"):
            for key in ("pattern", "max_length"):
                if getattr(self, key) is not None:
                    raise ValueError(f"{key} applies to text and list attributes only")
        if kind == "enum" and self.values is None:
            raise ValueError("an enum attribute needs values")
        if kind not in ("enum", "list") and self.values is not None:
            raise ValueError("values apply to enum and list attributes only")
        if self.units is not None and self.unit_family is None:
            raise ValueError("units need a unit_family")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        if self.values is not None and len(set(self.values)) != len(self.values):
            raise ValueError("a value is listed twice")
        return self


class ChannelRequirement(_Strict):
    """Localized fields a product of the given statuses must have for one channel."""

    fields: Annotated[list[str], Field(min_length=1)]
    locales: Annotated[list[str], Field(min_length=1)] | None = None
    statuses: Annotated[list[ProductStatus], Field(min_length=1)] = list(PRODUCT_STATUSES)


class ValidationFile(_Strict):
    text: TextLengths
    sku: SkuRule
    units: dict[str, UnitFamily] = {}
    attributes: Annotated[dict[str, AttributeRule], Field(min_length=1)]
    channels: dict[str, ChannelRequirement] = {}


@dataclass(frozen=True, slots=True)
class LocalizedRequirement:
    """``field`` (``name``, ``description`` or ``attributes.CODE``) must have text in each of
    ``locales`` (own or through a configured fallback) when the status is one of ``statuses``."""

    channel: str
    field: str
    locales: tuple[str, ...]
    statuses: frozenset[str]


@dataclass(frozen=True, slots=True)
class ValidationRules:
    """The validated rules, with the digest and name of the file they came from."""

    text: TextLengths
    sku: SkuRule
    units: dict[str, UnitFamily]
    attributes: dict[str, AttributeRule]
    required_localized: tuple[LocalizedRequirement, ...]
    locales: LocaleResolver
    digest: str
    source: str


def load_validation(path: Path, locales: LocaleResolver, channels: Channels) -> ValidationRules:
    """Read and validate ``path``, or raise ValidationConfigError naming file, line, key and
    reason."""
    text = read_config_text(path, "validation rules", ValidationConfigError)
    return parse_validation(text, str(path), locales, channels)


def parse_validation(
    text: str, source: str, locales: LocaleResolver, channels: Channels
) -> ValidationRules:
    parsed = parse_config(text, source, ValidationFile, ValidationConfigError)

    def fail(loc: list[str], reason: str) -> ValidationConfigError:
        return ValidationConfigError(f"{source}:{line_of(text, loc)}: {'.'.join(loc)}: {reason}")

    for code, rule in parsed.attributes.items():
        where = ["attributes", code]
        if not _CODE.match(code):
            raise fail(where, "attribute codes are lowercase letters, digits and _")
        if rule.unit_family is None:
            continue
        family = parsed.units.get(rule.unit_family)
        if family is None:
            known = ", ".join(parsed.units) or "none"
            raise fail(
                [*where, "unit_family"], f"unknown unit family {rule.unit_family!r} ({known})"
            )
        foreign = [unit for unit in rule.units or () if unit not in family.units]
        if foreign:
            raise fail(
                [*where, "units"],
                f"{', '.join(foreign)} not in unit family {rule.unit_family!r} "
                f"({', '.join(family.units)})",
            )

    required: list[LocalizedRequirement] = []
    for name, requirement in parsed.channels.items():
        where = ["channels", name]
        profile = channels.get(name)
        if profile is None or channels.canonical(name) != name:
            raise fail(where, f"no channel {name!r} in {channels.source}")
        for field in requirement.fields:
            code = field.removeprefix("attributes.")
            if field in LOCALIZED_FIELDS:
                continue
            named = parsed.attributes.get(code) if field.startswith("attributes.") else None
            if named is None or not named.localizable:
                raise fail(
                    [*where, "fields"],
                    f"{field!r} is not name, description or attributes.CODE of a localizable "
                    "attribute",
                )
        wanted: list[str] = []
        for tag in requirement.locales or profile.locales:
            try:
                resolved = locales.resolve(tag)
            except LocaleError as exc:
                raise fail([*where, "locales"], str(exc)) from None
            if resolved not in profile.locales:
                raise fail([*where, "locales"], f"{resolved} is not a locale of channel {name}")
            wanted.append(resolved)
        required.extend(
            LocalizedRequirement(name, field, tuple(wanted), frozenset(requirement.statuses))
            for field in requirement.fields
        )

    return ValidationRules(
        text=parsed.text,
        sku=parsed.sku,
        units=dict(parsed.units),
        attributes=dict(parsed.attributes),
        required_localized=tuple(required),
        locales=locales,
        digest=hashlib.sha256(text.encode()).hexdigest(),
        source=source,
    )
