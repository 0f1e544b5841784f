import itertools
from typing import Any

import pytest

from resolvers.locales import LocaleError, LocaleResolver, canonical_tag


def resolver() -> LocaleResolver:
    return LocaleResolver(["en-US", "de-DE", "de-AT", "fr-FR"], "en-US", {"de-AT": ["de-DE"]})


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("de-at", "de-AT"), ("EN-us", "en-US"), ("zh-hant-tw", "zh-Hant-TW"), ("es-419", "es-419")],
)
def test_canonical_tag(tag: str, expected: str) -> None:
    assert canonical_tag(tag) == expected


@pytest.mark.parametrize("tag", ["", "english", "en_US", "e", "en-US-x-private-too-long-"])
def test_malformed_tags_are_rejected(tag: str) -> None:
    with pytest.raises(LocaleError, match="BCP 47"):
        canonical_tag(tag)


def test_chain_ends_in_default_locale() -> None:
    assert resolver().chain("de-AT") == ("de-AT", "de-DE", "en-US")
    assert resolver().chain("fr-FR") == ("fr-FR", "en-US")
    assert resolver().chain("en-US") == ("en-US",)


def test_pick_walks_the_chain_and_reports_the_locale_used() -> None:
    locales = resolver()
    picked = locales.pick({"en-US": "Shoe", "de-DE": "Schuh"}, "de-AT")
    assert (picked.value, picked.locale, picked.is_fallback) == ("Schuh", "de-DE", True)
    exact = locales.pick({"de-AT": "Schuach", "de-DE": "Schuh"}, "de-AT")
    assert (exact.value, exact.is_fallback) == ("Schuach", False)


def test_blank_values_count_as_missing() -> None:
    picked = resolver().pick({"de-DE": "  ", "en-US": "Shoe"}, "de-DE")
    assert (picked.value, picked.locale) == ("Shoe", "en-US")
    assert resolver().pick({}, "de-DE").value is None


def test_resolve_is_case_insensitive_and_lists_supported_locales() -> None:
    assert resolver().resolve("DE-at") == "de-AT"
    assert resolver().resolve(None) == "en-US"
    with pytest.raises(LocaleError, match="supported locales: en-US, de-DE, de-AT, fr-FR"):
        resolver().resolve("it-IT")


def test_fallback_to_unconfigured_locale_is_a_configuration_error() -> None:
    with pytest.raises(LocaleError, match="de-CH"):
        LocaleResolver(["en-US", "de-DE"], "en-US", {"de-DE": ["de-CH"]})
    with pytest.raises(LocaleError, match="default locale"):
        LocaleResolver(["de-DE"], "en-US")


def test_the_database_trims_what_pick_calls_blank() -> None:
    """pick_expression's $trim drops exactly the characters str.strip() drops."""
    from resolvers.locales import WHITESPACE

    assert set(WHITESPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


class Text(str):
    """A str subclass: blank by the same rule as a str."""


def test_own_value_comes_from_the_locale_or_its_fallbacks_not_the_default() -> None:
    locales = resolver()
    assert locales.has_own_value({"de-DE": "Schuh"}, "de-AT")
    assert not locales.has_own_value({"en-US": "Shoe", "de-AT": " \u3000"}, "de-AT")
    assert locales.has_own_value({"en-US": "Shoe"}, "en-US")
    assert not locales.has_own_value({"de-AT": Text("  ")}, "de-AT")
    assert locales.has_own_value({"de-AT": Text("Schuach")}, "de-AT")
    assert not locales.has_own_value({"de-AT": []}, "de-AT")
    assert locales.has_own_value({"de-AT": ["Schuach"]}, "de-AT")
    assert locales.has_own_value({"de-AT": 0}, "de-AT")
    assert not locales.has_own_value(None, "de-AT")
    assert not locales.has_own_value({}, "de-AT")


def test_own_value_is_what_pick_shows_when_the_locale_has_its_own() -> None:
    # The default listed mid-chain: de-AT's English text comes before its German one.
    chained = LocaleResolver(["en-US", "de-DE", "de-AT"], "en-US", {"de-AT": ["en-US", "de-DE"]})
    texts: tuple[Any, ...] = ("Shoe", " ", None, ["Schuh"], [], 0)
    for locales in (resolver(), chained):
        for en, de, at in itertools.product(texts, repeat=3):
            values = {"en-US": en, "de-DE": de, "de-AT": at}
            for tag in locales.locales:
                expected = (
                    locales.pick(values, tag).value if locales.has_own_value(values, tag) else None
                )
                assert locales.own_value(values, tag) == expected, (values, tag)
    assert chained.own_value({"en-US": "Shoe", "de-DE": "Schuh"}, "de-AT") == "Shoe"
    assert chained.own_value({"en-US": "Shoe"}, "de-AT") is None
    assert resolver().own_value(None, "de-AT") is None
