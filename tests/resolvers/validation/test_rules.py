"""validation.toml: the shipped rules load; a bad file names file, line, key and reason."""

import pytest

from resolvers.validation import ValidationConfigError, load_validation
from tests.resolvers.validation.helpers import CHANNELS, LOCALES, RULES_TOML, SETTINGS, rules


def test_shipped_rules_load() -> None:
    shipped = load_validation(SETTINGS.validation_path, LOCALES, CHANNELS)
    assert (shipped.text.name_max, shipped.text.description_min) == (150, 20)
    assert shipped.units["mass"].to_base(1500, "g") == 1.5
    web = [r for r in shipped.required_localized if r.channel == "web"]
    # Unset locales: every locale of the channel in channels.toml.
    assert {r.locales for r in web} == {tuple(CHANNELS.profiles["web"].locales)}


def test_the_digest_tracks_content() -> None:
    assert rules().digest != rules(RULES_TOML.replace("max = 2\n", "max = 3\n")).digest


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("max_length = 20", "max_length = 0"),
            "validation.toml:4: text.name.max_length: Input should be greater than or equal to 1",
        ),
        (
            ("min_length = 5", "min_length = 50"),
            "validation.toml:6: text.description: min_length is above max_length",
        ),
        (
            ('unit_family = "mass"', 'unit_family = "weight"'),
            "validation.toml:20: attributes.weight.unit_family: unknown unit family 'weight' "
            "(mass)",
        ),
        (
            ('unit_family = "mass"', 'unit_family = "mass"\nunits = ["kg", "lb"]'),
            "validation.toml:21: attributes.weight.units: lb not in unit family 'mass' (g, kg)",
        ),
        (
            ('type = "enum"\nvalues = ["red", "blue"]', 'type = "enum"'),
            "validation.toml:28: attributes.color: an enum attribute needs values",
        ),
        (
            ('type = "boolean"', 'type = "boolean"\nmax = 1'),
            "validation.toml:49: attributes.waterproof: max applies to number attributes only",
        ),
        (
            ('pattern = "[0-9]{8}|[0-9]{13}"', 'pattern = "[0-9"'),
            "validation.toml:38: attributes.gtin.pattern: invalid regular expression",
        ),
        (
            ('type = "boolean"', 'type = "date"'),
            "validation.toml:50: attributes.waterproof.type: Input should be 'text', 'number'",
        ),
        (
            ("max = 2", "max = 2\nmaximum = 3"),
            "validation.toml:23: attributes.weight.maximum: Extra inputs are not permitted",
        ),
        (
            ("[attributes.pieces]", "[attributes.Pieces]"),
            "validation.toml:24: attributes.Pieces: attribute codes are lowercase",
        ),
        (
            ("[channels.email]", "[channels.newsletter]"),
            "validation.toml:52: channels.newsletter: no channel 'newsletter' in ",
        ),
        (
            ('locales = ["en-US", "de-DE"]', 'locales = ["en-US", "it-IT"]'),
            "validation.toml:54: channels.email.locales: it-IT is not a locale of channel email",
        ),
        (
            ('locales = ["en-US", "de-DE"]', 'locales = ["en-US", "pt-BR"]'),
            "validation.toml:54: channels.email.locales: unsupported locale 'pt-BR'",
        ),
        (
            ('"attributes.material"]', '"attributes.color"]'),
            "validation.toml:53: channels.email.fields: 'attributes.color' is not name, "
            "description or attributes.CODE of a localizable attribute",
        ),
        (
            ('statuses = ["published"]', 'statuses = ["live"]'),
            "validation.toml:55: channels.email.statuses.0: Input should be 'draft'",
        ),
        (("[sku]", "[sku"), "validation.toml: invalid TOML"),
    ],
)
def test_bad_rules_name_file_line_key_and_reason(change: tuple[str, str], message: str) -> None:
    assert change[0] in RULES_TOML
    with pytest.raises(ValidationConfigError) as info:
        rules(RULES_TOML.replace(*change, 1))
    assert message in str(info.value)


def test_a_missing_file_is_named() -> None:
    missing = SETTINGS.validation_path.with_name("nowhere.toml")
    with pytest.raises(
        ValidationConfigError, match=r"nowhere\.toml: cannot read the validation rules"
    ):
        load_validation(missing, LOCALES, CHANNELS)
