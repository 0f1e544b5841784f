"""Display values: numbers, booleans, options and units in the locale's language."""

from typing import Any

import pytest

from resolvers.attributes import OptionLabels, display_value, format_number
from resolvers.locales import LocaleResolver

LOCALES = LocaleResolver(
    ["en-US", "de-DE", "de-AT", "de-CH", "fr-FR", "fr-CA", "it-IT", "pt-BR"],
    "en-US",
    {"de-AT": ["de-DE"], "de-CH": ["de-DE"], "fr-CA": ["fr-FR"]},
)


@pytest.mark.parametrize(
    ("value", "locale", "expected"),
    [
        (0.29, "en-US", "0.29"),
        (0.29, "de-AT", "0,29"),
        (0.29, "fr-CA", "0,29"),
        (0.29, "it-IT", "0,29"),
        (2.0, "de-DE", "2"),
        (-1.5, "fr-FR", "-1,5"),
        (2400, "en-US", "2,400"),
        (2400, "de-DE", "2.400"),
        (1234567.25, "fr-FR", "1\u202f234\u202f567,25"),
        (1234.5, "fr-CA", "1\u00a0234,5"),
        (1234.5, "de-CH", "1\u2019234.5"),
        (999, "de-DE", "999"),
        (1e-7, "de-DE", "0,0000001"),
        (0.1, "pt-BR", "0,1"),
    ],
)
def test_numbers_use_the_locale_s_signs(value: float, locale: str, expected: str) -> None:
    assert format_number(value, locale) == expected


def options(locale: str, defined: dict[str, dict[str, str]] | None = None) -> OptionLabels:
    return OptionLabels.for_locale(LOCALES, locale, defined)


@pytest.mark.parametrize(
    ("value", "unit", "locale", "labels", "expected"),
    [
        (0.29, "kg", "de-AT", False, "0,29 kg"),
        (True, None, "de-AT", False, "ja"),
        (False, None, "fr-CA", False, "non"),
        (False, None, "it-IT", False, "no"),
        (True, None, "pt-BR", False, "sim"),
        ("all-season", None, "de-AT", True, "Ganzjährig"),
        ("all-season", None, "fr-FR", True, "toutes saisons"),
        ("all-season", None, "en-US", True, "All season"),
        # An option without a label anywhere shows as stored.
        ("XL", None, "de-DE", True, "XL"),
        (["bluetooth", "wifi"], None, "de-DE", True, "Bluetooth, WLAN"),
        # Not an option attribute: text stays as it is.
        ("red", None, "de-DE", False, "red"),
        (3, "years", "de-DE", False, "3 Jahre"),
        (1, "years", "en-US", False, "1 year"),
        (1.5, "years", "fr-FR", False, "1,5 an"),
        (None, "kg", "de-DE", False, None),
    ],
)
def test_display_values(
    value: Any, unit: str | None, locale: str, labels: bool, expected: str | None
) -> None:
    assert display_value(value, unit, locale, options(locale) if labels else None) == expected


def test_labels_of_the_definition_win_along_the_fallback_chain() -> None:
    defined = {"red": {"de-DE": "Feuerrot", "en-US": "Fire red"}, "navy": {"fr-FR": "marine"}}
    assert display_value("red", None, "de-AT", options("de-AT", defined)) == "Feuerrot"
    assert display_value("red", None, "it-IT", options("it-IT", defined)) == "Fire red"
    # The definition has no label for navy in the chain: the built-in table has one.
    assert display_value("navy", None, "de-DE", options("de-DE", defined)) == "Marineblau"
