"""Rules for the validator tests: the shipped channels and locales, and a small rules file."""

from gateway.settings import Settings
from resolvers.channels import Channels, load_channels
from resolvers.locales import LocaleResolver
from resolvers.validation import ValidationRules, parse_validation

SETTINGS = Settings()
LOCALES = LocaleResolver(SETTINGS.locales, SETTINGS.default_locale, SETTINGS.fallback_chains)
CHANNELS: Channels = load_channels(SETTINGS.channels_path, LOCALES)

RULES_TOML = """
[text.name]
min_length = 3
max_length = 20

[text.description]
min_length = 5
max_length = 40

[sku]
pattern = "[A-Z0-9][A-Z0-9-]*"
max_length = 16

[units.mass]
base = "kg"
units = { g = 0.001, kg = 1 }

[attributes.weight]
type = "number"
unit_family = "mass"
min = 0.01
max = 2

[attributes.pieces]
type = "number"
min = 1

[attributes.color]
type = "enum"
values = ["red", "blue"]

[attributes.size]
type = "enum"
values = ["S", "M"]

[attributes.gtin]
type = "text"
pattern = "[0-9]{8}|[0-9]{13}"

[attributes.material]
type = "text"
localizable = true
max_length = 10

[attributes.ports]
type = "list"
values = ["usb-c", "aux"]

[attributes.waterproof]
type = "boolean"

[channels.email]
fields = ["name", "description", "attributes.material"]
locales = ["en-US", "de-DE"]
statuses = ["published"]
"""


def rules(text: str = RULES_TOML) -> ValidationRules:
    return parse_validation(text, "validation.toml", LOCALES, CHANNELS)
