"""Validator: each violation code with its path and the rule that decided."""

from typing import Any

import pytest

from resolvers.validation import Validator, Violation
from tests.resolvers.validation.helpers import RULES_TOML, rules

VALIDATOR = Validator(rules())


def product(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "sku": "SKU-1",
        "status": "published",
        "name": {"en-US": "Trail Shoe", "de-DE": "Laufschuh"},
        "description": {"en-US": "Light and fast.", "de-DE": "Leicht und schnell."},
        "categories": ["shoes"],
        "attributes": {
            "weight": {"value": 0.3, "unit": "kg"},
            "material": {"value": {"en-US": "mesh", "de-DE": "Netz"}},
            "color": {"value": "red"},
        },
        "variants": [
            {"sku": "SKU-1-S", "options": {"size": "S"}},
            {"sku": "SKU-1-M", "options": {"size": "M"}},
        ],
    }
    document.update(changes)
    return document


def only(violations: list[Violation]) -> Violation:
    assert len(violations) == 1, violations
    return violations[0]


def test_a_clean_product_has_no_violations() -> None:
    assert VALIDATOR.validate_product(product()) == []


@pytest.mark.parametrize(
    ("value", "unit", "code", "rule"),
    [
        (1500, "g", None, None),
        (2, "kg", None, None),
        (3, "kg", "RANGE", "attributes.weight.max"),
        (2001, "g", "RANGE", "attributes.weight.max"),
        (5, "g", "RANGE", "attributes.weight.min"),
        (1, "lb", "UNIT", "attributes.weight.units"),
        (1, None, "UNIT", "attributes.weight.units"),
        ("1", "kg", "TYPE", "attributes.weight.type"),
        (True, "kg", "TYPE", "attributes.weight.type"),
        (float("nan"), "kg", "TYPE", "attributes.weight.type"),
    ],
)
def test_numbers_are_compared_after_conversion(
    value: Any, unit: str | None, code: str | None, rule: str | None
) -> None:
    entry: dict[str, Any] = {"value": value} | ({"unit": unit} if unit else {})
    document = product()
    document["attributes"]["weight"] = entry
    violations = VALIDATOR.validate_product(document)
    if code is None:
        assert violations == []
        return
    violation = only(violations)
    assert (violation.path, violation.code, violation.rule) == (
        ("attributes", "weight"),
        code,
        rule,
    )


def test_range_reports_the_limit_in_the_base_unit() -> None:
    document = product()
    document["attributes"]["weight"] = {"value": 3, "unit": "kg"}
    violation = only(VALIDATOR.validate_product(document))
    assert violation.limit == 2
    assert violation.message == "3 kg is beyond the maximum 2 kg"


def test_a_number_without_a_family_takes_no_unit() -> None:
    document = product()
    document["attributes"]["pieces"] = {"value": 2, "unit": "pcs"}
    violation = only(VALIDATOR.validate_product(document))
    assert (violation.code, violation.rule) == ("UNIT", "attributes.pieces")
    document["attributes"]["pieces"] = {"value": 0}
    violation = only(VALIDATOR.validate_product(document))
    assert (violation.code, violation.rule, violation.limit) == (
        "RANGE",
        "attributes.pieces.min",
        1,
    )


def test_enum_values_on_the_product_and_as_variant_options() -> None:
    document = product()
    document["attributes"]["color"] = {"value": "green"}
    document["variants"][1]["options"]["size"] = "XL"
    violations = VALIDATOR.validate_product(document)
    assert [(v.path, v.code, v.rule, v.limit) for v in violations] == [
        (("attributes", "color"), "ENUM", "attributes.color.values", ["red", "blue"]),
        (("variants", "SKU-1-M", "options", "size"), "ENUM", "attributes.size.values", ["S", "M"]),
    ]


def test_list_items_are_checked_one_by_one() -> None:
    document = product()
    document["attributes"]["ports"] = {"value": ["usb-c", "hdmi"]}
    violation = only(VALIDATOR.validate_product(document))
    assert (violation.path, violation.code) == (("attributes", "ports", 1), "ENUM")
    document["attributes"]["ports"] = {"value": "usb-c"}
    violation = only(VALIDATOR.validate_product(document))
    assert (violation.path, violation.code) == (("attributes", "ports"), "TYPE")


def test_pattern_and_max_length_of_text_attributes() -> None:
    document = product()
    document["attributes"]["material"] = {"value": {"en-US": "mesh", "de-DE": "x" * 11}}
    document["attributes"]["gtin"] = {"value": "12345"}
    violations = VALIDATOR.validate_product(document)
    assert [(v.path, v.code, v.rule, v.limit) for v in violations] == [
        (("attributes", "material", "de-DE"), "TOO_LONG", "attributes.material.max_length", 10),
        (("attributes", "gtin"), "PATTERN", "attributes.gtin.pattern", "[0-9]{8}|[0-9]{13}"),
    ]


def test_a_blank_value_is_absent_not_a_pattern_violation() -> None:
    document = product()
    document["attributes"]["gtin"] = {"value": ""}
    assert VALIDATOR.validate_product(document) == []


def test_types_of_values() -> None:
    document = product()
    document["attributes"]["waterproof"] = {"value": "yes"}
    document["attributes"]["material"] = {"value": "mesh"}  # localizable: {locale: text}
    document["attributes"]["color"] = "red"  # not {"value": …}
    violations = VALIDATOR.validate_product(document)
    assert [(v.path, v.code, v.rule) for v in violations] == [
        (("attributes", "material"), "TYPE", "attributes.material.localizable"),
        (("attributes", "color"), "TYPE", "attributes.color"),
        (("attributes", "waterproof"), "TYPE", "attributes.waterproof.type"),
    ]


