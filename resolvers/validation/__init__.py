"""Validation rules (config as code) and the one validator every writer uses.

``load_validation`` reads ``validation.toml`` (checked against the channel profiles and
locales); ``Validator(rules).validate_product(document, categories=...)`` answers the
:class:`Violation` list of a product document in its stored shape.
"""

from resolvers.validation.rules import (
    TextLengths,
    ValidationConfigError,
    ValidationRules,
    load_validation,
    parse_validation,
)
from resolvers.validation.validator import Validator, required_codes
from resolvers.validation.violations import Path, Violation

__all__ = [
    "Path",
    "TextLengths",
    "ValidationConfigError",
    "ValidationRules",
    "Validator",
    "Violation",
    "load_validation",
    "parse_validation",
    "required_codes",
]
