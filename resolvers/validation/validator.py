"""The one validator every writer calls before it stores a product document.

``Validator(rules).validate_product(document, categories=...)`` is pure and answers a list of
:class:`Violation` (empty: the document may be written). It reads nothing but its arguments, so
a dry run, a mutation, the import and the seeder all get the same answer for the same document.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from resolvers.validation.rules import AttributeRule, ValidationRules
from resolvers.validation.units import UnitFamily, format_quantity
from resolvers.validation.violations import Path, Violation


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One attribute's rule with what every check needs looked up once."""

    code: str
    rule: AttributeRule
    pattern: re.Pattern[str] | None
    values: frozenset[str] | None
    family: UnitFamily | None
    units: tuple[str, ...]


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _has_text(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, dict):
        return any(_has_text(v) for v in value.values())
    if isinstance(value, list):
        return bool(value)
    return value is not None


def required_codes(categories: Iterable[Mapping[str, Any]]) -> list[str]:
    """Attribute codes the given categories require (their ``requiredAttributes``), in order."""
    return list(dict.fromkeys(c for cat in categories for c in cat.get("requiredAttributes") or []))


class Validator:
    """Checks product documents (in the stored shape) against :class:`ValidationRules`."""

    def __init__(self, rules: ValidationRules) -> None:
        self.rules = rules
        self._sku = re.compile(rules.sku.pattern)
        self._attributes: dict[str, _Compiled] = {}
        for code, rule in rules.attributes.items():
            family = rules.units[rule.unit_family] if rule.unit_family else None
            self._attributes[code] = _Compiled(
                code=code,
                rule=rule,
                pattern=re.compile(rule.pattern) if rule.pattern else None,
                values=frozenset(rule.values) if rule.values is not None else None,
                family=family,
                units=tuple(rule.units or (family.units if family else ())),
            )
        # Per status, each (field, locale) once, with the first channel that requires it: the
        # checks a document of that status needs, without repeating them per channel.
        by_status: dict[str, dict[str, dict[str, str]]] = {}
        for requirement in rules.required_localized:
            for status in requirement.statuses:
                tags = by_status.setdefault(status, {}).setdefault(requirement.field, {})
                for tag in requirement.locales:
                    tags.setdefault(tag, requirement.channel)
        self._localized_by_status: dict[Any, tuple[tuple[str, tuple[tuple[str, str], ...]], ...]]
        self._localized_by_status = {
            status: tuple((field, tuple(tags.items())) for field, tags in fields.items())
            for status, fields in by_status.items()
        }

    def validate_product(
        self, document: Mapping[str, Any], *, categories: Iterable[Mapping[str, Any]] = ()
    ) -> list[Violation]:
        """Every violation of the rules in ``document``; ``categories`` are the documents of the
        product's categories (their ``requiredAttributes`` must be filled)."""
        out: list[Violation] = []
        self._check_sku(document.get("sku"), ("sku",), out)
        self._check_texts(document, out)
        self._check_channels(document, out)
        attributes = document.get("attributes")
        if attributes is None:
            attributes = {}
        if not isinstance(attributes, dict):
            out.append(_type(("attributes",), "attributes", "an object keyed by attribute code"))
            attributes = {}
        else:
            self.check_attributes(attributes, ("attributes",), out)
        variants = document.get("variants") or []
        if not isinstance(variants, list):
            out.append(_type(("variants",), "variants", "a list of variants"))
            variants = []
        for index, variant in enumerate(variants):
            self._check_variant(variant, index, out)
        _check_self_links(document, out)
        codes = required_codes(categories)
        if codes:
            self._check_required(attributes, variants, codes, categories, out)
        return out

    # -- attributes -------------------------------------------------------------------------

    def check_attributes(
        self, attributes: Mapping[str, Any], prefix: Path, out: list[Violation]
    ) -> None:
        """Append the violations of an ``{code: {"value": …, "unit": …}}`` map at ``prefix``."""
        for code, entry in attributes.items():
            self.check_attribute(code, entry, (*prefix, code), out)

    def check_attribute(self, code: str, entry: Any, path: Path, out: list[Violation]) -> None:
        """Append the violations of one stored attribute value (``{"value": …}``) at ``path``."""
        compiled = self._attributes.get(code)
        if compiled is None:
            out.append(
                Violation(
                    path,
                    "UNKNOWN_ATTRIBUTE",
                    f"{code!r} is not an attribute of the validation rules",
                    "attributes",
                )
            )
            return
        if not isinstance(entry, dict) or "value" not in entry:
            out.append(_type(path, f"attributes.{code}", 'an object {"value": …}'))
            return
        value = entry["value"]
        if _blank(value):
            return  # absent; REQUIRED decides whether that is allowed
        kind = compiled.rule.type
        if kind == "number":
            self._number(compiled, value, entry.get("unit"), path, out)
        elif kind == "boolean":
            if not isinstance(value, bool):
                out.append(_type(path, f"attributes.{code}.type", "true or false"))
        elif kind == "enum":
            self._enum_item(compiled, value, path, out)
        elif compiled.rule.localizable:
            self._localized(compiled, value, path, out)
        else:
            self._plain(compiled, value, path, out)

    def _localized(self, compiled: _Compiled, value: Any, path: Path, out: list[Violation]) -> None:
        if not isinstance(value, dict):
            what = "{locale: text}" if compiled.rule.type == "text" else "{locale: [text]}"
            out.append(_type(path, f"attributes.{compiled.code}.localizable", what))
            return
        for locale, text in value.items():
            if not _blank(text):
                self._plain(compiled, text, (*path, locale), out)

    def _plain(self, compiled: _Compiled, value: Any, path: Path, out: list[Violation]) -> None:
        if compiled.rule.type == "text":
            self._text_item(compiled, value, path, out)
            return
        if not isinstance(value, list):
            out.append(_type(path, f"attributes.{compiled.code}.type", "a list of text"))
            return
        for index, item in enumerate(value):
            if compiled.values is not None:
                self._enum_item(compiled, item, (*path, index), out)
            else:
                self._text_item(compiled, item, (*path, index), out)

    def _text_item(self, compiled: _Compiled, value: Any, path: Path, out: list[Violation]) -> None:
        code, rule = compiled.code, compiled.rule
        if not isinstance(value, str):
            out.append(_type(path, f"attributes.{code}.type", "text"))
            return
        if rule.max_length is not None and len(value) > rule.max_length:
            out.append(
                Violation(
                    path,
                    "TOO_LONG",
                    f"{len(value)} characters, at most {rule.max_length} allowed",
                    f"attributes.{code}.max_length",
                    rule.max_length,
                )
            )
        if compiled.pattern is not None and not compiled.pattern.fullmatch(value):
            out.append(
                Violation(
                    path,
                    "PATTERN",
                    f"{value!r} does not match {rule.pattern}",
                    f"attributes.{code}.pattern",
                    rule.pattern,
                )
            )

    def _enum_item(self, compiled: _Compiled, value: Any, path: Path, out: list[Violation]) -> None:
        assert compiled.values is not None  # enum rules always have values (rules.py)
        if not isinstance(value, str):
            out.append(_type(path, f"attributes.{compiled.code}.type", "one of the values"))
        elif value not in compiled.values:
            allowed = compiled.rule.values or []
            out.append(
                Violation(
                    path,
                    "ENUM",
                    f"{value!r} is not one of {', '.join(allowed)}",
                    f"attributes.{compiled.code}.values",
                    allowed,
                )
            )

    def _number(
        self, compiled: _Compiled, value: Any, unit: Any, path: Path, out: list[Violation]
    ) -> None:
        code, rule, family = compiled.code, compiled.rule, compiled.family
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            out.append(_type(path, f"attributes.{code}.type", "a finite number"))
            return
        if family is None:
            if unit is not None:
                out.append(
                    Violation(
                        path, "UNIT", f"{code} takes no unit, got {unit!r}", f"attributes.{code}"
                    )
                )
                return
            base, shown = float(value), ""
        else:
            if unit not in compiled.units:
                got = "no unit" if unit is None else repr(unit)
                out.append(
                    Violation(
                        path,
                        "UNIT",
                        f"{got}: the unit is one of {', '.join(compiled.units)}",
                        f"attributes.{code}.units",
                        list(compiled.units),
                    )
                )
                return
            base, shown = family.to_base(value, unit), family.base
        if rule.min is not None and base < rule.min:
            out.append(_range(path, code, value, unit, "min", rule.min, shown))
        elif rule.max is not None and base > rule.max:
            out.append(_range(path, code, value, unit, "max", rule.max, shown))

    # -- product fields ---------------------------------------------------------------------

    def _check_sku(self, sku: Any, path: Path, out: list[Violation]) -> None:
        rule = self.rules.sku
        if sku is None or sku == "":
            out.append(Violation(path, "REQUIRED", "a SKU is required", "sku"))
        elif not isinstance(sku, str):
            out.append(_type(path, "sku", "text"))
        elif len(sku) > rule.max_length:
            out.append(
                Violation(
                    path,
                    "TOO_LONG",
                    f"{len(sku)} characters, at most {rule.max_length} allowed",
                    "sku.max_length",
                    rule.max_length,
                )
            )
        elif not self._sku.fullmatch(sku):
            out.append(
                Violation(
                    path,
                    "PATTERN",
                    f"{sku!r} does not match {rule.pattern}",
                    "sku.pattern",
                    rule.pattern,
                )
            )

    def _check_texts(self, document: Mapping[str, Any], out: list[Violation]) -> None:
        limits = self.rules.text
        for field, limit in (("name", limits.name), ("description", limits.description)):
            values = document.get(field)
            if values is None:
                values = {}
            if not isinstance(values, dict):
                out.append(_type((field,), field, "{locale: text}"))
                continue
            for locale, text in values.items():
                if text is None or text == "":
                    continue
                if not isinstance(text, str):
                    out.append(_type((field, locale), field, "text"))
                elif len(text) > limit.max_length:
                    out.append(
                        Violation(
                            (field, locale),
                            "TOO_LONG",
                            f"{len(text)} characters, at most {limit.max_length} allowed",
                            f"text.{field}.max_length",
                            limit.max_length,
                        )
                    )
                elif len(text) < limit.min_length:
                    out.append(
                        Violation(
                            (field, locale),
                            "TOO_SHORT",
                            f"{len(text)} characters, at least {limit.min_length} needed",
                            f"text.{field}.min_length",
                            limit.min_length,
                        )
                    )
        if not _has_text(document.get("name")):
            out.append(Violation(("name",), "REQUIRED", "a name is required", "text.name"))

    def _check_channels(self, document: Mapping[str, Any], out: list[Violation]) -> None:
        required = self._localized_by_status.get(document.get("status"))
        if not required:
            return
        has_own_value = self.rules.locales.has_own_value
        status = document.get("status")
        for field, tags in required:
            if field.startswith("attributes."):
                code = field.removeprefix("attributes.")
                entry = (document.get("attributes") or {}).get(code)
                values = entry.get("value") if isinstance(entry, dict) else None
                # Absent (or blank) attributes are the categories' business; a value of the
                # wrong shape is already a TYPE violation.
                if not isinstance(values, dict) or not values:
                    continue
                prefix: Path = ("attributes", code)
            else:
                values, prefix = document.get(field), (field,)
            if not isinstance(values, dict):
                values = None
            for tag, channel in tags:
                if not has_own_value(values, tag):
                    out.append(
                        Violation(
                            (*prefix, tag),
                            "REQUIRED",
                            f"{field} in {tag} is required for channel {channel} "
                            f"({status} products)",
                            f"channels.{channel}.fields",
                        )
                    )

    def _check_variant(self, variant: Any, index: int, out: list[Violation]) -> None:
        if not isinstance(variant, dict):
            out.append(_type(("variants", index), "variants", "a variant object"))
            return
        sku = variant.get("sku")
        key: str | int = sku if isinstance(sku, str) and sku else index
        self._check_sku(sku, ("variants", key, "sku"), out)
        options = variant.get("options") or {}
        if not isinstance(options, dict):
            out.append(_type(("variants", key, "options"), "variants", "{code: value}"))
        else:
            for code, value in options.items():
                path: Path = ("variants", key, "options", code)
                compiled = self._attributes.get(code)
                if compiled is not None and compiled.rule.type not in ("enum", "text"):
                    out.append(_type(path, f"attributes.{code}.type", "an enum or text option"))
                else:
                    self.check_attribute(code, {"value": value}, path, out)
        overrides = variant.get("attributes")
        if overrides is None:
            return
        if not isinstance(overrides, dict):
            out.append(_type(("variants", key, "attributes"), "variants", "{code: {value}}"))
        else:
            self.check_attributes(overrides, ("variants", key, "attributes"), out)

    def _check_required(
        self,
        attributes: Mapping[str, Any],
        variants: Sequence[Any],
        codes: list[str],
        categories: Iterable[Mapping[str, Any]],
        out: list[Violation],
    ) -> None:
        by_code: dict[str, str] = {}
        for category in categories:
            for code in category.get("requiredAttributes") or []:
                by_code.setdefault(code, str(category.get("slug")))
        for code in codes:
            if _filled(attributes.get(code)):
                continue
            rule = f"categories.{by_code[code]}.requiredAttributes"
            message = f"{code} is required by category {by_code[code]}"
            lacking = [
                (v.get("sku") or i)
                for i, v in enumerate(variants)
                if isinstance(v, dict) and not _filled((v.get("attributes") or {}).get(code))
            ]
            # Filled on some variants only: name the variants that lack it.
            if variants and len(lacking) < len(variants):
                for key in lacking:
                    out.append(
                        Violation(("variants", key, "attributes", code), "REQUIRED", message, rule)
                    )
            else:
                out.append(Violation(("attributes", code), "REQUIRED", message, rule))