def test_unknown_attributes_on_the_product_variants_and_options() -> None:
    document = product()
    document["attributes"]["colour"] = {"value": "red"}
    document["variants"][0]["options"]["fit"] = "slim"
    document["variants"][0]["attributes"] = {"heft": {"value": 1}}
    violations = VALIDATOR.validate_product(document)
    assert [(v.path, v.code) for v in violations] == [
        (("attributes", "colour"), "UNKNOWN_ATTRIBUTE"),
        (("variants", "SKU-1-S", "options", "fit"), "UNKNOWN_ATTRIBUTE"),
        (("variants", "SKU-1-S", "attributes", "heft"), "UNKNOWN_ATTRIBUTE"),
    ]


def test_variant_overrides_are_validated_with_their_variant_in_the_path() -> None:
    document = product()
    document["variants"][1]["attributes"] = {"weight": {"value": 2500, "unit": "g"}}
    violation = only(VALIDATOR.validate_product(document))
    assert (violation.path, violation.code) == (
        ("variants", "SKU-1-M", "attributes", "weight"),
        "RANGE",
    )


def test_name_and_description_lengths_per_locale() -> None:
    document = product(
        name={"en-US": "A" * 21, "de-DE": "Laufschuh"},
        description={"en-US": "Tiny", "de-DE": "Leicht und schnell."},
    )
    violations = VALIDATOR.validate_product(document)
    assert [(v.path, v.code, v.rule, v.limit) for v in violations] == [
        (("name", "en-US"), "TOO_LONG", "text.name.max_length", 20),
        (("description", "en-US"), "TOO_SHORT", "text.description.min_length", 5),
    ]


def test_sku_rules() -> None:
    assert only(VALIDATOR.validate_product(product(sku="sku 1"))).code == "PATTERN"
    too_long = only(VALIDATOR.validate_product(product(sku="S" * 17)))
    assert (too_long.code, too_long.rule, too_long.limit) == ("TOO_LONG", "sku.max_length", 16)
    missing = only(VALIDATOR.validate_product(product(sku="")))
    assert (missing.path, missing.code) == (("sku",), "REQUIRED")
    document = product()
    document["variants"][0]["sku"] = "bad sku"
    violation = only(VALIDATOR.validate_product(document))
    assert (violation.path, violation.code) == (("variants", "bad sku", "sku"), "PATTERN")


def test_channel_locales_are_required_for_published_products_only() -> None:
    document = product(
        name={"en-US": "Trail Shoe"},
        description={"en-US": "Light and fast.", "de-DE": "Leicht und schnell."},
    )
    document["attributes"]["material"] = {"value": {"en-US": "mesh"}}
    violations = VALIDATOR.validate_product(document)
    assert [(v.path, v.code, v.rule) for v in violations] == [
        (("name", "de-DE"), "REQUIRED", "channels.email.fields"),
        (("attributes", "material", "de-DE"), "REQUIRED", "channels.email.fields"),
    ]
    assert VALIDATOR.validate_product({**document, "status": "draft"}) == []


def test_a_locale_filled_through_its_fallback_counts() -> None:
    # de-AT falls back to de-DE (not to the default locale): German text fills it.
    text = RULES_TOML.replace(
        '[channels.email]\nfields = ["name", "description", "attributes.material"]\n'
        'locales = ["en-US", "de-DE"]',
        '[channels.web]\nfields = ["name", "description"]\nlocales = ["en-US", "de-AT"]',
    )
    validator = Validator(rules(text))
    assert validator.validate_product(product()) == []
    english_only = product(name={"en-US": "Trail Shoe"})
    violation = only(validator.validate_product(english_only))
    assert (violation.path, violation.rule) == (("name", "de-AT"), "channels.web.fields")


def test_a_name_is_always_required() -> None:
    violation = only(VALIDATOR.validate_product(product(name={}, status="draft")))
    assert (violation.path, violation.code) == (("name",), "REQUIRED")


CATEGORIES = [
    {"slug": "shoes", "requiredAttributes": ["weight", "waterproof"]},
    {"slug": "outdoor", "requiredAttributes": ["waterproof"]},
]


def test_category_required_attributes() -> None:
    violations = VALIDATOR.validate_product(product(), categories=CATEGORIES)
    assert [(v.path, v.code, v.rule) for v in violations] == [
        (("attributes", "waterproof"), "REQUIRED", "categories.shoes.requiredAttributes"),
    ]


def test_a_required_attribute_may_come_from_every_variant_but_not_some() -> None:
    document = product()
    document["attributes"]["waterproof"] = {"value": False}  # false is a value
    del document["attributes"]["weight"]
    document["variants"][0]["attributes"] = {"weight": {"value": 0.3, "unit": "kg"}}
    violation = only(VALIDATOR.validate_product(document, categories=CATEGORIES))
    assert (violation.path, violation.code) == (
        ("variants", "SKU-1-M", "attributes", "weight"),
        "REQUIRED",
    )
    document["variants"][1]["attributes"] = {"weight": {"value": 310, "unit": "g"}}
    assert VALIDATOR.validate_product(document, categories=CATEGORIES) == []


def test_a_product_is_not_linked_to_itself() -> None:
    clean = product(related=["OTHER-1"], accessories=["OTHER-2"])
    assert VALIDATOR.validate_product(clean) == []
    sku = clean["sku"]
    for field, value in (
        ("related", ["OTHER-1", sku]),
        ("accessories", [sku]),
        ("bundle", [{"sku": "OTHER-3", "quantity": 1}, {"sku": sku, "quantity": 2}]),
    ):
        violation = only(VALIDATOR.validate_product(product(**{field: value})))
        assert (violation.path, violation.code, violation.rule) == (
            (field, sku),
            "SELF_REFERENCE",
            f"links.{field}",
        )
