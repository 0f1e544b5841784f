"""Attribute values: type inference for undefined codes, display formatting, variant overrides."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from resolvers.locales import LocaleResolver


def infer_type(value: Any) -> str:
    """The attribute type a stored value looks like, for codes without a definition."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        sample = next(iter(value.values()), None)
        return "list" if isinstance(sample, list) else "text"
    return "text"


def _language(tag: str) -> str:
    return tag.split("-")[0].lower()


# Decimal sign and thousands separator (CLDR, Latin digits), by language, then by exact tag
# where a region differs from its language. Languages not listed write numbers as English does.
_NUMBER_SIGNS: dict[str, tuple[str, str]] = {
    "en": (".", ","),
    "de": (",", "."),
    "fr": (",", "\u202f"),
    "it": (",", "."),
    "es": (",", "."),
    "pt": (",", "."),
    "nl": (",", "."),
    "da": (",", "."),
    "tr": (",", "."),
    "pl": (",", "\u00a0"),
    "sv": (",", "\u00a0"),
    "nb": (",", "\u00a0"),
    "fi": (",", "\u00a0"),
    "cs": (",", "\u00a0"),
    "sk": (",", "\u00a0"),
    "ru": (",", "\u00a0"),
    "uk": (",", "\u00a0"),
}
_REGIONAL_NUMBER_SIGNS: dict[str, tuple[str, str]] = {
    "de-CH": (".", "\u2019"),
    "de-LI": (".", "\u2019"),
    "it-CH": (".", "\u2019"),
    "fr-CA": (",", "\u00a0"),
    "fr-CH": (",", "\u202f"),
    "pt-PT": (",", "\u00a0"),
}


def format_number(value: float, locale: str) -> str:
    """``value`` as stored (no rounding), written with the locale's decimal sign and thousands
    separator: ``0.29`` is ``0,29`` in German, French and Italian."""
    decimal, group = _REGIONAL_NUMBER_SIGNS.get(locale) or _NUMBER_SIGNS.get(
        _language(locale), _NUMBER_SIGNS["en"]
    )
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, float):
        text = repr(value)  # the shortest text that reads back as the stored value
        if "e" in text:
            text = f"{value:.20f}".rstrip("0")
    else:
        text = str(value)
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        whole, tail = whole[:-3], whole[-3:]
        groups.insert(0, tail)
    grouped = group.join([whole, *groups])
    return f"{sign}{grouped}{decimal}{fraction}" if fraction else f"{sign}{grouped}"


_YES_NO: dict[str, tuple[str, str]] = {
    "en": ("yes", "no"),
    "de": ("ja", "nein"),
    "fr": ("oui", "non"),
    "it": ("sì", "no"),
    "es": ("sí", "no"),
    "pt": ("sim", "não"),
    "nl": ("ja", "nee"),
    "da": ("ja", "nej"),
    "sv": ("ja", "nej"),
    "nb": ("ja", "nei"),
    "fi": ("kyllä", "ei"),
    "pl": ("tak", "nie"),
    "cs": ("ano", "ne"),
}

# Units that are words, by language: (singular, plural).
_UNIT_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "years": {
        "en": ("year", "years"),
        "de": ("Jahr", "Jahre"),
        "fr": ("an", "ans"),
        "it": ("anno", "anni"),
        "es": ("año", "años"),
        "pt": ("ano", "anos"),
        "nl": ("jaar", "jaar"),
    },
}

