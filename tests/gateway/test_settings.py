from pathlib import Path

import pytest

from gateway.settings import Settings, SettingsError, env_name, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ["MONGODB_URI", *(env_name(f) for f in Settings.model_fields)]:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.mongodb_uri is None
    assert settings.db == "catalog"
    assert settings.data_dir == Path(".catalog-data")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.fallback_chains["de-AT"] == ["de-DE"]


def test_reads_conventional_and_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.internal:27017/?replicaSet=rs0")
    monkeypatch.setenv("CATALOG_DB", "pim")
    monkeypatch.setenv("CATALOG_PORT", "9000")
    monkeypatch.setenv("CATALOG_LOCALES", "en-us, de-de ,de-at")
    monkeypatch.setenv("CATALOG_LOCALE_FALLBACKS", "de-AT:de-DE")
    settings = load_settings()
    assert settings.mongodb_uri == "mongodb://db.internal:27017/?replicaSet=rs0"
    assert (settings.db, settings.port) == ("pim", 9000)
    assert settings.locales == ["en-US", "de-DE", "de-AT"]
    assert settings.fallback_chains == {"de-AT": ["de-DE"]}


def test_builtin_fallbacks_only_cover_configured_locales(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_LOCALES", "en-US,fr-FR,fr-CA")
    assert load_settings().fallback_chains == {"fr-CA": ["fr-FR"]}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CATALOG_PORT", "eighty", "CATALOG_PORT: Input should be a valid integer"),
        ("CATALOG_PORT", "70000", "CATALOG_PORT: Input should be less than or equal to 65535"),
        ("MONGODB_URI", "http://localhost", "MONGODB_URI: Value error, must start with mongodb://"),
        ("CATALOG_LOG_LEVEL", "loud", "CATALOG_LOG_LEVEL: Input should be 'debug'"),
        ("CATALOG_DB", "my.db", "CATALOG_DB: Value error, database names cannot contain '.'"),
        ("CATALOG_LOCALES", "en-US,english", "'english' is not a BCP 47 language tag"),
        ("CATALOG_LOCALE_FALLBACKS", "de-AT", "expected 'locale:fallback"),
        (
            "CATALOG_LOCALE_FALLBACKS",
            "de-AT:xx-XX",
            "CATALOG_LOCALE_FALLBACKS: fallback chain for de-AT names xx-XX",
        ),
        (
            "CATALOG_DEFAULT_LOCALE",
            "pt-BR",
            "CATALOG_DEFAULT_LOCALE: default locale pt-BR is not among",
        ),
    ],
)
def test_bad_values_give_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert message in str(info.value)
    assert "\n" not in str(info.value)
