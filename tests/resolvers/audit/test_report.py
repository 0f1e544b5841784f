"""The whole audit (``run_audit``): planted demo defects are all found, limits bound examples and
not totals, a clean catalog is clean and each defect planted in it is found."""

from __future__ import annotations

from typing import Any

import pytest

from demo.defects import BLANK_ATTRIBUTE
from resolvers.audit import (
    SECTIONS,
    Section,
    duplicate_skus,
    missing_asset_references,
    orphaned_assets,
)
from resolvers.db import Catalog
from tests.fixtures.audit_catalogs import (
    CLEAN_LOCALES,
    ORPHAN,
    PRODUCTS,
    Database,
    audit_clean,
    audit_demo,
    defects,
    seed_clean,
    seed_demo,
)


async def test_demo_catalog_audit_finds_every_planted_defect(db: Database) -> None:
    records = await seed_demo(db)
    report = await audit_demo(db)
    planted = defects()

    groups = [{o.sku for o in group.occurrences} for group in report.duplicate_skus.examples]
    assert sorted(groups, key=sorted) == sorted(
        ({c.sku, c.colliding_sku} for c in planted.sku_collisions), key=sorted
    )
    assert report.duplicate_skus.total == len(planted.sku_collisions)

    names = {
        (group.brand, group.locale, frozenset(p.sku for p in group.products))
        for group in report.duplicate_names.examples
    }
    assert planted.near_duplicate_names
    for pair in planted.near_duplicate_names:
        # The copy re-spells every locale of the original's name.
        for locale in ("en-US", "de-DE", "fr-FR", "it-IT"):
            assert (pair.brand, locale, frozenset((pair.sku, pair.duplicate_sku))) in names
    assert report.duplicate_names.total == 4 * len(planted.near_duplicate_names)

    rates = report.fill_rates
    assert [r.field for r in rates.always_blank] == [f"attributes.{BLANK_ATTRIBUTE}"]
    (gtin,) = rates.always_blank
    assert gtin.scope > 0
    assert gtin.filled == 0
    assert gtin.locale is None
    by_key = {(r.field, r.locale): r for r in rates.rates}
    for locale, fallback_for in (("de-DE", "de-AT"), ("fr-FR", "fr-CA")):
        untranslated = sum(1 for m in planted.missing_translations if m.locale == locale)
        assert untranslated > 0
        for field in ("name", "description"):
            for tag in (locale, fallback_for):
                rate = by_key[(field, tag)]
                assert (rate.scope, rate.filled) == (PRODUCTS, PRODUCTS - untranslated)
                assert rate.rate is not None
                assert rate.rate < 1
    assert by_key[("name", "en-US")].rate == 1
    assert rates.unused_attributes == ()

    required = report.missing_required_attributes
    assert sorted((r.sku, r.category, code) for r in required.examples for code in r.missing) == (
        sorted((d.sku, d.category, d.code) for d in planted.missing_required_attributes)
    )
    assert all(r.untranslated == () for r in required.examples)
    assert required.total == len(planted.missing_required_attributes)

    references = report.missing_product_references
    assert sorted((r.sku, r.field, r.missing_sku) for r in references.examples) == sorted(
        (d.sku, d.field, d.missing_sku) for d in planted.broken_references
    )
    assert references.total == len(planted.broken_references)

    missing = report.missing_asset_references
    assert sorted((m.sku, m.public_id) for m in missing.examples) == sorted(
        (d.sku, d.public_id) for d in planted.missing_assets
    )
    assert {m.status for m in missing.examples} == {"absent"}
    assert missing.total == len(planted.missing_assets)

    assert [(a.public_id, a.status) for a in report.orphaned_assets.examples] == [
        (ORPHAN, "active")
    ]
    assert report.orphaned_assets.total == 1

    (media,) = report.duplicate_media.examples
    assert media.phash == records[0]["phash"]
    assert {a.public_id for a in media.assets} == {r["publicId"] for r in records[:2]}
    assert report.duplicate_media.total == 1

    assert set(report.seconds) == {*SECTIONS, "total"}


