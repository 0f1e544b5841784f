"""The demo catalog generator (pure) and its seeding into a real MongoDB."""

from __future__ import annotations

import random
import types
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import (
    Any,
    Literal,
    NotRequired,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from demo.catalog import DEFAULT_LOCALES, DEMO_NOW, DemoCatalog, generate_demo_catalog
from demo.defects import BLANK_ATTRIBUTE, LONG_NAME_LIMIT, MISSING_ASSET_PREFIX, SPEC_SHEET_LIMIT
from demo.seeding import CatalogNotEmptyError, SeedReport, seed_demo_catalog
from demo.tables import CONTENT_LOCALES
from resolvers.db import Catalog, ensure_indexes
from resolvers.documents import (
    SCHEMA_VERSION,
    AttributeDefinitionDocument,
    CategoryDocument,
    ProductDocument,
)
from resolvers.normal_forms import normalize_name, normalize_sku

SIZES = (50, 300)


@cache
def demo(products: int = 300, seed: int = 7) -> DemoCatalog:
    return generate_demo_catalog(products=products, seed=seed)


@pytest.fixture(params=SIZES, ids=[f"{n}-products" for n in SIZES])
def catalog(request: pytest.FixtureRequest) -> DemoCatalog:
    return demo(request.param)


# -- a structural checker for the TypedDict document model ---------------------------------------


def conforms(value: Any, tp: Any, path: str = "$") -> list[str]:
    """Where ``value`` departs from the type ``tp`` (TypedDicts checked key by key)."""
    if tp is Any:
        return []
    if is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"{path}: expected a document, got {type(value).__name__}"]
        hints = get_type_hints(tp, include_extras=True)
        errors = [f"{path}: unexpected key {key!r}" for key in value.keys() - hints.keys()]
        for key, hint in hints.items():
            optional = get_origin(hint) is NotRequired
            inner = get_args(hint)[0] if optional else hint
            if key in value:
                errors += conforms(value[key], inner, f"{path}.{key}")
            elif not optional:
                errors.append(f"{path}: missing key {key!r}")
        return errors
    origin = get_origin(tp)
    if origin is Literal:
        return [] if value in get_args(tp) else [f"{path}: {value!r} not in {get_args(tp)}"]
    if origin in (Union, types.UnionType):
        if any(not conforms(value, alternative, path) for alternative in get_args(tp)):
            return []
        return [f"{path}: {value!r} is not {tp}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        (item,) = get_args(tp)
        return [e for i, v in enumerate(value) for e in conforms(v, item, f"{path}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: expected a dict, got {type(value).__name__}"]
        key_type, value_type = get_args(tp)
        errors = []
        for k, v in value.items():
            errors += conforms(k, key_type, f"{path}<key>")
            errors += conforms(v, value_type, f"{path}.{k}")
        return errors
    if tp is type(None):
        return [] if value is None else [f"{path}: expected None"]
    if tp is datetime:
        ok = isinstance(value, datetime) and value.tzinfo is not None
        return [] if ok else [f"{path}: expected a timezone-aware datetime, got {value!r}"]
    if tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected int, got {value!r}"]
    if tp in (str, bool, ObjectId):
        return [] if isinstance(value, tp) else [f"{path}: expected {tp.__name__}, got {value!r}"]
    raise TypeError(f"the checker does not handle {tp!r}")  # pragma: no cover


def is_blank(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return not value or any(is_blank(v) for v in value)
    if isinstance(value, dict):
        return not value or any(is_blank(v) for v in value.values())
    return value is None


def value_errors(code: str, value: dict[str, Any], definition: dict[str, Any]) -> list[str]:
    """Where an attribute value departs from its definition."""
    kind, raw, where = definition["type"], value["value"], f"{code}={value!r}"
    if set(value) - {"value", "unit"}:
        return [f"{where}: unexpected keys"]
    if kind == "number":
        ok = isinstance(raw, int | float) and not isinstance(raw, bool)
        ok = ok and value.get("unit") == definition["unit"]
        return [] if ok else [f"{where}: expected a number in {definition['unit']}"]
    if "unit" in value:
        return [f"{where}: only numbers have units"]
    if kind == "boolean":
        return [] if isinstance(raw, bool) else [f"{where}: expected a boolean"]
    if kind == "enum":
        return [] if raw in definition["options"] else [f"{where}: not an option"]
    if definition["localizable"]:
        if not isinstance(raw, dict) or not raw or not set(raw) <= set(CONTENT_LOCALES):
            return [f"{where}: expected a map of content locales"]
        items = list(raw.values())
    else:
        items = [raw]
    if kind == "text":
        ok = all(isinstance(item, str) for item in items)
        return [] if ok else [f"{where}: expected text"]
    options = definition.get("options")
    ok = all(
        isinstance(item, list)
        and all(isinstance(v, str) and (options is None or v in options) for v in item)
        for item in items
    )
    return [] if ok else [f"{where}: expected a list of strings from the options"]


def all_attribute_values(product: ProductDocument) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from product["attributes"].items()  # type: ignore[misc]
    for variant in product["variants"]:
        yield from variant.get("attributes", {}).items()  # type: ignore[misc]


# -- determinism and shape --------------------------------------------------------------------


def test_same_arguments_give_the_same_catalog_whatever_the_global_random_state() -> None:
    random.seed(1)
    first = generate_demo_catalog(products=120, seed=3)
    random.seed(2)
    second = generate_demo_catalog(products=120, seed=3)
    assert first == second


def test_another_seed_gives_another_catalog() -> None:
    first, second = demo(300, 7), demo(300, 8)
    assert [p["name"] for p in first.products] != [p["name"] for p in second.products]
    assert [p["sku"] for p in first.products] != [p["sku"] for p in second.products]
    # The taxonomy is fixed: only products depend on the seed.
    assert first.categories == second.categories
    assert first.attributes == second.attributes


def test_counts(catalog: DemoCatalog) -> None:
    categories = catalog.categories
    assert len(catalog.products) in SIZES
    assert len({p["brand"] for p in catalog.products}) == 8
    assert len([c for c in categories if c["parent"] is None]) == 4
    assert len([c for c in categories if len(c["ancestors"]) == 1]) == 13
    assert len([c for c in categories if len(c["ancestors"]) == 2]) == 35
    assert len(catalog.attributes) == 18
    # Every leaf category has at least one product.
    leaves = {c["slug"] for c in categories if len(c["ancestors"]) == 2}
    assert leaves == {p["categories"][0] for p in catalog.products}


def test_too_few_products_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 50 products"):
        generate_demo_catalog(products=49)


def test_documents_match_the_model(catalog: DemoCatalog) -> None:
    errors: list[str] = []
    for attribute in catalog.attributes:
        errors += conforms(attribute, AttributeDefinitionDocument, attribute["code"])
    for category in catalog.categories:
        errors += conforms(category, CategoryDocument, category["slug"])
    for product in catalog.products:
        errors += conforms(product, ProductDocument, product["sku"])
    assert errors == []
    documents: list[Any] = [*catalog.attributes, *catalog.categories, *catalog.products]
    assert not [d for d in documents if "_id" in d]
    assert {p["schemaVersion"] for p in catalog.products} == {SCHEMA_VERSION}


def test_attribute_definitions_are_consistent(catalog: DemoCatalog) -> None:
    for attribute in catalog.attributes:
        assert set(attribute["label"]) == set(CONTENT_LOCALES)
        assert ("unit" in attribute) == (attribute["type"] == "number")
        if attribute["type"] == "enum":
            assert attribute["options"]
        if attribute["localizable"]:
            assert attribute["type"] in ("text", "list")


def test_attribute_values_match_their_definitions(catalog: DemoCatalog) -> None:
    definitions: dict[str, Any] = {a["code"]: a for a in catalog.attributes}
    errors: list[str] = []
    for product in catalog.products:
        for code, value in all_attribute_values(product):
            assert code in definitions, f"{product['sku']}: undefined attribute {code}"
            problems = value_errors(code, value, definitions[code])
            errors += [f"{product['sku']}: {problem}" for problem in problems]
    assert errors == []


def test_category_tree_is_consistent(catalog: DemoCatalog) -> None:
    by_slug = {c["slug"]: c for c in catalog.categories}
    assert len(by_slug) == len(catalog.categories)
    codes = {a["code"] for a in catalog.attributes}
    siblings: dict[str | None, list[int]] = defaultdict(list)
    for category in catalog.categories:
        slug, parent = category["slug"], category["parent"]
        assert slug == slug.lower()
        assert " " not in slug
        assert "_" not in slug
        assert set(category["name"]) == set(CONTENT_LOCALES)
        assert set(category["requiredAttributes"]) <= codes
        siblings[parent].append(category["position"])
        if parent is None:
            assert category["ancestors"] == []
        else:
            assert category["ancestors"] == [*by_slug[parent]["ancestors"], parent]
    for positions in siblings.values():
        assert sorted(positions) == list(range(len(positions)))
    leaves = [c for c in catalog.categories if len(c["ancestors"]) == 2]
    assert all(c["requiredAttributes"] for c in leaves)
    assert any(c["requiredAttributes"] for c in catalog.categories if len(c["ancestors"]) == 1)
    # Products are filed in leaves only.
    leaf_slugs = {c["slug"] for c in leaves}
    for product in catalog.products:
        assert 1 <= len(product["categories"]) <= 2
        assert set(product["categories"]) <= leaf_slugs
    assert any(len(p["categories"]) == 2 for p in demo(300).products)


def test_skus_and_variant_skus_are_unique(catalog: DemoCatalog) -> None:
    skus = [p["sku"] for p in catalog.products]
    variant_skus = [v["sku"] for p in catalog.products for v in p["variants"]]
    assert len(set(skus)) == len(skus)
    assert len(set(variant_skus)) == len(variant_skus)
    assert not set(skus) & set(variant_skus)
    for product in catalog.products:
        for variant in product["variants"]:
            assert variant["sku"].startswith(product["sku"] + "-")
            assert set(variant["options"]) <= {"color", "size"}


def test_variants_follow_the_category(catalog: DemoCatalog) -> None:
    apparel = {c["slug"] for c in catalog.categories if c["ancestors"][:1] == ["apparel"]}
    for product in catalog.products:
        variants = product["variants"]
        if product["categories"][0] in apparel and not product["bundle"]:
            assert 2 <= len(variants) <= 6, product["sku"]
            for variant in variants:
                assert set(variant["options"]) == {"color", "size"}
                suffix = f"-{variant['options']['color'].upper()}-{variant['options']['size']}"
                assert variant["sku"] == product["sku"] + suffix
        else:
            assert len(variants) <= 1, product["sku"]
            for variant in variants:
                assert variant["options"] == {"color": product["attributes"]["color"]["value"]}
    products = demo(300).products
    assert any("attributes" in v for p in products for v in p["variants"])


def test_media_references(catalog: DemoCatalog) -> None:
    missing = {d.sku for d in catalog.defects.missing_assets}
    for product in catalog.products:
        media, sku = product["media"], product["sku"]
        assert [m["position"] for m in media] == list(range(len(media)))
        variant_skus = {v["sku"] for v in product["variants"]}
        colours = {v["options"].get("color") for v in product["variants"]}
        swatches = [m for m in media if m["role"] == "swatch"]
        assert len(swatches) == len(colours - {None})
        assert all(m.get("variantSku") in variant_skus for m in swatches)
        assert not [m for m in media if m["role"] != "swatch" and "variantSku" in m]
        assert 2 <= len(media) - len(swatches) <= 8
        for reference in media:
            if not reference["publicId"].startswith(MISSING_ASSET_PREFIX):
                expected = f"catalog/{sku}/{reference['role']}-"
                assert reference["publicId"].startswith(expected)
            else:
                assert sku in missing
        ids = [m["publicId"] for m in media]
        assert len(set(ids)) == len(ids)
    assert any(m["role"] == "video" for p in catalog.products for m in p["media"])


def test_relations_resolve_except_recorded_broken_references(catalog: DemoCatalog) -> None:
    skus = {p["sku"] for p in catalog.products}
    broken = {(d.sku, d.field, d.missing_sku) for d in catalog.defects.broken_references}
    found: set[tuple[str, str, str]] = set()
    for product in catalog.products:
        sku = product["sku"]
        assert len(product["accessories"]) <= 3
        assert len(product["related"]) <= 4
        assert len(product["bundle"]) <= 5
        for field in ("accessories", "related"):
            references: list[str] = product[field]
            assert sku not in references
            assert len(set(references)) == len(references)
            found |= {(sku, field, ref) for ref in references if ref not in skus}
        components = [c["sku"] for c in product["bundle"]]
        assert sku not in components
        assert set(components) <= skus
        assert len(set(components)) == len(components)
        assert all(1 <= c["quantity"] <= 3 for c in product["bundle"])
    assert found == broken
    bundles = [p for p in catalog.products if p["bundle"]]
    assert len(bundles) >= 2
    assert all(len(p["bundle"]) >= 2 and not p["variants"] for p in bundles)
    bundle_skus = {p["sku"] for p in bundles}
    assert not {c["sku"] for p in bundles for c in p["bundle"]} & bundle_skus


def test_timestamps_and_statuses(catalog: DemoCatalog) -> None:
    for product in catalog.products:
        assert product["createdAt"] <= product["updatedAt"] <= DEMO_NOW
        assert product["createdAt"].microsecond == 0
    statuses = [p["status"] for p in demo(300).products]
    assert statuses.count("published") > len(statuses) / 2
    assert {"draft", "archived"} <= set(statuses)


def test_now_anchors_the_timestamps() -> None:
    now = datetime(2030, 3, 4, 5, 6, 7, 890_000, tzinfo=timezone(timedelta(hours=2)))
    catalog = generate_demo_catalog(products=60, now=now)
    anchored = now.astimezone(UTC).replace(microsecond=0)
    for product in catalog.products:
        assert product["createdAt"] <= product["updatedAt"] <= anchored
        assert product["createdAt"].tzinfo is not None
    assert max(p["createdAt"] for p in catalog.products) > DEMO_NOW
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_demo_catalog(products=60, now=datetime(2030, 1, 1))


# -- locales --------------------------------------------------------------------------------


def test_regional_locales_only_override_a_handful_of_names(catalog: DemoCatalog) -> None:
    regional = {"de-AT", "fr-CA"}
    for locale in regional:
        overridden = [p for p in catalog.products if locale in p["name"]]
        assert 1 <= len(overridden) <= max(3, len(catalog.products) // 50)
    for product in catalog.products:
        assert not regional & set(product["description"])
        for _, value in all_attribute_values(product):
            if isinstance(value["value"], dict):
                assert not regional & set(value["value"])


def test_locales_limit_the_content() -> None:
    catalog = generate_demo_catalog(products=60, locales=("en-us", "de-de", "de-at"))
    allowed = {"en-US", "de-DE", "de-AT"}
    for product in catalog.products:
        assert set(product["name"]) <= allowed
        assert set(product["description"]) <= {"en-US", "de-DE"}
    assert {locale for c in catalog.categories for locale in c["name"]} == {"en-US", "de-DE"}
    assert any("de-AT" in p["name"] for p in catalog.products)
    assert {d.locale for d in catalog.defects.missing_translations} == {"de-DE"}
    with pytest.raises(ValueError, match="has demo content"):
        generate_demo_catalog(products=60, locales=("de-AT", "es-ES"))


# -- planted defects ------------------------------------------------------------------------


def test_every_planted_defect_is_recorded_and_real(catalog: DemoCatalog) -> None:
    defects = catalog.defects
    products = {p["sku"]: p for p in catalog.products}
    categories = {c["slug"]: c for c in catalog.categories}
    for records in (
        defects.missing_translations,
        defects.missing_hero_media,
        defects.near_duplicate_names,
        defects.sku_collisions,
        defects.missing_required_attributes,
        defects.broken_references,
        defects.missing_assets,
        defects.long_names,
    ):
        assert 2 <= len(records) <= max(2, len(products) * 3 // 100)

    assert {d.locale for d in defects.missing_translations} == {"de-DE", "fr-FR"}
    for translation in defects.missing_translations:
        product = products[translation.sku]
        assert translation.locale not in product["name"]
        assert translation.locale not in product["description"]

    for sku in defects.missing_hero_media:
        assert products[sku]["media"]
        assert "hero" not in {m["role"] for m in products[sku]["media"]}

    for pair in defects.near_duplicate_names:
        first, second = products[pair.sku], products[pair.duplicate_sku]
        assert first["brand"] == second["brand"] == pair.brand
        assert first["categories"][0] == second["categories"][0]
        assert (pair.name, pair.duplicate_name) == (first["name"]["en-US"], second["name"]["en-US"])
        assert pair.name != pair.duplicate_name
        assert normalize_name(pair.name) == normalize_name(pair.duplicate_name)

    for collision in defects.sku_collisions:
        assert collision.sku in products
        assert collision.colliding_sku in products
        assert collision.sku != collision.colliding_sku
        assert normalize_sku(collision.sku) == normalize_sku(collision.colliding_sku)

    for missing in defects.missing_required_attributes:
        product = products[missing.sku]
        assert missing.category == product["categories"][0]
        assert missing.code in categories[missing.category]["requiredAttributes"]
        assert missing.code not in dict(all_attribute_values(product))

    for reference in defects.broken_references:
        assert reference.missing_sku not in products
        field: list[str] = products[reference.sku][reference.field]
        assert reference.missing_sku in field

    for asset in defects.missing_assets:
        assert asset.public_id.startswith(MISSING_ASSET_PREFIX)
        assert asset.public_id in {m["publicId"] for m in products[asset.sku]["media"]}

    for long_name in defects.long_names:
        name = products[long_name.sku]["name"][long_name.locale]
        assert len(name) == long_name.length > LONG_NAME_LIMIT

    # The defects only channel contracts find: valid data, one product each, published.
    [sheet] = defects.spec_sheet_descriptions
    description = products[sheet.sku]["description"][sheet.locale]
    assert len(description) == sheet.characters <= SPEC_SHEET_LIMIT
    assert "supplier specification sheet" in description
    [deleted] = defects.deleted_in_dam
    assert products[deleted.sku]["media"][0] == {
        "publicId": deleted.public_id,
        "role": "hero",
        "position": 0,
    }
    assert {products[d.sku]["status"] for d in (sheet, deleted)} == {"published"}

    blank = defects.always_blank_attribute
    assert blank == BLANK_ATTRIBUTE
    assert blank in {a["code"] for a in catalog.attributes}
    values = [p["attributes"][blank] for p in catalog.products if blank in p["attributes"]]
    assert values
    assert all(is_blank(v["value"]) for v in values)


def test_everything_not_recorded_is_clean(catalog: DemoCatalog) -> None:
    defects = catalog.defects
    flagged = defects.product_skus()
    products = catalog.products
    skus = {p["sku"] for p in products}
    categories = {c["slug"]: c for c in catalog.categories}
    for product in products:
        if product["sku"] in flagged:
            continue
        sku = product["sku"]
        assert set(CONTENT_LOCALES) <= set(product["name"]), sku
        assert set(CONTENT_LOCALES) <= set(product["description"]), sku
        for text in (*product["name"].values(), *product["description"].values()):
            assert text, sku
            assert text == text.strip(), sku
            assert "  " not in text, sku
        assert all(len(name) <= LONG_NAME_LIMIT for name in product["name"].values()), sku
        assert product["media"][0]["role"] == "hero", sku
        assert not [m for m in product["media"] if m["publicId"].startswith(MISSING_ASSET_PREFIX)]
        assert set(product["related"]) | set(product["accessories"]) <= skus
        for slug in product["categories"]:
            chain = [*categories[slug]["ancestors"], slug]
            for code in (code for s in chain for code in categories[s]["requiredAttributes"]):
                assert code in product["attributes"], (sku, slug, code)
                assert not is_blank(product["attributes"][code]["value"]), (sku, code)

    # Names are unique within a brand, in every locale, but for the recorded pairs.
    pairs = {frozenset((d.sku, d.duplicate_sku)) for d in defects.near_duplicate_names}
    groups: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for product in products:
        for locale, name in product["name"].items():
            groups[product["brand"], locale, normalize_name(name)].add(product["sku"])
    assert {frozenset(g) for g in groups.values() if len(g) > 1} == pairs

    collisions = {frozenset((d.sku, d.colliding_sku)) for d in defects.sku_collisions}
    by_key: dict[str, set[str]] = defaultdict(set)
    for sku in skus:
        by_key[normalize_sku(sku)].add(sku)
    assert {frozenset(g) for g in by_key.values() if len(g) > 1} == collisions

    # Every attribute but the planted one is filled somewhere, and never left blank.
    filled: set[str] = set()
    for product in products:
        for code, value in all_attribute_values(product):
            if code != defects.always_blank_attribute:
                assert not is_blank(value["value"]), (product["sku"], code)
                filled.add(code)
    assert filled == {a["code"] for a in catalog.attributes} - {defects.always_blank_attribute}


def test_ten_thousand_products() -> None:
    catalog = generate_demo_catalog(products=10_000)
    skus = {p["sku"] for p in catalog.products}
    variant_skus = [v["sku"] for p in catalog.products for v in p["variants"]]
    assert len(skus) == 10_000
    assert len(set(variant_skus)) == len(variant_skus)
    assert len(catalog.defects.missing_hero_media) == 100
    related = {ref for p in catalog.products for ref in (*p["related"], *p["accessories"])}
    assert related - skus == {d.missing_sku for d in catalog.defects.broken_references}


# -- seeding --------------------------------------------------------------------------------


async def counts(db: AsyncDatabase[dict[str, Any]]) -> tuple[int, int, int]:
    return (
        await db["products"].count_documents({}),
        await db["categories"].count_documents({}),
        await db["attributes"].count_documents({}),
    )


async def test_seeding(db: AsyncDatabase[dict[str, Any]]) -> None:
    # The seed must fit the real indexes, e.g. SKUs that differ only by case are distinct.
    await ensure_indexes(Catalog(db), DEFAULT_LOCALES)
    expected = generate_demo_catalog(products=120, seed=5)

    report = await seed_demo_catalog(db, products=120, seed=5)

    assert report == SeedReport(
        products=120,
        variants=sum(len(p["variants"]) for p in expected.products),
        categories=52,
        attributes=18,
        media_references=sum(len(p["media"]) for p in expected.products),
        events=120,
    )
    assert await counts(db) == (120, 52, 18)
    stored = await db["products"].find_one({"sku": expected.products[0]["sku"]}, {"_id": 0})
    assert stored == expected.products[0]
    sku = expected.defects.sku_collisions[0].colliding_sku
    assert await db["products"].count_documents({"sku": sku}) == 1

    with pytest.raises(CatalogNotEmptyError, match=r"120 product.*--replace"):
        await seed_demo_catalog(db, products=60, seed=6)
    assert await counts(db) == (120, 52, 18)

    report = await seed_demo_catalog(db, products=60, seed=6, replace=True)

    assert (report.products, report.categories, report.attributes) == (60, 52, 18)
    assert await counts(db) == (60, 52, 18)
    reseeded = {p["sku"] for p in generate_demo_catalog(products=60, seed=6).products}
    assert set(await db["products"].distinct("sku")) == reseeded
