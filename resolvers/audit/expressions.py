"""Aggregation expressions behind the audit's definitions of equal SKUs, equal names and blanks.

* **SKU normal form**: upper case without whitespace, ``-`` and ``_`` (``ab_12`` = ``AB-12`` =
  ``AB 12`` = ``AB12``). Product and variant SKUs share one namespace.
* **Name normal form**: case-folded (ASCII and Latin letters: ``$toLower`` is ASCII-only, so
  the capitals of U+00C0 to U+024F are folded explicitly), runs of whitespace, ``-`` and ``_`` made
  one space, trimmed: :func:`resolvers.normal_forms.normalize_name` in MongoDB.
* **Blank**: missing, null, a string of whitespace, an empty list or a list of blanks, an empty
  object. ``0`` and ``false`` are values.
* **Locale filled**: a localized map has a non-blank value for the locale itself or one of its
  ``fallbacks`` (``de-AT`` → ``de-DE``); the default locale that ends every chain does not count,
  since an English text does not make a German page complete. A plain value on a localizable
  attribute is shown in every locale, so it fills them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from resolvers.audit.pipeline import Expr

SKU_SEPARATORS: tuple[str, ...] = (" ", "\t", "\n", "\r", "\u00a0", "-", "_")
# Joined into one space by the name normal form (Python's \s also has rarer spaces).
NAME_SEPARATORS: tuple[str, ...] = ("\t", "\n", "\r", "\u00a0", "-", "_")


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


def locale_chains(
    locales: Sequence[str], fallbacks: Mapping[str, Sequence[str]] | None
) -> list[list[str]]:
    """Each locale followed by its fallbacks, without repeats: the locales that fill it."""
    chains = []
    for tag in locales:
        chain = [tag, *((fallbacks or {}).get(tag) or ())]
        chains.append(list(dict.fromkeys(chain)))
    return chains
