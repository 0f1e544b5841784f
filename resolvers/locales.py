"""Locale validation and fallback chains (e.g. ``de-AT → de-DE → en-US``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# BCP 47 language tags as used for catalog content: language, optional script and region.
_TAG = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z]{4})?(-([a-zA-Z]{2}|[0-9]{3}))?$")


# Languages MongoDB's collation supports that catalogs commonly use.
COLLATION_LANGUAGES = frozenset(
    [
        "ar",
        "bg",
        "ca",
        "cs",
        "da",
        "de",
        "el",
        "en",
        "es",
        "et",
        "fi",
        "fr",
        "he",
        "hr",
        "hu",
        "is",
        "it",
        "ja",
        "ko",
        "lt",
        "lv",
        "nb",
        "nl",
        "pl",
        "pt",
        "ro",
        "ru",
        "sk",
        "sl",
        "sr",
        "sv",
        "th",
        "tr",
        "uk",
        "vi",
        "zh",
    ]
)


def name_collation(tag: str) -> dict[str, str]:
    """The MongoDB collation text in ``tag`` sorts with (ICU knows languages, not regions)."""
    language = tag.split("-")[0].lower()
    return {"locale": language if language in COLLATION_LANGUAGES else "simple"}


class LocaleError(ValueError):
    """A locale tag is malformed or not configured."""


def canonical_tag(tag: str) -> str:
    """Canonical case for a BCP 47 tag: ``de-at`` → ``de-AT``, ``zh-hant-tw`` → ``zh-Hant-TW``."""
    if not _TAG.match(tag):
        raise LocaleError(f"{tag!r} is not a BCP 47 language tag such as 'en-US'")
    parts = tag.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        out.append(part.title() if len(part) == 4 else part.upper())
    return "-".join(out)


@dataclass(frozen=True, slots=True)
class Localized:
    """A value picked from a localized map, with the locale it really came from."""

    value: Any
    requested: str
    locale: str | None

    @property
    def is_fallback(self) -> bool:
        return self.locale is not None and self.locale != self.requested


class LocaleResolver:
    """Knows the supported locales and walks fallback chains."""

    def __init__(
        self,
        locales: Iterable[str],
        default_locale: str,
        fallbacks: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.locales: tuple[str, ...] = tuple(canonical_tag(t) for t in locales)
        if not self.locales:
            raise LocaleError("at least one locale must be configured")
        self.default = canonical_tag(default_locale)
        if self.default not in self.locales:
            raise LocaleError(
                f"default locale {self.default} is not among the locales {', '.join(self.locales)}"
            )
        chains: dict[str, tuple[str, ...]] = {}
        for source, targets in (fallbacks or {}).items():
            src = canonical_tag(source)
            chain = [canonical_tag(t) for t in targets]
            for tag in (src, *chain):
                if tag not in self.locales:
                    raise LocaleError(
                        f"fallback chain for {src} names {tag}, which is not among the locales"
                    )
            chains[src] = tuple(chain)
        self._chains: dict[str, tuple[str, ...]] = {}
        for tag in self.locales:
            chain = [tag, *chains.get(tag, ())]
            if self.default not in chain:
                chain.append(self.default)
            self._chains[tag] = tuple(dict.fromkeys(chain))
        # What counts as a locale's own text: its chain without the default that ends it.
        self._own_chains = {
            tag: chain if tag == self.default else tuple(t for t in chain if t != self.default)
            for tag, chain in self._chains.items()
        }
        self._own_sets = {tag: frozenset(chain) for tag, chain in self._own_chains.items()}
        self._lookup = {t.lower(): t for t in self.locales}

    def resolve(self, tag: str | None) -> str:
        """The supported locale for ``tag`` (default when None), or raise LocaleError."""
        if tag is None:
            return self.default
        found = self._lookup.get(tag.lower())
        if found is None:
            canonical_tag(tag)  # a malformed tag gets the more precise message
            raise LocaleError(
                f"unsupported locale {tag!r}; supported locales: {', '.join(self.locales)}"
            )
        return found

    def has_own_value(self, values: Mapping[str, Any] | None, tag: str) -> bool:
        """``tag`` has text of its own or from its configured fallbacks, not just from the
        default locale that ends every chain (a German page with English alt text is missing
        its German alt text)."""
        if not values:
            return False
        # A loop, not any() over a generator: readiness asks this for every text and alt text.
        for candidate in self._own_chains[tag]:  # noqa: SIM110
            if not _is_blank(values.get(candidate)):
                return True
        return False

    def own_value(self, values: Mapping[str, Any] | None, tag: str) -> Any:
        """``pick(values, tag).value`` when ``has_own_value(values, tag)``, else None: what
        ``tag`` shows when it has text of its own, in one walk along the chain."""
        if not values:
            return None
        own = self._own_sets[tag]
        shown = None
        for candidate in self._chains[tag]:
            value = values.get(candidate)
            if _is_blank(value):
                continue
            if shown is None:
                shown = value
            # Every own locale is on the chain: the walk meets the first one with text.
            if candidate in own:
                return shown
        return None

    def chain(self, tag: str) -> tuple[str, ...]:
        """The locales tried, in order, for a supported ``tag``."""
        return self._chains[tag]

    def pick(self, values: Mapping[str, Any] | None, tag: str) -> Localized:
        """The first non-blank value along ``tag``'s fallback chain."""
        if values:
            for candidate in self._chains[tag]:
                value = values.get(candidate)
                if not _is_blank(value):
                    return Localized(value, tag, candidate)
        return Localized(None, tag, None)


# What str.strip() removes (every character for which str.isspace() holds): ``$trim`` must drop
# the same characters for the database to call blank what ``LocaleResolver.pick`` calls blank.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def pick_expression(field: str, chain: Sequence[str]) -> dict[str, Any]:
    """A MongoDB aggregation expression for what ``LocaleResolver.pick`` takes from the localized
    map ``field`` along ``chain``: its first non-blank text, else null (so a sort on it orders by
    what the localized field shows). Values that are not strings are skipped: no well-formed
    document has them."""
    branches = []
    for tag in chain:
        path = f"${field}.{tag}"
        text = {"$cond": [{"$eq": [{"$type": path}, "string"]}, path, ""]}
        # Compared by length, not with "": under a collation, ignorable characters equal "".
        length = {"$strLenCP": {"$trim": {"input": text, "chars": WHITESPACE}}}
        branches.append({"case": {"$gt": [length, 0]}, "then": path})
    return {"$switch": {"branches": branches, "default": None}}


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if value.__class__ is str:  # the common case first, without isinstance's subclass walk
        return not value.strip()
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return not value
    return False
