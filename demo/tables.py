"""The demo catalog's tables, read once from the TOML files in ``demo/data/``.

The files hold what a person would edit (words, translations, brands, the category tree); this
module checks their shape and turns them into the tuples and records the generator uses.
Translations become tuples in ``CONTENT_LOCALES`` order.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, cast, get_args

from resolvers.documents import AttributeType

CONTENT_LOCALES: tuple[str, ...] = ("en-US", "de-DE", "fr-FR", "it-IT")

T4 = tuple[str, str, str, str]


class DemoDataError(ValueError):
    """A file in ``demo/data/`` is not shaped the way the generator needs."""


def read(name: str) -> dict[str, Any]:
    """One TOML file of ``demo/data/``."""
    return tomllib.loads((files("demo") / "data" / name).read_text(encoding="utf-8"))


def translations(table: Mapping[str, str], where: str) -> T4:
    """A ``{locale: text}`` table as a tuple in ``CONTENT_LOCALES`` order."""
    if not isinstance(table, Mapping) or set(table) != set(CONTENT_LOCALES):
        raise DemoDataError(f"{where}: needs exactly the locales {', '.join(CONTENT_LOCALES)}")
    en, de, fr, it = (str(table[tag]) for tag in CONTENT_LOCALES)
    return (en, de, fr, it)


def _strings(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(str(value) for value in values)


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    code: str
    type: AttributeType
    label: T4
    localizable: bool = False
    unit: str | None = None
    options: tuple[str, ...] | None = None
    # Default value range of number attributes, and how many decimals (0 = int).
    low: float = 0.0
    high: float = 0.0
    decimals: int = 0


@dataclass(frozen=True, slots=True)
class Brand:
    name: str
    prefix: str
    roots: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Leaf:
    slug: str
    code: str  # the category part of the SKU
    name: T4
    nouns: tuple[T4, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    sizes: tuple[str, ...] = ()  # non-empty: products vary by colour and these sizes
    ranges: tuple[tuple[str, float, float], ...] = ()  # (code, low, high) number overrides
    accessories: tuple[str, ...] = ()  # leaf slugs whose products are offered as accessories


@dataclass(frozen=True, slots=True)
class Mid:
    slug: str
    name: T4
    required: tuple[str, ...]
    materials: tuple[str, ...]
    features: tuple[str, ...]
    pitch: T4
    leaves: tuple[Leaf, ...]
    cross_list: bool = False  # products may also be listed in a sibling leaf


@dataclass(frozen=True, slots=True)
class Root:
    slug: str
    name: T4
    weight: float  # share of products
    mids: tuple[Mid, ...]


_vocabulary = read("vocabulary.toml")
_texts = read("texts.toml")
_LISTS: dict[str, tuple[str, ...]] = {k: _strings(v) for k, v in _vocabulary["lists"].items()}

COLORS: tuple[str, ...] = _LISTS["colors"]
SERIES: tuple[str, ...] = _strings(_vocabulary["series"])
TIERS: tuple[str, ...] = _strings(_vocabulary["tiers"])
BUNDLE_WORDS: T4 = translations(_vocabulary["bundle_words"], "bundle_words")
LONG_NAME_TAIL: tuple[str, ...] = _strings(_vocabulary["long_name_tail"])
# Regional locale -> (the content locale it varies, the suffix of its name overrides).
REGIONAL: dict[str, tuple[str, str]] = {
    tag: (str(entry["base"]), str(entry["suffix"]))
    for tag, entry in _vocabulary["regional"].items()
}

MATERIALS: dict[str, T4] = {
    key: translations(text, f"materials.{key}") for key, text in _texts["materials"].items()
}
FEATURES: dict[str, T4] = {
    key: translations(text, f"features.{key}") for key, text in _texts["features"].items()
}
CARE_INSTRUCTIONS: tuple[T4, ...] = tuple(
    translations(text, "care_instructions") for text in _texts["care_instructions"]
)
CLOSERS: tuple[T4, ...] = tuple(translations(text, "closers") for text in _texts["closers"])


def _list(name: str, where: str) -> tuple[str, ...]:
    if name not in _LISTS:
        raise DemoDataError(f"{where}: no list {name!r} in vocabulary.toml [lists]")
    return _LISTS[name]


def _attribute(entry: dict[str, Any]) -> AttributeSpec:
    code = str(entry["code"])
    kind = entry["type"]
    if kind not in get_args(AttributeType):
        raise DemoDataError(f"attribute {code}: unknown type {kind!r}")
    options = entry.get("options")
    return AttributeSpec(
        code=code,
        type=cast(AttributeType, kind),
        label=translations(entry["label"], f"attribute {code}"),
        localizable=bool(entry.get("localizable", False)),
        unit=entry.get("unit"),
        options=None
        if options is None
        else tuple(o for name in options for o in _list(name, f"attribute {code}")),
        low=entry.get("low", 0.0),
        high=entry.get("high", 0.0),
        decimals=int(entry.get("decimals", 0)),
    )


def _leaf(entry: dict[str, Any]) -> Leaf:
    slug = str(entry["slug"])
    sizes = entry.get("sizes", ())
    return Leaf(
        slug=slug,
        code=str(entry["code"]),
        name=translations(entry["name"], f"leaf {slug}"),
        nouns=tuple(translations(noun, f"leaf {slug} nouns") for noun in entry["nouns"]),
        required=_strings(entry["required"]),
        optional=_strings(entry["optional"]),
        sizes=_list(sizes, f"leaf {slug}") if isinstance(sizes, str) else _strings(sizes),
        ranges=tuple((code, low, high) for code, (low, high) in entry.get("ranges", {}).items()),
        accessories=_strings(entry.get("accessories", ())),
    )


def _mid(entry: dict[str, Any]) -> Mid:
    slug = str(entry["slug"])
    return Mid(
        slug=slug,
        name=translations(entry["name"], f"category {slug}"),
        required=_strings(entry["required"]),
        materials=_strings(entry["materials"]),
        features=_strings(entry["features"]),
        pitch=translations(entry["pitch"], f"category {slug} pitch"),
        leaves=tuple(_leaf(leaf) for leaf in entry["leaf"]),
        cross_list=bool(entry.get("cross_list", False)),
    )


ATTRIBUTE_SPECS: tuple[AttributeSpec, ...] = tuple(
    _attribute(entry) for entry in read("attributes.toml")["attribute"]
)
BRANDS: tuple[Brand, ...] = tuple(
    Brand(str(b["name"]), str(b["prefix"]), _strings(b["roots"]))
    for b in read("brands.toml")["brand"]
)
TREE: tuple[Root, ...] = tuple(
    Root(
        slug=str(root["slug"]),
        name=translations(root["name"], f"category {root['slug']}"),
        weight=root["weight"],
        mids=tuple(_mid(mid) for mid in root["mid"]),
    )
    for root in read("categories.toml")["root"]
)


def _check() -> None:
    """Names that refer to other entries must find them."""
    codes = {spec.code for spec in ATTRIBUTE_SPECS}
    leaves = {leaf.slug for root in TREE for mid in root.mids for leaf in mid.leaves}
    roots = {root.slug for root in TREE}
    problems = [f"brand {b.name}: no root {r!r}" for b in BRANDS for r in b.roots if r not in roots]
    for root in TREE:
        for mid in root.mids:
            problems += [f"{mid.slug}: no attribute {c!r}" for c in mid.required if c not in codes]
            problems += [
                f"{mid.slug}: no material {k!r}" for k in mid.materials if k not in MATERIALS
            ]
            problems += [f"{mid.slug}: no feature {k!r}" for k in mid.features if k not in FEATURES]
            for leaf in mid.leaves:
                used = (*leaf.required, *leaf.optional, *(code for code, _, _ in leaf.ranges))
                problems += [f"{leaf.slug}: no attribute {c!r}" for c in used if c not in codes]
                problems += [
                    f"{leaf.slug}: no leaf {s!r}" for s in leaf.accessories if s not in leaves
                ]
    if problems:
        raise DemoDataError("demo/data: " + "; ".join(problems))


_check()