# Display labels of option values of enum and list attributes, for definitions that carry no
# ``optionLabels`` of their own: the vocabulary of the demo catalog and common option values.
# A value that is not here (nor in its definition) shows as stored, e.g. sizes like "XL".
OPTION_LABELS: dict[str, dict[str, str]] = {
    # Colours
    "black": {"en": "Black", "de": "Schwarz", "fr": "noir", "it": "nero"},
    "white": {"en": "White", "de": "Weiß", "fr": "blanc", "it": "bianco"},
    "grey": {"en": "Grey", "de": "Grau", "fr": "gris", "it": "grigio"},
    "navy": {"en": "Navy", "de": "Marineblau", "fr": "bleu marine", "it": "blu navy"},
    "blue": {"en": "Blue", "de": "Blau", "fr": "bleu", "it": "blu"},
    "red": {"en": "Red", "de": "Rot", "fr": "rouge", "it": "rosso"},
    "green": {"en": "Green", "de": "Grün", "fr": "vert", "it": "verde"},
    "olive": {"en": "Olive", "de": "Oliv", "fr": "olive", "it": "oliva"},
    "yellow": {"en": "Yellow", "de": "Gelb", "fr": "jaune", "it": "giallo"},
    "orange": {"en": "Orange", "de": "Orange", "fr": "orange", "it": "arancione"},
    "pink": {"en": "Pink", "de": "Rosa", "fr": "rose", "it": "rosa"},
    "beige": {"en": "Beige", "de": "Beige", "fr": "beige", "it": "beige"},
    # Seasons
    "spring-summer": {
        "en": "Spring/summer",
        "de": "Frühjahr/Sommer",
        "fr": "printemps-été",
        "it": "primavera-estate",
    },
    "autumn-winter": {
        "en": "Autumn/winter",
        "de": "Herbst/Winter",
        "fr": "automne-hiver",
        "it": "autunno-inverno",
    },
    "all-season": {
        "en": "All season",
        "de": "Ganzjährig",
        "fr": "toutes saisons",
        "it": "per tutte le stagioni",
    },
    # Countries (ISO 3166 codes)
    "DE": {"en": "Germany", "de": "Deutschland", "fr": "Allemagne", "it": "Germania"},
    "IT": {"en": "Italy", "de": "Italien", "fr": "Italie", "it": "Italia"},
    "PT": {"en": "Portugal", "de": "Portugal", "fr": "Portugal", "it": "Portogallo"},
    "FR": {"en": "France", "de": "Frankreich", "fr": "France", "it": "Francia"},
    "PL": {"en": "Poland", "de": "Polen", "fr": "Pologne", "it": "Polonia"},
    "RO": {"en": "Romania", "de": "Rumänien", "fr": "Roumanie", "it": "Romania"},
    "VN": {"en": "Vietnam", "de": "Vietnam", "fr": "Viêt Nam", "it": "Vietnam"},
    "CN": {"en": "China", "de": "China", "fr": "Chine", "it": "Cina"},
    "TW": {"en": "Taiwan", "de": "Taiwan", "fr": "Taïwan", "it": "Taiwan"},
    "US": {"en": "United States", "de": "USA", "fr": "États-Unis", "it": "Stati Uniti"},
    # Connectivity
    "bluetooth": {"en": "Bluetooth", "de": "Bluetooth", "fr": "Bluetooth", "it": "Bluetooth"},
    "usb-c": {"en": "USB-C", "de": "USB-C", "fr": "USB-C", "it": "USB-C"},
    "wifi": {"en": "Wi-Fi", "de": "WLAN", "fr": "Wi-Fi", "it": "Wi-Fi"},
    "nfc": {"en": "NFC", "de": "NFC", "fr": "NFC", "it": "NFC"},
    "aux": {"en": "AUX", "de": "AUX", "fr": "AUX", "it": "AUX"},
}


@dataclass(frozen=True, slots=True)
class OptionLabels:
    """How the options of one enum or list attribute read in one locale: the definition's
    ``optionLabels`` (option → {locale: label}) along the locale's fallback chain, else
    ``OPTION_LABELS`` in the languages of that chain, else the value as stored."""

    chain: tuple[str, ...]
    defined: Mapping[str, Any]

    @classmethod
    def for_locale(
        cls, locales: LocaleResolver, locale: str, defined: Mapping[str, Any] | None = None
    ) -> OptionLabels:
        return cls(locales.chain(locale), defined if isinstance(defined, Mapping) else {})

    def label(self, value: str) -> str:
        own = self.defined.get(value)
        if isinstance(own, Mapping):
            for tag in self.chain:
                text = own.get(tag)
                if isinstance(text, str) and text.strip():
                    return text
        table = OPTION_LABELS.get(value)
        if table is not None:
            for language in dict.fromkeys(_language(tag) for tag in self.chain):
                if language in table:
                    return table[language]
        return value


def _unit_text(unit: str, value: Any, locale: str) -> str:
    words = _UNIT_WORDS.get(unit, {}).get(_language(locale))
    if words is None:
        return unit
    # French counts 0 and 1.5 as singular; the others only exactly 1.
    if _language(locale) == "fr":
        singular = isinstance(value, int | float) and 0 <= value < 2
    else:
        singular = value == 1
    return words[0] if singular else words[1]


def display_value(
    value: Any, unit: str | None, locale: str = "en-US", options: OptionLabels | None = None
) -> str | None:
    """``value`` written for people reading ``locale``: numbers with its decimal sign,
    booleans in its language, options (given ``options``: an enum or list attribute) by
    their labels, then the unit."""
    if value is None:
        return None
    if isinstance(value, bool):
        yes, no = _YES_NO.get(_language(locale), _YES_NO["en"])
        text = yes if value else no
    elif isinstance(value, int | float):
        text = format_number(value, locale)
    elif isinstance(value, list):
        items = [options.label(v) if options and isinstance(v, str) else str(v) for v in value]
        text = ", ".join(items)
    elif isinstance(value, str) and options is not None:
        text = options.label(value)
    else:
        text = str(value)
    return f"{text} {_unit_text(unit, value, locale)}" if unit else text


def effective_attributes(
    product: dict[str, Any], overrides: dict[str, Any] | None
) -> dict[str, Any]:
    """A variant's attributes: the product's, with the variant's own values on top."""
    merged = dict(product)
    merged.update(overrides or {})
    return merged
