"""channels.toml: the shipped profiles load; bad profiles stop start-up naming file, line, key."""

from pathlib import Path

import pytest

from gateway.settings import Settings
from resolvers.channels import (
    READINESS_RULES,
    ChannelConfigError,
    load_channels,
    parse_channels,
)
from resolvers.locales import LocaleResolver

pytestmark = pytest.mark.indexed

LOCALES = LocaleResolver(["en-US", "de-DE", "de-AT", "fr-FR"], "en-US", {"de-AT": ["de-DE"]})

RULES = "\n".join(
    f'[readiness.rules.{rule}]\nweight = 10\nseverity = "warning"\nhint = "fix {rule}"\n'
    for rule in READINESS_RULES
)

GOOD = (
    """
[channels.web]
locales = ["en-US", "de-at"]

[channels.web.slots.card]
width = 400
height = 400
roles = ["hero", "front"]
placeholder = "placeholders/product"
"""
    + RULES
)


def test_shipped_profiles_load() -> None:
    settings = Settings()
    locales = LocaleResolver(settings.locales, settings.default_locale, settings.fallback_chains)
    channels = load_channels(settings.channels_path, locales)
    assert channels.names() == ["web", "mobile", "email", "marketplace"]
    assert channels.get("marketplace").signed is True  # type: ignore[union-attr]
    assert {"thumbnail", "card", "hero", "zoom", "swatch"} <= set(channels.profiles["web"].slots)
    assert channels.ingest.near_duplicate_distance == 6


def test_locales_are_canonicalized_and_digest_tracks_content() -> None:
    channels = parse_channels(GOOD, "channels.toml", LOCALES)
    assert channels.profiles["web"].locales == ["en-US", "de-AT"]
    changed = parse_channels(GOOD.replace("400", "401", 1), "channels.toml", LOCALES)
    assert changed.digest != channels.digest


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("width = 400", "width = 0"),
            "channels.toml:6: channels.web.slots.card.width: Input "
            "should be greater than or equal to 1",
        ),
        (
            ('roles = ["hero", "front"]', 'roles = ["hero", "poster"]'),
            "channels.toml:8: channels.web.slots.card.roles.1: Input should be 'hero'",
        ),
        (
            ('placeholder = "placeholders/product"', ""),
            "channels.toml:5: channels.web.slots.card.placeholder: Field required",
        ),
        (
            ("height = 400", 'height = 400\ncolour = "red"'),
            "channels.toml:8: channels.web.slots.card.colour: Extra inputs are not permitted",
        ),
        (
            ('locales = ["en-US", "de-at"]', 'locales = ["en-US", "pt-BR"]'),
            "channels.toml:3: channels.web.locales.1: unsupported locale 'pt-BR'",
        ),
        (
            ("height = 400", 'height = 400\nbackground = "white"'),
            "background only applies to crop 'pad' or 'lpad'",
        ),
        (("width = 400", 'width = 400\nformat = "bmp"'), "format 'bmp' is not one of auto, jpg"),
        (("width = 400", 'width = 400\nquality = "high"'), "must be 1-100 or one of auto"),
        (('roles = ["hero", "front"]', 'roles = ["hero", "hero"]'), "a role is listed twice"),
        (
            ('roles = ["hero", "front"]', 'roles = ["video"]'),
            "an image slot cannot take the role 'video'",
        ),
        (("channels.web", "channels.Web"), "channel names must be lowercase"),
        (("width = 400", 'width = "wide"'), "Input should be a valid integer"),
        (("[channels.web]", "[channels.web"), "channels.toml: invalid TOML"),
    ],
)
def test_bad_profiles_name_file_line_key_and_reason(change: tuple[str, str], message: str) -> None:
    text = GOOD.replace(*change)
    with pytest.raises(ChannelConfigError) as info:
        parse_channels(text, "channels.toml", LOCALES)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            (
                '[readiness.rules.hero_image]\nweight = 10\nseverity = "warning"\n'
                'hint = "fix hero_image"\n',
                "",
            ),
            "readiness.rules: rules hero_image are not declared",
        ),
        (('severity = "warning"', 'severity = "fatal"'), "Input should be 'blocker' or 'warning'"),
        (("[readiness.rules.alt_text]", "[readiness.rules.alt_txt]"), "readiness.rules.alt_txt"),
        (
            (
                "[readiness.rules.hero_image]",
                "[readiness.text]\nname_max = 150\n\n[readiness.rules.hero_image]",
            ),
            "readiness: readiness.text moved to validation.toml",
        ),
    ],
)
def test_bad_readiness_rules_are_reported(change: tuple[str, str], message: str) -> None:
    with pytest.raises(ChannelConfigError) as info:
        parse_channels(GOOD.replace(*change, 1), "channels.toml", LOCALES)
    assert message in str(info.value)


def test_channels_adjust_rules() -> None:
    text = GOOD + (
        '\n[channels.web.readiness]\ndisabled = ["video_posters"]\n'
        'weights = { hero_image = 40 }\nseverities = { alt_text = "blocker" }\n'
    )
    rules = parse_channels(text, "channels.toml", LOCALES).rules_for("web")
    assert "video_posters" not in rules
    assert (rules["hero_image"].weight, rules["alt_text"].severity) == (40, "blocker")
    assert len(rules) == len(READINESS_RULES) - 1


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ChannelConfigError, match="cannot read the channel profiles"):
        load_channels(tmp_path / "nope.toml", LOCALES)


def test_slots_for_role_and_required_locales() -> None:
    channels = parse_channels(GOOD, "channels.toml", LOCALES)
    assert [(c, s) for c, s, _ in channels.slots_for_role("front")] == [("web", "card")]
    assert channels.slots_for_role("swatch") == []
    assert channels.required_locales() == ["en-US", "de-AT"]


def test_channel_and_slot_names_are_found_in_any_case() -> None:
    """Like locales: any case on input, the configured (lowercase) spelling back."""
    channels = parse_channels(GOOD, "channels.toml", LOCALES)
    assert channels.canonical("WeB") == "web"
    assert channels.canonical("webb") is None
    assert channels.get("WEB") is channels.profiles["web"]
    assert channels.get("nope") is None
    card = channels.profiles["web"].slot("Card")
    assert card is not None
    assert card[0] == "card"
    assert channels.profiles["web"].slot("hero") is None
