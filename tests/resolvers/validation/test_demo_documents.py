"""The demo catalog against the shipped rules: clean documents pass, planted defects are found."""

from demo.catalog import generate_demo_catalog
from resolvers.validation import Path, Validator, load_validation
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
