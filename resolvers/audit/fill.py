"""Fill rates and always-blank fields.

**Fill rate** of an attribute (per locale when localizable): products in scope are those that
carry the attribute or list a category requiring it; filled are those with a non-blank value
(see :mod:`resolvers.audit.expressions` for blank and locale filled). ``name`` and
``description`` have every product in scope. A field is *always blank* when its scope is not
empty and none of it is filled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from resolvers.audit.expressions import locale_chains, locale_pattern, pattern_filled
from resolvers.audit.pipeline import KEY_SEPARATOR, Pipeline, aggregate
from resolvers.audit.taxonomy import attribute_definitions, category_requirements
from resolvers.db import Catalog


@dataclass(frozen=True, slots=True)
class FillRate:
    field: str  # "name", "description" or "attributes.<code>"
    locale: str | None  # None: a value that is not localized
    scope: int
    filled: int
    rate: float | None = dataclasses.field(init=False)  # filled / scope; None for an empty scope

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", self.filled / self.scope if self.scope else None)

    @property
    def always_blank(self) -> bool:
        return self.scope > 0 and self.filled == 0


@dataclass(frozen=True, slots=True)
class FillRates:
    """Every field and locale (never truncated: the schema bounds it, not the catalog)."""

    products: int
    rates: tuple[FillRate, ...]
    always_blank: tuple[FillRate, ...]
    unused_attributes: tuple[str, ...]  # defined, but no product carries or requires them
    total: int = dataclasses.field(init=False)  # the always-blank fields

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", len(self.always_blank))


def fill_rates_pipeline(
    locales: Sequence[str], fallbacks: Mapping[str, Sequence[str]] | None = None
) -> Pipeline:
    """Products counted by category set and name/description fill pattern (``sets``), and
    attribute values counted by category set and fill pattern (``attributes``).

    Patterns are :func:`locale_pattern` strings: the name's and the description's joined by
    ``\0`` for products, ``{code}\0{pattern}`` for attribute values. Grouping on such strings
    with one counter costs a third of one $sum accumulator per flag, and there are few
    distinct patterns.
    """
    chains = locale_chains(locales, fallbacks)
    token = {
        "$concat": [
            "$$entry.k",
            KEY_SEPARATOR,
            locale_pattern("$$entry.v.value", chains),
        ]
    }
    attributes = {"$cond": [{"$eq": [{"$type": "$attributes"}, "object"]}, "$attributes", {}]}
    categories = {"$setUnion": [{"$ifNull": ["$categories", []]}]}
    return [
        {
            "$project": {
                "_id": 0,
                "c": {"$sortArray": {"input": categories, "sortBy": 1}},
                "t": {
                    "$concat": [
                        locale_pattern("$name", chains),
                        KEY_SEPARATOR,
                        locale_pattern("$description", chains),
                    ]
                },
                "a": {
                    "$map": {"input": {"$objectToArray": attributes}, "as": "entry", "in": token}
                },
            }
        },
        {
            "$facet": {
                "sets": [{"$group": {"_id": {"c": "$c", "t": "$t"}, "n": {"$sum": 1}}}],
                "attributes": [
                    {"$project": {"c": 1, "a": 1}},
                    {"$unwind": "$a"},
                    {"$group": {"_id": {"c": "$c", "a": "$a"}, "n": {"$sum": 1}}},
                ],
            }
        },
    ]


async def fill_rates(
    catalog: Catalog,
    *,
    locales: Sequence[str],
    fallbacks: Mapping[str, Sequence[str]] | None = None,
) -> FillRates:
    # In turn, not gathered: the first two take milliseconds, and a failure must leave no
    # sibling running unawaited.
    requirements = await category_requirements(catalog)
    definitions = await attribute_definitions(catalog)
    (result,) = await aggregate(catalog.products, fill_rates_pipeline(locales, fallbacks))
    width = len(locales)
    products = 0
    text_filled = [0] * (2 * width)
    # Scope of a code: every product of a category set requiring it, plus its carriers elsewhere.
    scope: dict[str, int] = {}
    required_by_set: dict[tuple[str, ...], set[str]] = {}
    for row in result["sets"]:
        count, cats = int(row["n"]), tuple(row["_id"]["c"])
        products += count
        name, description = row["_id"]["t"].split(KEY_SEPARATOR)
        hits = pattern_filled(name, width)[1] + pattern_filled(description, width)[1]
        for i, hit in enumerate(hits):
            text_filled[i] += count if hit else 0
        required = required_by_set.setdefault(
            cats, {code for slug in cats for code in requirements.get(slug, ())}
        )
        for code in required:
            scope[code] = scope.get(code, 0) + count

    any_filled: dict[str, int] = {}
    per_locale: dict[str, list[int]] = {}
    maps: dict[str, int] = {}
    for row in result["attributes"]:
        count, cats = int(row["n"]), tuple(row["_id"]["c"])
        code, pattern = row["_id"]["a"].split(KEY_SEPARATOR, 1)
        if code not in required_by_set.get(cats, ()):
            scope[code] = scope.get(code, 0) + count
        filled_at_all, hits = pattern_filled(pattern, width)
        maps[code] = maps.get(code, 0) + (count if pattern[0] == "o" else 0)
        any_filled[code] = any_filled.get(code, 0) + (count if filled_at_all else 0)
        counts = per_locale.setdefault(code, [0] * width)
        for i, hit in enumerate(hits):
            counts[i] += count if hit else 0

    rates = [
        FillRate(text, locale, products, text_filled[offset + i])
        for offset, text in ((0, "name"), (width, "description"))
        for i, locale in enumerate(locales)
    ]
    for code in sorted(scope):
        field = f"attributes.{code}"
        if definitions.get(code, maps.get(code, 0) > 0):
            counts = per_locale.get(code, [0] * width)
            rates += [FillRate(field, loc, scope[code], counts[i]) for i, loc in enumerate(locales)]
        else:
            rates.append(FillRate(field, None, scope[code], any_filled.get(code, 0)))
    return FillRates(
        products=products,
        rates=tuple(rates),
        always_blank=tuple(rate for rate in rates if rate.always_blank),
        unused_attributes=tuple(sorted(code for code in definitions if not scope.get(code))),
    )
