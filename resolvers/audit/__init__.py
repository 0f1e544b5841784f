"""The catalog audit: data-quality findings computed by MongoDB aggregations.

Every section is one aggregation (plus, for a few examples, an indexed lookup of details), so
the work scales with the server, not with Python loops over documents; Python only reshapes the
small grouped results. Sections are independent and run concurrently.

Definitions, chosen so that each number has one meaning:

* **SKU normal form**: upper case without whitespace, ``-`` and ``_`` (``ab_12`` = ``AB-12`` =
  ``AB 12`` = ``AB12``). Product and variant SKUs share one namespace.
* **Name normal form**: case-folded (ASCII and Latin letters: ``$toLower`` is ASCII-only, so
  the capitals of U+00C0 to U+024F are folded explicitly), runs of whitespace, ``-`` and ``_`` made
  one space, trimmed: :func:`resolvers.normal_forms.normalize_name` in MongoDB. Groups are per
  brand (normalised the same way) and locale.
* **Blank**: missing, null, a string of whitespace, an empty list or a list of blanks, an empty
  object. ``0`` and ``false`` are values.
* **Locale filled**: a localized map has a non-blank value for the locale itself or one of its
  ``fallbacks`` (``de-AT`` → ``de-DE``); the default locale that ends every chain does not count,
  since an English text does not make a German page complete. A plain value on a localizable
  attribute is shown in every locale, so it fills them all.
* **Required attributes** of a category are its own ``requiredAttributes`` and its ancestors'.
  Only product-level values count (variant overrides refine a product's value, they are not it).
* **Fill rate** of an attribute (per locale when localizable): products in scope are those that
  carry the attribute or list a category requiring it; filled are those with a non-blank value.
  ``name`` and ``description`` have every product in scope. A field is *always blank* when its
  scope is not empty and none of it is filled.
* **Orphaned asset**: an active or rejected mirror record (it exists in Cloudinary) whose
  ``(resourceType, publicId)`` no product media reference, no video ``poster`` and no
  configured public id (channel placeholders) uses. ``missing``/``deleted`` records are the
  mirror remembering an absence, not assets.
* **Missing asset reference**: a product media reference with no active or rejected record for
  its key (``video`` role → video resource, any other role → image).
* **Missing product reference**: a ``related``, ``accessories`` or ``bundle`` SKU equal to no
  product or variant SKU (exactly: normalisation is the duplicate-SKU section's business).
* **Duplicate media**: active or rejected assets with equal ``phash``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, Generic, Literal, TypeVar

from resolvers.channels import Channels
from resolvers.db import Catalog, Collection, Document
from resolvers.locales import LocaleResolver

Pipeline = list[dict[str, Any]]
Expr = Any  # an aggregation expression: a field path, a literal or an operator document

T = TypeVar("T")

LIVE_ASSET_STATUSES: tuple[str, ...] = ("active", "rejected")
SKU_SEPARATORS: tuple[str, ...] = (" ", "\t", "\n", "\r", "\u00a0", "-", "_")
# Joined into one space by the name normal form (Python's \s also has rarer spaces).
NAME_SEPARATORS: tuple[str, ...] = ("\t", "\n", "\r", "\u00a0", "-", "_")
MAX_LIMIT = 1000
_KEY_SEPARATOR = "\u0000"  # in no brand, locale tag, attribute code or name

SECTIONS: tuple[str, ...] = (
    "duplicate_skus",
    "duplicate_names",
    "fill_rates",
    "missing_required_attributes",
    "orphaned_assets",
    "missing_asset_references",
    "missing_product_references",
    "duplicate_media",
)

# Flags summed into one number per group key. One $sum accumulator per group keeps a $group over
# a million keys (100k products' media plus their mirror) inside the server's 100 MB $group
# budget; a second accumulator doubles the memory and makes it spill to disk, 3x slower.
_REFERENCE = 1  # a product references the key (counts up to 2**20 - 1)
_POSTER = 1 << 20  # a video asset names the key as its poster
_EXISTS = 1 << 40  # the key is a live asset / a product or variant SKU


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Section(Generic[T]):
    """How many findings there are, and the first ``limit`` of them in a stable order."""

    total: int
    examples: tuple[T, ...]


@dataclass(frozen=True, slots=True)
class SkuOccurrence:
    sku: str
    product_sku: str  # the product itself for a product SKU, its owner for a variant SKU
    variant: bool


@dataclass(frozen=True, slots=True)
class DuplicateSku:
    normalized: str
    occurrences: tuple[SkuOccurrence, ...]


@dataclass(frozen=True, slots=True)
class NamedProduct:
    sku: str
    name: str


@dataclass(frozen=True, slots=True)
class DuplicateName:
    brand: str
    locale: str
    normalized: str
    products: tuple[NamedProduct, ...]


@dataclass(frozen=True, slots=True)
class FillRate:
    field: str  # "name", "description" or "attributes.<code>"
    locale: str | None  # None: a value that is not localized
    scope: int
    filled: int

    @property
    def rate(self) -> float | None:
        return self.filled / self.scope if self.scope else None

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

    @property
    def total(self) -> int:
        return len(self.always_blank)


@dataclass(frozen=True, slots=True)
class LocaleGap:
    code: str
    locales: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MissingRequired:
    sku: str
    category: str
    missing: tuple[str, ...]  # blank in every locale
    untranslated: tuple[LocaleGap, ...]  # localizable, filled in some locales but not these


@dataclass(frozen=True, slots=True)
class AssetRef:
    public_id: str
    resource_type: str
    status: str
    sku: str | None  # the product the mirror record claims (Cloudinary context or tag)


@dataclass(frozen=True, slots=True)
class MissingAssetReference:
    sku: str
    public_id: str
    role: str
    resource_type: str
    status: str  # of the mirror record: "missing", "deleted", or "absent" without one


@dataclass(frozen=True, slots=True)
class MissingProductReference:
    sku: str
    field: Literal["related", "accessories", "bundle"]
    missing_sku: str


@dataclass(frozen=True, slots=True)
class DuplicateMedia:
    phash: str
    assets: tuple[AssetRef, ...]


@dataclass(frozen=True, slots=True)
class AuditReport:
    locales: tuple[str, ...]
    limit: int
    duplicate_skus: Section[DuplicateSku]
    duplicate_names: Section[DuplicateName]
    fill_rates: FillRates
    missing_required_attributes: Section[MissingRequired]
    orphaned_assets: Section[AssetRef]
    missing_asset_references: Section[MissingAssetReference]
    missing_product_references: Section[MissingProductReference]
    duplicate_media: Section[DuplicateMedia]
    seconds: Mapping[str, float]  # wall time of each section (they overlap), and "total"

    def to_json(self) -> dict[str, Any]:
        """The report with camelCase keys, as GraphQL names them."""
        converted = _jsonable(self)
        assert isinstance(converted, dict)
        return converted


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        out = {_camel(f.name): _jsonable(getattr(value, f.name)) for f in fields(value)}
        if isinstance(value, FillRate):
            out["rate"] = value.rate
        if isinstance(value, FillRates):
            out["total"] = value.total
        return out
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def audit_fallbacks(locales: LocaleResolver) -> dict[str, list[str]]:
    """The configured fallback chains without the default locale that ends every chain."""
    return {
        tag: [t for t in locales.chain(tag)[1:] if t != locales.default] for tag in locales.locales
    }


def placeholder_ids(channels: Channels) -> set[str]:
    """Public ids the channel profiles deliver in place of missing media."""
    return {
        slot.placeholder
        for profile in channels.profiles.values()
        for slot in profile.slots.values()
    }


# ---------------------------------------------------------------------------------------------
# Expression builders
# ---------------------------------------------------------------------------------------------


def _replace_all(expr: Expr, finds: Iterable[str], replacement: str) -> Expr:
    for find in finds:
        expr = {"$replaceAll": {"input": expr, "find": find, "replacement": replacement}}
    return expr


def sku_key(expr: Expr) -> Expr:
    """The SKU normal form of a string expression (see the module docstring)."""
    return {"$toUpper": _replace_all(expr, SKU_SEPARATORS, "")}


def _latin_capitals() -> list[tuple[str, str]]:
    pairs = []
    for code in range(0xC0, 0x250):
        char = chr(code)
        lower = char.lower()
        if char != lower and len(lower) == 1 and lower.upper() == char:
            pairs.append((char, lower))
    return pairs


_LATIN_CAPITALS = _latin_capitals()
_LATIN_CAPITAL_CLASS = "[" + "".join(upper for upper, _ in _LATIN_CAPITALS) + "]"


def casefold(expr: Expr) -> Expr:
    """Lower case for ASCII and Latin letters; the Latin pass, one character at a time, only
    runs on the few strings that have a Latin capital."""
    uppers = [upper for upper, _ in _LATIN_CAPITALS]
    lowers = [lower for _, lower in _LATIN_CAPITALS]
    char = {"$substrCP": ["$$lowered", "$$this", 1]}
    folded_char = {
        "$let": {
            "vars": {"at": {"$indexOfArray": [{"$literal": uppers}, char]}},
            "in": {
                "$cond": [
                    {"$lt": ["$$at", 0]},
                    char,
                    {"$arrayElemAt": [{"$literal": lowers}, "$$at"]},
                ]
            },
        }
    }
    folded = {
        "$reduce": {
            "input": {"$range": [0, {"$strLenCP": "$$lowered"}]},
            "initialValue": "",
            "in": {"$concat": ["$$value", folded_char]},
        }
    }
    return {
        "$let": {
            "vars": {"lowered": {"$toLower": expr}},
            "in": {
                "$cond": [
                    {"$regexMatch": {"input": "$$lowered", "regex": _LATIN_CAPITAL_CLASS}},
                    folded,
                    "$$lowered",
                ]
            },
        }
    }


def name_key(expr: Expr) -> Expr:
    """The name normal form of a string expression (see the module docstring)."""
    spaced = _replace_all(casefold(expr), NAME_SEPARATORS, " ")
    words = {"$filter": {"input": {"$split": [spaced, " "]}, "cond": {"$ne": ["$$this", ""]}}}
    return {
        "$reduce": {
            "input": words,
            "initialValue": "",
            "in": {
                "$cond": [
                    {"$eq": ["$$value", ""]},
                    "$$this",
                    {"$concat": ["$$value", " ", "$$this"]},
                ]
            },
        }
    }


_ABSENT = ["missing", "null", "undefined"]


def _scalar_filled(variable: str) -> Expr:
    return {
        "$switch": {
            "branches": [
                {
                    "case": {"$eq": [{"$type": variable}, "string"]},
                    "then": {"$ne": [{"$trim": {"input": variable}}, ""]},
                },
                {"case": {"$in": [{"$type": variable}, _ABSENT]}, "then": False},
            ],
            "default": True,
        }
    }


def _list_filled(variable: str) -> Expr:
    return {
        "$anyElementTrue": [
            {"$map": {"input": variable, "as": "item", "in": _scalar_filled("$$item")}}
        ]
    }


def _leaf_filled(variable: str) -> Expr:
    return {
        "$cond": [
            {"$eq": [{"$type": variable}, "array"]},
            _list_filled(variable),
            _scalar_filled(variable),
        ]
    }


def filled_tags(variable: str) -> Expr:
    """The keys of the map in ``variable`` whose values are not blank."""
    entries = {"$objectToArray": variable}
    kept = {"$filter": {"input": entries, "as": "tag", "cond": _leaf_filled("$$tag.v")}}
    return {"$map": {"input": kept, "as": "tag", "in": "$$tag.k"}}


def filled(expr: Expr) -> Expr:
    """True when the value of ``expr`` is not blank (see the module docstring)."""
    # Branches in order of frequency: most values are strings, then missing, then lists.
    return {
        "$let": {
            "vars": {"value": expr, "type": {"$type": expr}},
            "in": {
                "$switch": {
                    "branches": [
                        {
                            "case": {"$eq": ["$$type", "string"]},
                            "then": {"$ne": [{"$trim": {"input": "$$value"}}, ""]},
                        },
                        {"case": {"$in": ["$$type", _ABSENT]}, "then": False},
                        {"case": {"$eq": ["$$type", "array"]}, "then": _list_filled("$$value")},
                        {
                            "case": {"$eq": ["$$type", "object"]},
                            "then": {"$ne": [filled_tags("$$value"), []]},
                        },
                    ],
                    "default": True,
                }
            },
        }
    }


def locale_pattern(expr: Expr, chains: Sequence[Sequence[str]]) -> Expr:
    """A string describing how ``expr`` is filled: for a localized map "o", "1"/"0" for filled
    at all, then "1"/"0" per chain (a non-blank value for a locale of the chain); for any
    other value "s" and "1"/"0" for filled (a plain value is shown in every locale).

    The map's filled keys are found once, then each chain is a small set intersection.
    """
    per_chain = [
        {"$cond": [{"$eq": [{"$setIntersection": ["$$tags", list(chain)]}, []]}, "0", "1"]}
        for chain in chains
    ]
    localized = {
        "$let": {
            "vars": {"tags": filled_tags("$$value")},
            "in": {
                "$concat": [
                    "o",
                    {"$cond": [{"$eq": ["$$tags", []]}, "0", "1"]},
                    *per_chain,
                ]
            },
        }
    }
    return {
        "$let": {
            "vars": {"value": expr},
            "in": {
                "$cond": [
                    {"$eq": [{"$type": "$$value"}, "object"]},
                    localized,
                    {"$concat": ["s", {"$cond": [filled("$$value"), "1", "0"]}]},
                ]
            },
        }
    }


def pattern_filled(pattern: str, width: int) -> tuple[bool, list[bool]]:
    """Filled at all, and per chain, from a :func:`locale_pattern` string."""
    filled_at_all = pattern[1] == "1"
    if pattern[0] == "o":
        return filled_at_all, [flag == "1" for flag in pattern[2 : 2 + width]]
    return filled_at_all, [filled_at_all] * width


def _chains(
    locales: Sequence[str], fallbacks: Mapping[str, Sequence[str]] | None
) -> list[list[str]]:
    chains = []
    for tag in locales:
        chain = [tag, *((fallbacks or {}).get(tag) or ())]
        chains.append(list(dict.fromkeys(chain)))
    return chains


def _total_and_examples(sort: dict[str, int], limit: int) -> dict[str, Any]:
    examples: Pipeline = [{"$sort": sort}, {"$limit": limit}] if limit else [{"$limit": 1}]
    return {"$facet": {"total": [{"$count": "n"}], "examples": examples}}


async def _aggregate(collection: Collection, pipeline: Pipeline) -> list[Document]:
    # Every audit reads whole collections: a $match on an indexed field (phash, categories)
    # would otherwise pick an index scan, fetching documents in index order at twice the cost.
    cursor = await collection.aggregate(pipeline, allowDiskUse=True, hint={"$natural": 1})
    return await cursor.to_list()


async def _faceted(
    collection: Collection, pipeline: Pipeline, limit: int
) -> tuple[int, list[Document]]:
    (result,) = await _aggregate(collection, pipeline)
    total = result["total"][0]["n"] if result["total"] else 0
    return total, result["examples"] if limit else []


# ---------------------------------------------------------------------------------------------
# Duplicate SKUs
# ---------------------------------------------------------------------------------------------


def duplicate_skus_pipeline(limit: int) -> Pipeline:
    """Product and variant SKUs grouped by SKU normal form; groups of two or more."""
    variant = {"s": "$$v.sku", "p": "$sku"}
    return [
        {
            "$project": {
                "_id": 0,
                "e": {
                    "$concatArrays": [
                        [{"s": "$sku"}],
                        {
                            "$map": {
                                "input": {"$ifNull": ["$variants", []]},
                                "as": "v",
                                "in": variant,
                            }
                        },
                    ]
                },
            }
        },
        {"$unwind": "$e"},
        {"$match": {"e.s": {"$type": "string"}}},
        {"$group": {"_id": sku_key("$e.s"), "e": {"$push": "$e"}}},
        {"$match": {"e.1": {"$exists": True}}},
        _total_and_examples({"_id": 1}, limit),
    ]


async def duplicate_skus(catalog: Catalog, *, limit: int = 100) -> Section[DuplicateSku]:
    total, groups = await _faceted(catalog.products, duplicate_skus_pipeline(limit), limit)
    examples = []
    for group in groups:
        occurrences = sorted(
            (
                SkuOccurrence(sku=e["s"], product_sku=e.get("p", e["s"]), variant="p" in e)
                for e in group["e"]
            ),
            key=lambda o: (o.sku, o.product_sku),
        )
        examples.append(DuplicateSku(normalized=group["_id"], occurrences=tuple(occurrences)))
    return Section(total, tuple(examples))


# ---------------------------------------------------------------------------------------------
# Near-duplicate names
# ---------------------------------------------------------------------------------------------


def duplicate_names_pipeline(locales: Sequence[str], limit: int) -> Pipeline:
    """Product names grouped by brand, locale and name normal form; groups of two or more."""
    names = {
        "$filter": {
            "input": {
                "$objectToArray": {"$cond": [{"$eq": [{"$type": "$name"}, "object"]}, "$name", {}]}
            },
            "as": "n",
            "cond": {
                "$and": [
                    {"$in": ["$$n.k", list(locales)]},
                    {"$eq": [{"$type": "$$n.v"}, "string"]},
                ]
            },
        }
    }
    brand = name_key({"$cond": [{"$eq": [{"$type": "$brand"}, "string"]}, "$brand", ""]})
    # One string key (and one accumulator): the smallest $group state per name.
    key = {
        "$let": {
            "vars": {"normal": name_key("$$n.v")},
            "in": {
                "$cond": [
                    {"$eq": ["$$normal", ""]},
                    None,
                    {"$concat": ["$$brand", _KEY_SEPARATOR, "$$n.k", _KEY_SEPARATOR, "$$normal"]},
                ]
            },
        }
    }
    return [
        {
            "$project": {
                "_id": 0,
                "sku": 1,
                "k": {
                    "$let": {
                        "vars": {"brand": brand},
                        "in": {"$map": {"input": names, "as": "n", "in": key}},
                    }
                },
            }
        },
        {"$unwind": "$k"},
        {"$match": {"k": {"$type": "string"}}},
        {"$group": {"_id": "$k", "skus": {"$push": "$sku"}}},
        {"$match": {"skus.1": {"$exists": True}}},
        _total_and_examples({"_id": 1}, limit),
    ]


async def duplicate_names(
    catalog: Catalog, *, locales: Sequence[str], limit: int = 100
) -> Section[DuplicateName]:
    total, groups = await _faceted(
        catalog.products, duplicate_names_pipeline(locales, limit), limit
    )
    skus = {sku for group in groups for sku in group["skus"]}
    products: dict[str, Document] = {}
    if skus:
        cursor = catalog.products.find(
            {"sku": {"$in": sorted(skus)}}, {"_id": 0, "sku": 1, "brand": 1, "name": 1}
        )
        products = {p["sku"]: p async for p in cursor}
    examples = []
    for group in groups:
        _, locale, normalized = group["_id"].split(_KEY_SEPARATOR, 2)
        members = sorted(group["skus"])
        named = tuple(
            NamedProduct(sku, str((products.get(sku, {}).get("name") or {}).get(locale, "")))
            for sku in members
        )
        brand = str(products.get(members[0], {}).get("brand", ""))
        examples.append(DuplicateName(brand, locale, normalized, named))
    return Section(total, tuple(examples))


# ---------------------------------------------------------------------------------------------
# Category requirements and attribute definitions (small collections)
# ---------------------------------------------------------------------------------------------


def category_requirements_pipeline() -> Pipeline:
    """Each category's required attribute codes, its ancestors' included."""
    own = {"$ifNull": ["$requiredAttributes", []]}
    inherited = {
        "$reduce": {
            "input": "$up.r",
            "initialValue": [],
            "in": {"$setUnion": ["$$value", {"$ifNull": ["$$this", []]}]},
        }
    }
    return [
        {
            "$lookup": {
                "from": "categories",
                "localField": "ancestors",
                "foreignField": "slug",
                "as": "up",
                "pipeline": [{"$project": {"_id": 0, "r": "$requiredAttributes"}}],
            }
        },
        {"$project": {"_id": 0, "slug": 1, "required": {"$setUnion": [own, inherited]}}},
    ]


async def category_requirements(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    rows = await _aggregate(catalog.categories, category_requirements_pipeline())
    return {
        row["slug"]: tuple(sorted(row["required"]))
        for row in rows
        if isinstance(row.get("slug"), str)
    }


async def _definitions(catalog: Catalog) -> dict[str, bool]:
    """Attribute code → localizable."""
    cursor = catalog.attributes.find({}, {"_id": 0, "code": 1, "localizable": 1})
    return {d["code"]: bool(d.get("localizable")) async for d in cursor if "code" in d}


# ---------------------------------------------------------------------------------------------
# Fill rates
# ---------------------------------------------------------------------------------------------


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
    chains = _chains(locales, fallbacks)
    token = {
        "$concat": [
            "$$entry.k",
            _KEY_SEPARATOR,
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
                        _KEY_SEPARATOR,
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
    definitions = await _definitions(catalog)
    (result,) = await _aggregate(catalog.products, fill_rates_pipeline(locales, fallbacks))
    width = len(locales)
    products = 0
    text_filled = [0] * (2 * width)
    # Scope of a code: every product of a category set requiring it, plus its carriers elsewhere.
    scope: dict[str, int] = {}
    required_by_set: dict[tuple[str, ...], set[str]] = {}
    for row in result["sets"]:
        count, cats = int(row["n"]), tuple(row["_id"]["c"])
        products += count
        name, description = row["_id"]["t"].split(_KEY_SEPARATOR)
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
        code, pattern = row["_id"]["a"].split(_KEY_SEPARATOR, 1)
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


# ---------------------------------------------------------------------------------------------
# Missing required attributes
# ---------------------------------------------------------------------------------------------


def missing_required_pipeline(
    requirements: Mapping[str, Sequence[str]],
    plain: Iterable[str],
    locales: Sequence[str],
    limit: int,
    fallbacks: Mapping[str, Sequence[str]] | None = None,
) -> Pipeline:
    """(product, category) pairs lacking some of the category's required attributes, or with
    a required localized value blank in some locales (a map is a localized value unless its
    code is in ``plain``, the definitions that are not localizable).

    The requirements (one entry per category: a taxonomy's size, not a catalog's) travel as
    literals, because a $lookup per product costs ~45 µs, 5 s on 100k products.
    """
    slugs = sorted(slug for slug, codes in requirements.items() if codes)
    lists = [sorted(requirements[slug]) for slug in slugs]
    chains = _chains(locales, fallbacks)
    attributes = {"$cond": [{"$eq": [{"$type": "$attributes"}, "object"]}, "$attributes", {}]}
    categories = {"$cond": [{"$isArray": "$categories"}, "$categories", []]}
    localized = {
        "$and": [
            {"$eq": [{"$type": "$$e.v.value"}, "object"]},
            {"$in": ["$$e.k", "$$filled"]},
            {"$not": [{"$in": ["$$e.k", sorted(set(plain))]}]},
        ]
    }

    def codes(entries: Expr, condition: Expr) -> Expr:
        return {
            "$map": {
                "input": {"$filter": {"input": entries, "as": "e", "cond": condition}},
                "as": "e",
                "in": "$$e.k",
            }
        }

    gaps = [
        codes("$$maps", {"$eq": [{"$setIntersection": ["$$e.tags", chain]}, []]})
        for chain in chains
    ]
    required = {"$arrayElemAt": [{"$literal": lists}, {"$indexOfArray": [slugs, "$$c"]}]}
    row = {
        "$let": {
            "vars": {"required": required},
            "in": {
                "category": "$$c",
                "missing": {"$setDifference": ["$$required", "$$filled"]},
                "untranslated": {
                    "$map": {
                        "input": "$$gaps",
                        "as": "g",
                        "in": {"$setIntersection": ["$$g", "$$required"]},
                    }
                },
            },
        }
    }
    has_finding = {
        "$or": [
            {"$ne": ["$$row.missing", []]},
            {
                "$anyElementTrue": [
                    {"$map": {"input": "$$row.untranslated", "in": {"$ne": ["$$this", []]}}}
                ]
            },
        ]
    }
    rows = {
        "$filter": {
            "input": {
                "$map": {
                    "input": {
                        "$filter": {"input": categories, "as": "c", "cond": {"$in": ["$$c", slugs]}}
                    },
                    "as": "c",
                    "in": row,
                }
            },
            "as": "row",
            "cond": has_finding,
        }
    }
    localized_maps = {
        "$map": {
            "input": {"$filter": {"input": "$$a", "as": "e", "cond": localized}},
            "as": "e",
            "in": {"k": "$$e.k", "tags": filled_tags("$$e.v.value")},
        }
    }
    no_gaps: list[list[str]] = [[] for _ in chains]
    # One $project computing everything: each stage of the classic engine copies every document.
    for name, value in (
        ("gaps", {"$cond": [{"$eq": ["$$maps", []]}, no_gaps, gaps]}),
        ("maps", localized_maps),
        ("filled", codes("$$a", filled("$$e.v.value"))),
        ("a", {"$objectToArray": attributes}),
    ):
        rows = {"$let": {"vars": {name: value}, "in": rows}}
    return [
        {"$match": {"categories": {"$in": slugs}}},
        {"$project": {"_id": 0, "sku": 1, "rows": rows}},
        {"$match": {"rows.0": {"$exists": True}}},
        {"$unwind": "$rows"},
        {
            "$project": {
                "sku": 1,
                "category": "$rows.category",
                "missing": "$rows.missing",
                "untranslated": "$rows.untranslated",
            }
        },
        _total_and_examples({"sku": 1, "category": 1}, limit),
    ]


async def missing_required_attributes(
    catalog: Catalog,
    *,
    locales: Sequence[str],
    limit: int = 100,
    fallbacks: Mapping[str, Sequence[str]] | None = None,
) -> Section[MissingRequired]:
    requirements = await category_requirements(catalog)
    definitions = await _definitions(catalog)
    if not any(requirements.values()):
        return Section(0, ())
    plain = [code for code, localizable in definitions.items() if not localizable]
    pipeline = missing_required_pipeline(requirements, plain, locales, limit, fallbacks)
    total, rows = await _faceted(catalog.products, pipeline, limit)
    examples = []
    for row in rows:
        gaps: dict[str, list[str]] = {}
        for locale, codes in zip(locales, row["untranslated"], strict=True):
            for code in codes:
                gaps.setdefault(code, []).append(locale)
        examples.append(
            MissingRequired(
                sku=row["sku"],
                category=row["category"],
                missing=tuple(sorted(row["missing"])),
                untranslated=tuple(LocaleGap(c, tuple(gaps[c])) for c in sorted(gaps)),
            )
        )
    return Section(total, tuple(examples))


# ---------------------------------------------------------------------------------------------
# Media links: orphaned assets and references to missing assets
# ---------------------------------------------------------------------------------------------


def _asset_key(resource_type: Expr, public_id: Expr) -> Expr:
    # The resource type has no "/", so the first "/" splits the key unambiguously.
    return {
        "$cond": [
            {
                "$and": [
                    {"$eq": [{"$type": resource_type}, "string"]},
                    {"$eq": [{"$type": public_id}, "string"]},
                ]
            },
            {"$concat": [resource_type, "/", public_id]},
            None,
        ]
    }


def _key(resource_type: str, public_id: str) -> str:
    return f"{resource_type}/{public_id}"


def _split_key(key: str) -> tuple[str, str]:
    resource_type, _, public_id = key.partition("/")
    return resource_type, public_id


def media_links_pipeline(linked: Iterable[str], limit: int) -> Pipeline:
    """Orphaned assets (``orphans``) and references to missing assets (``missing``) from one
    $group over every asset key: ``v`` sums _REFERENCE per product media reference, _POSTER per
    live video naming it as its poster, and _EXISTS for a live mirror record."""
    live = {"$in": ["$status", list(LIVE_ASSET_STATUSES)]}
    reference_type = {"$cond": [{"$eq": ["$$m.role", "video"]}, "video", "image"]}
    linked_keys = sorted({_key(t, p) for p in linked for t in ("image", "video")})
    references = {"$mod": ["$v", _POSTER]}
    # Unlinked live record (twice if the unique index is missing) / referenced, nothing live.
    orphan = {"$and": [{"$gte": ["$v", _EXISTS]}, {"$eq": [{"$mod": ["$v", _EXISTS]}, 0]}]}
    missing = {"$and": [{"$lt": ["$v", _EXISTS]}, {"$gt": [references, 0]}]}
    return [
        {
            "$project": {
                "_id": 0,
                "k": {
                    "$map": {
                        "input": {"$ifNull": ["$media", []]},
                        "as": "m",
                        "in": _asset_key(reference_type, "$$m.publicId"),
                    }
                },
            }
        },
        {"$unwind": "$k"},
        {"$project": {"k": 1, "v": {"$literal": _REFERENCE}}},
        {
            "$unionWith": {
                "coll": "assets",
                "pipeline": [
                    {
                        "$project": {
                            "_id": 0,
                            "k": _asset_key("$resourceType", "$publicId"),
                            "v": {"$cond": [live, _EXISTS, 0]},
                        }
                    }
                ],
            }
        },
        {
            "$unionWith": {
                "coll": "assets",
                "pipeline": [
                    {
                        "$match": {
                            "poster": {"$type": "string"},
                            "status": {"$in": list(LIVE_ASSET_STATUSES)},
                        }
                    },
                    {
                        "$project": {
                            "_id": 0,
                            "k": _asset_key("image", "$poster"),
                            "v": {"$literal": _POSTER},
                        }
                    },
                ],
            }
        },
        {"$match": {"k": {"$type": "string"}}},
        {"$group": {"_id": "$k", "v": {"$sum": "$v"}}},
        {"$match": {"$expr": {"$or": [orphan, missing]}}},
        {
            "$facet": {
                "orphans": [
                    {"$match": {"$expr": orphan, "_id": {"$nin": linked_keys}}},
                    {"$sort": {"_id": 1}},
                    {
                        "$group": {
                            "_id": None,
                            "n": {"$sum": 1},
                            "first": {"$firstN": {"input": "$_id", "n": max(limit, 1)}},
                        }
                    },
                ],
                "missing": [
                    {"$match": {"$expr": missing}},
                    {"$sort": {"_id": 1}},
                    {
                        "$group": {
                            "_id": None,
                            "n": {"$sum": references},
                            "first": {"$firstN": {"input": "$_id", "n": max(limit, 1)}},
                        }
                    },
                ],
            }
        },
    ]


async def media_links(
    catalog: Catalog, *, linked: Iterable[str] = (), limit: int = 100
) -> tuple[Section[AssetRef], Section[MissingAssetReference]]:
    """Orphaned assets and references to missing assets (one aggregation serves both)."""
    (result,) = await _aggregate(catalog.products, media_links_pipeline(linked, limit))
    orphan_total, orphan_keys = _counted_keys(result["orphans"], limit)
    missing_total, missing_keys = _counted_keys(result["missing"], limit)
    records = await _assets_by_key(catalog, [*orphan_keys, *missing_keys])
    referrers = await _referrers(catalog, missing_keys)
    orphan_examples = tuple(
        AssetRef(
            public_id,
            resource_type,
            str(records.get((resource_type, public_id), {}).get("status", "active")),
            records.get((resource_type, public_id), {}).get("sku"),
        )
        for resource_type, public_id in orphan_keys
    )
    missing_examples = []
    for sku, reference in referrers:
        key = (_resource_type(reference), str(reference.get("publicId")))
        missing_examples.append(
            MissingAssetReference(
                sku=sku,
                public_id=key[1],
                role=str(reference.get("role")),
                resource_type=key[0],
                status=str(records.get(key, {}).get("status", "absent")),
            )
        )
    missing_examples.sort(key=lambda e: (e.sku, e.public_id, e.role))
    return (
        Section(orphan_total, orphan_examples),
        Section(missing_total, tuple(missing_examples[:limit])),
    )


def _counted_keys(rows: list[Document], limit: int) -> tuple[int, list[tuple[str, str]]]:
    if not rows:
        return 0, []
    return int(rows[0]["n"]), [_split_key(key) for key in rows[0]["first"][:limit]]


def _resource_type(reference: Document) -> str:
    return "video" if reference.get("role") == "video" else "image"


async def _referrers(
    catalog: Catalog, keys: Sequence[tuple[str, str]]
) -> list[tuple[str, Document]]:
    """(product SKU, media reference) pairs referencing ``keys``."""
    if not keys:
        return []
    wanted = set(keys)
    # No index on media.publicId: one scan, for at most `limit` ids and only when there are any.
    cursor = catalog.products.find(
        {"media.publicId": {"$in": sorted({p for _, p in keys})}},
        {"_id": 0, "sku": 1, "media": 1},
    )
    found = []
    async for product in cursor:
        for reference in product.get("media") or []:
            if (_resource_type(reference), reference.get("publicId")) in wanted:
                found.append((str(product["sku"]), reference))
    return found


async def _assets_by_key(
    catalog: Catalog, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Document]:
    if not keys:
        return {}
    cursor = catalog.assets.find(
        {"publicId": {"$in": sorted({p for _, p in keys})}},
        {"_id": 0, "publicId": 1, "resourceType": 1, "status": 1, "sku": 1},
    )
    wanted = set(keys)
    found: dict[tuple[str, str], Document] = {}
    async for asset in cursor:
        key = (str(asset.get("resourceType", "image")), str(asset["publicId"]))
        if key in wanted:
            found[key] = asset
    return found


async def orphaned_assets(
    catalog: Catalog, *, linked: Iterable[str] = (), limit: int = 100
) -> Section[AssetRef]:
    return (await media_links(catalog, linked=linked, limit=limit))[0]


async def missing_asset_references(
    catalog: Catalog, *, limit: int = 100
) -> Section[MissingAssetReference]:
    return (await media_links(catalog, limit=limit))[1]


# ---------------------------------------------------------------------------------------------
# References to missing products
# ---------------------------------------------------------------------------------------------

_REFERENCE_FIELDS: tuple[Literal["related", "accessories", "bundle"], ...] = (
    "related",
    "accessories",
    "bundle",
)


def missing_product_references_pipeline(limit: int) -> Pipeline:
    """SKUs referenced by related/accessories/bundle that no product or variant has."""

    def strings(expr: Expr) -> Expr:
        return {
            "$filter": {
                "input": {"$ifNull": [expr, []]},
                "cond": {"$eq": [{"$type": "$$this"}, "string"]},
            }
        }

    def entries(expr: Expr, flag: int) -> Expr:
        return {"$map": {"input": strings(expr), "in": {"k": "$$this", "v": flag}}}

    references = {"$mod": ["$v", _EXISTS]}
    return [
        {
            "$project": {
                "_id": 0,
                "e": {
                    "$concatArrays": [
                        entries(["$sku"], _EXISTS),
                        entries("$variants.sku", _EXISTS),
                        entries("$related", _REFERENCE),
                        entries("$accessories", _REFERENCE),
                        entries("$bundle.sku", _REFERENCE),
                    ]
                },
            }
        },
        {"$unwind": "$e"},
        {"$group": {"_id": "$e.k", "v": {"$sum": "$e.v"}}},
        {"$match": {"v": {"$lt": _EXISTS}}},
        {
            "$facet": {
                "total": [{"$group": {"_id": None, "n": {"$sum": references}}}],
                "examples": [{"$sort": {"_id": 1}}, {"$limit": max(limit, 1)}],
            }
        },
    ]


async def missing_product_references(
    catalog: Catalog, *, limit: int = 100
) -> Section[MissingProductReference]:
    (result,) = await _aggregate(catalog.products, missing_product_references_pipeline(limit))
    total = int(result["total"][0]["n"]) if result["total"] else 0
    if not limit or not total:
        return Section(total, ())
    missing = sorted(row["_id"] for row in result["examples"])
    cursor = catalog.products.find(
        {
            "$or": [
                {"related": {"$in": missing}},
                {"accessories": {"$in": missing}},
                {"bundle.sku": {"$in": missing}},
            ]
        },
        {"_id": 0, "sku": 1, "related": 1, "accessories": 1, "bundle": 1},
    )
    wanted = set(missing)
    examples = []
    async for product in cursor:
        for field in _REFERENCE_FIELDS:
            values = product.get(field) or []
            skus = (
                [v.get("sku") for v in values if isinstance(v, dict)]
                if field == "bundle"
                else values
            )
            examples += [
                MissingProductReference(product["sku"], field, str(sku))
                for sku in skus
                if sku in wanted
            ]
    examples.sort(key=lambda e: (e.sku, e.field, e.missing_sku))
    return Section(total, tuple(examples[:limit]))


# ---------------------------------------------------------------------------------------------
# Duplicate media
# ---------------------------------------------------------------------------------------------


def duplicate_media_pipeline(limit: int) -> Pipeline:
    return [
        {
            "$match": {
                "phash": {"$type": "string", "$ne": ""},
                "status": {"$in": list(LIVE_ASSET_STATUSES)},
            }
        },
        {"$group": {"_id": "$phash", "n": {"$sum": 1}}},
        {"$match": {"n": {"$gt": 1}}},
        _total_and_examples({"_id": 1}, limit),
    ]


async def duplicate_media(catalog: Catalog, *, limit: int = 100) -> Section[DuplicateMedia]:
    total, rows = await _faceted(catalog.assets, duplicate_media_pipeline(limit), limit)
    phashes = [row["_id"] for row in rows]
    members: dict[str, list[AssetRef]] = {p: [] for p in phashes}
    if phashes:
        cursor = catalog.assets.find(
            {"phash": {"$in": phashes}, "status": {"$in": list(LIVE_ASSET_STATUSES)}},
            {"_id": 0, "publicId": 1, "resourceType": 1, "status": 1, "sku": 1, "phash": 1},
        )
        async for asset in cursor:
            members[asset["phash"]].append(
                AssetRef(
                    asset["publicId"],
                    asset.get("resourceType", "image"),
                    asset["status"],
                    asset.get("sku"),
                )
            )
    examples = tuple(
        DuplicateMedia(p, tuple(sorted(members[p], key=lambda a: (a.public_id, a.resource_type))))
        for p in phashes
    )
    return Section(total, examples)


# ---------------------------------------------------------------------------------------------
# The whole audit
# ---------------------------------------------------------------------------------------------


async def _timed(name: str, work: Awaitable[T], seconds: dict[str, float]) -> T:
    started = time.perf_counter()
    try:
        return await work
    finally:
        seconds[name] = time.perf_counter() - started


async def run_audit(
    catalog: Catalog,
    *,
    locales: Sequence[str],
    limit: int = 100,
    fallbacks: Mapping[str, Sequence[str]] | None = None,
    linked: Iterable[str] = (),
) -> AuditReport:
    """Every section, concurrently. ``fallbacks``: locales whose values fill a locale without
    its own (no default-locale catch-all); ``linked``: public ids used outside product media
    (channel placeholders), never orphans."""
    if not 0 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 0 and {MAX_LIMIT}, got {limit}")
    locales = tuple(locales)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    report = await _sections(catalog, locales, limit, fallbacks, linked, seconds)
    seconds["total"] = time.perf_counter() - started
    # One aggregation answers both media sections.
    seconds["orphaned_assets"] = seconds["missing_asset_references"] = seconds.pop("media_links")
    return replace(report, seconds={name: round(seconds[name], 3) for name in (*SECTIONS, "total")})


def _retrieve(task: asyncio.Task[Any]) -> None:
    # Nobody awaits a section left running by a cancelled audit: mark its outcome as seen.
    if not task.cancelled():
        task.exception()


async def _sections(
    catalog: Catalog,
    locales: tuple[str, ...],
    limit: int,
    fallbacks: Mapping[str, Sequence[str]] | None,
    linked: Iterable[str],
    seconds: dict[str, float],
) -> AuditReport:
    skus = asyncio.create_task(
        _timed("duplicate_skus", duplicate_skus(catalog, limit=limit), seconds)
    )
    names = asyncio.create_task(
        _timed("duplicate_names", duplicate_names(catalog, locales=locales, limit=limit), seconds)
    )
    rates = asyncio.create_task(
        _timed("fill_rates", fill_rates(catalog, locales=locales, fallbacks=fallbacks), seconds)
    )
    required = asyncio.create_task(
        _timed(
            "missing_required_attributes",
            missing_required_attributes(catalog, locales=locales, limit=limit, fallbacks=fallbacks),
            seconds,
        )
    )
    links = asyncio.create_task(
        _timed("media_links", media_links(catalog, linked=linked, limit=limit), seconds)
    )
    products = asyncio.create_task(
        _timed(
            "missing_product_references", missing_product_references(catalog, limit=limit), seconds
        )
    )
    media = asyncio.create_task(
        _timed("duplicate_media", duplicate_media(catalog, limit=limit), seconds)
    )
    tasks = [skus, names, rates, required, links, products, media]
    # Every section runs to its end, failed or not: cancelling a pymongo (4.20) operation that
    # waits in server selection breaks the client's topology lock ("Lock is not acquired"), and
    # closing the client then hangs. Unreachable, every section fails within the timeout anyway.
    try:
        await asyncio.wait(tasks)
    except asyncio.CancelledError:
        for task in tasks:
            task.add_done_callback(_retrieve)
        raise
    # Every outcome is read, so no failed section is reported again as never retrieved.
    errors = [error for task in tasks if (error := task.exception()) is not None]
    if errors:
        raise errors[0]
    orphans, missing_assets = links.result()
    return AuditReport(
        locales=locales,
        limit=limit,
        duplicate_skus=skus.result(),
        duplicate_names=names.result(),
        fill_rates=rates.result(),
        missing_required_attributes=required.result(),
        orphaned_assets=orphans,
        missing_asset_references=missing_assets,
        missing_product_references=products.result(),
        duplicate_media=media.result(),
        seconds={},
    )
