"""The demo catalog against the shipped rules: clean documents pass, planted defects are found."""

from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from demo.catalog import generate_demo_catalog
from demo.seeding import DemoValidationError, planted_past_validation, seed_demo_catalog
from resolvers.validation import Path, Validator, load_validation, parse_validation
from tests.resolvers.validation.helpers import CHANNELS, LOCALES, SETTINGS

CATALOG = generate_demo_catalog()
VALIDATOR = Validator(load_validation(SETTINGS.validation_path, LOCALES, CHANNELS))
CATEGORIES = {category["slug"]: category for category in CATALOG.categories}


def test_clean_documents_pass_and_exactly_the_planted_defects_are_found() -> None:
    found: set[tuple[str, Path, str]] = set()
    for product in CATALOG.products:
        categories = [CATEGORIES[slug] for slug in product["categories"]]
        for violation in VALIDATOR.validate_product(product, categories=categories):
            found.add((product["sku"], violation.path, violation.code))

    defects = CATALOG.defects
    status = {product["sku"]: product["status"] for product in CATALOG.products}
    expected: set[tuple[str, Path, str]] = set()
    for long in defects.long_names:
        expected.add((long.sku, ("name", long.locale), "TOO_LONG"))
    for missing in defects.missing_required_attributes:
        expected.add((missing.sku, ("attributes", missing.code), "REQUIRED"))
    for gap in defects.missing_translations:
        # Channels require translations of published products only; a region falls back to
        # its language (de-AT to de-DE), so it lacks what its language lacks.
        if status[gap.sku] != "published":
            continue
        regions = [
            tag for tag, chain in (("de-AT", "de-DE"), ("fr-CA", "fr-FR")) if chain == gap.locale
        ]
        for field in ("name", "description"):
            for tag in (gap.locale, *regions):
                expected.add((gap.sku, (field, tag), "REQUIRED"))
    assert defects.long_names
    assert defects.missing_required_attributes
    assert any(status[gap.sku] == "published" for gap in defects.missing_translations)
    assert found == expected


def test_the_demo_attribute_definitions_agree_with_the_rules() -> None:
    # The attributes collection describes how values read (labels); the rules decide what is
    # accepted. Their types, options and units must not contradict each other.
    rules = VALIDATOR.rules
    for definition in CATALOG.attributes:
        rule = rules.attributes[definition["code"]]
        assert rule.type == definition["type"], definition["code"]
        assert rule.localizable == definition["localizable"], definition["code"]
        assert set(definition.get("options", [])) <= set(rule.values or []), definition["code"]
        if "unit" in definition:
            assert rule.unit_family is not None
            assert definition["unit"] in rules.units[rule.unit_family].units


async def test_the_seeder_validates_and_writes_only_planted_defects_past_the_validator(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    report = await seed_demo_catalog(db, validator=VALIDATOR)
    bypassed = planted_past_validation(CATALOG, VALIDATOR)
    assert set(bypassed) <= CATALOG.defects.product_skus()
    assert {long.sku for long in CATALOG.defects.long_names} <= set(bypassed)
    assert report.unvalidated == len(bypassed) > 0
    assert await db["products"].count_documents({}) == report.products == len(CATALOG.products)


async def test_a_clean_product_that_fails_stops_the_seed_before_anything_is_written(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    text = SETTINGS.validation_path.read_text().replace(
        "[text.name]\nmin_length = 3\nmax_length = 150",
        "[text.name]\nmin_length = 3\nmax_length = 20",
    )
    strict = Validator(parse_validation(text, "validation.toml", LOCALES, CHANNELS))
    expected = r"name\.en-US: TOO_LONG: .* \(text\.name\.max_length;"
    with pytest.raises(DemoValidationError, match=expected):
        await seed_demo_catalog(db, validator=strict)
    assert await db["products"].count_documents({}) == 0