def _check_self_links(document: Mapping[str, Any], out: list[Violation]) -> None:
    """A product is not its own accessory, related product or bundle component: a storefront
    would show it beside itself, and a bundle could contain itself."""
    sku = document.get("sku")
    if not isinstance(sku, str):
        return
    for field in ("accessories", "related", "bundle"):
        linked = document.get(field)
        if not isinstance(linked, list):
            continue
        for entry in linked:
            linked_sku = entry.get("sku") if isinstance(entry, Mapping) else entry
            if linked_sku == sku:
                out.append(
                    Violation(
                        (field, sku),
                        "SELF_REFERENCE",
                        f"{sku!r} cannot be its own {_LINK_NAMES[field]}",
                        f"links.{field}",
                    )
                )


_LINK_NAMES = {"accessories": "accessory", "related": "related product", "bundle": "component"}


def _filled(entry: Any) -> bool:
    return isinstance(entry, dict) and _has_text(entry.get("value"))


def _type(path: Path, rule: str, expected: str) -> Violation:
    return Violation(path, "TYPE", f"expected {expected}", rule, expected)


def _range(
    path: Path, code: str, value: float, unit: Any, bound: str, limit: float, base: str
) -> Violation:
    given = format_quantity(value, unit) if unit else f"{value:.6g}"
    word = "minimum" if bound == "min" else "maximum"
    wanted = format_quantity(limit, base) if base else f"{limit:.6g}"
    return Violation(
        path, "RANGE", f"{given} is beyond the {word} {wanted}", f"attributes.{code}.{bound}", limit
    )