async def test_limit_bounds_examples_not_totals(db: Database) -> None:
    await seed_demo(db)
    full, one, none = [await audit_demo(db, limit) for limit in (100, 1, 0)]
    for name in (
        "duplicate_skus",
        "duplicate_names",
        "missing_required_attributes",
        "orphaned_assets",
        "missing_asset_references",
        "missing_product_references",
        "duplicate_media",
    ):
        sections: list[Section[Any]] = [getattr(report, name) for report in (full, one, none)]
        # The demo plants every kind of finding: limits 1 and 0 leave some out.
        assert sections[0].examples, name
        assert {s.total for s in sections} == {sections[0].total}, name
        assert sections[1].examples == sections[0].examples[:1], name
        assert sections[2].examples == (), name
    assert one.fill_rates == full.fill_rates
    with pytest.raises(ValueError, match="limit"):
        await audit_demo(db, -1)


async def test_sections_run_on_their_own(db: Database) -> None:
    await seed_demo(db)
    catalog = Catalog(db)
    skus = await duplicate_skus(catalog, limit=5)
    assert skus.total == len(defects().sku_collisions)
    assert (await orphaned_assets(catalog, linked=[ORPHAN])).total == 0
    assert (await missing_asset_references(catalog)).total == len(defects().missing_assets)


async def test_clean_catalog_has_no_findings(db: Database) -> None:
    await seed_clean(db)
    report = await audit_clean(db)
    sections: list[Section[Any]] = [
        report.duplicate_skus,
        report.duplicate_names,
        report.missing_required_attributes,
        report.orphaned_assets,
        report.missing_asset_references,
        report.missing_product_references,
        report.duplicate_media,
    ]
    assert [(s.total, s.examples) for s in sections] == [(0, ())] * len(sections)
    rates = report.fill_rates
    assert rates.products == 3
    assert rates.always_blank == ()
    assert rates.unused_attributes == ()
    assert {(r.field, r.locale, r.scope, r.rate) for r in rates.rates} == {
        *((text, locale, 3, 1.0) for text in ("name", "description") for locale in CLEAN_LOCALES),
        ("attributes.material", "en-US", 3, 1.0),
        ("attributes.material", "de-DE", 3, 1.0),
        ("attributes.weight", None, 3, 1.0),
        ("attributes.color", None, 3, 1.0),
    }


async def test_clean_catalog_turning_dirty(db: Database) -> None:
    await seed_clean(db)
    await db["assets"].update_one({"publicId": "clean/P-3/hero-1"}, {"$set": {"status": "missing"}})
    await db["assets"].update_one({"publicId": "clean/P-1/video-1"}, {"$unset": {"poster": ""}})
    await db["products"].update_one(
        {"sku": "P-3"},
        {"$set": {"attributes.material.value.de-DE": " ", "attributes.color.value": ""}},
    )
    await db["products"].update_one({"sku": "P-2"}, {"$set": {"attributes.weight.value": None}})
    report = await audit_clean(db)

    assert [(m.sku, m.public_id, m.status) for m in report.missing_asset_references.examples] == [
        ("P-3", "clean/P-3/hero-1", "missing")
    ]
    assert [a.public_id for a in report.orphaned_assets.examples] == ["clean/P-1/poster"]
    required = [
        (r.sku, r.category, r.missing, [(g.code, g.locales) for g in r.untranslated])
        for r in report.missing_required_attributes.examples
    ]
    assert required == [
        ("P-2", "plates", ("weight",), []),
        ("P-3", "home", (), [("material", ("de-DE",))]),
    ]
    by_key = {(r.field, r.locale): (r.scope, r.filled) for r in report.fill_rates.rates}
    assert by_key[("attributes.material", "de-DE")] == (3, 2)
    assert by_key[("attributes.weight", None)] == (3, 2)
    assert by_key[("attributes.color", None)] == (3, 2)
