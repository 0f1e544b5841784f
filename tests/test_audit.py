"""The catalog audit: planted demo defects are all found, a clean catalog is clean, and GraphQL
and the CLI report what ``run_audit`` reports."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import strawberry
from pymongo.asynchronous.database import AsyncDatabase

from demo.catalog import (
    BLANK_ATTRIBUTE,
    DEFAULT_LOCALES,
    MISSING_ASSET_PREFIX,
    PlantedDefects,
    generate_demo_catalog,
    seed_demo_catalog,
)
from gateway.cli_audit import add_audit_parser, run_audit_command
from gateway.embedded_mongo import free_port
from gateway.settings import Settings
from resolvers.audit import (
    AuditReport,
    Section,
    audit_fallbacks,
    duplicate_skus,
    filled,
    locale_pattern,
    missing_asset_references,
    name_key,
    orphaned_assets,
    pattern_filled,
    run_audit,
    sku_key,
)
from resolvers.db import Catalog
from resolvers.locales import LocaleResolver
from resolvers.normal_forms import normalize_name
from schema.context import Context
from schema.types.audit import CatalogAudit, resolve_catalog_audit
from tests.graphql_helpers import services_for

Database = AsyncDatabase[dict[str, Any]]

PRODUCTS = 300
NOW = datetime(2025, 6, 1, tzinfo=UTC)
ORPHAN = "catalog/orphans/unused-1"
LOCALES = LocaleResolver(DEFAULT_LOCALES, "en-US", {"de-AT": ["de-DE"], "fr-CA": ["fr-FR"]})


def defects() -> PlantedDefects:
    # The generator is deterministic: the same arguments give the seeded catalog's defects.
    return generate_demo_catalog(products=PRODUCTS).defects


def asset(public_id: str, resource_type: str, phash: str, **extra: Any) -> dict[str, Any]:
    return {
        "publicId": public_id,
        "resourceType": resource_type,
        "status": "active",
        "phash": phash,
        "checkedAt": NOW,
        "updatedAt": NOW,
        **extra,
    }


async def seed_demo(db: Database) -> list[dict[str, Any]]:
    """The demo catalog with a mirror record for every reference that is not planted-missing,
    two of them sharing a phash, and one asset no product uses. Returns the mirror records."""
    await seed_demo_catalog(db, products=PRODUCTS)
    records: list[dict[str, Any]] = []
    async for product in db["products"].find({}, {"sku": 1, "media": 1}).sort("sku", 1):
        for reference in product["media"]:
            if reference["publicId"].startswith(MISSING_ASSET_PREFIX):
                continue
            kind = "video" if reference["role"] == "video" else "image"
            phash = f"{len(records):016x}"
            records.append(asset(reference["publicId"], kind, phash, sku=product["sku"]))
    records[1]["phash"] = records[0]["phash"]
    records.append(asset(ORPHAN, "image", "f" * 16))
    await db["assets"].insert_many(records)
    return records


async def audit_demo(db: Database, limit: int = 100) -> AuditReport:
    return await run_audit(
        Catalog(db), locales=LOCALES.locales, limit=limit, fallbacks=audit_fallbacks(LOCALES)
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

    assert set(report.seconds) >= {"duplicate_skus", "orphaned_assets", "total"}


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


@pytest.mark.parametrize(
    "name",
    [
        "Trail Runner",
        "  Trail   Runner ",
        "trail-runner",
        "TRAIL__RUNNER",
        "Écouteurs Sans-Fil",
        "écouteurs\tsans fil",
        "ÉCOUTEURS  SANS_FIL ",
        "Ölkanne Ø 20 cm",
        "---",
    ],
)
async def test_name_normal_form_is_normalize_name(db: Database, name: str) -> None:
    await db["t"].insert_one({"name": name})
    cursor = await db["t"].aggregate([{"$project": {"_id": 0, "key": name_key("$name")}}])
    assert (await cursor.to_list()) == [{"key": normalize_name(name)}]


@pytest.mark.parametrize(
    ("value", "is_filled"),
    [
        ("x", True),
        (0, True),
        (False, True),
        (["x", ""], True),
        ({"en-US": ["x"]}, True),
        ("", False),
        (" \t", False),
        (None, False),
        ([], False),
        ([" ", None], False),
        ({}, False),
        ({"en-US": " ", "de-DE": []}, False),
    ],
)
async def test_blank_values(db: Database, value: Any, is_filled: bool) -> None:
    await db["t"].insert_one({"value": value})
    cursor = await db["t"].aggregate([{"$project": {"_id": 0, "filled": filled("$value")}}])
    assert (await cursor.to_list()) == [{"filled": is_filled}]


async def test_locale_pattern_follows_fallback_chains(db: Database) -> None:
    await db["t"].insert_many(
        [
            {"value": {"en-US": "x", "de-DE": "y", "de-AT": " "}},
            {"value": {"en-US": "x", "de-AT": "z"}},
            {"value": "plain"},
            {"value": ""},
        ]
    )
    chains = [["en-US"], ["de-DE"], ["de-AT", "de-DE"], ["fr-FR"]]
    cursor = await db["t"].aggregate(
        [{"$project": {"_id": 0, "p": locale_pattern("$value", chains)}}], hint={"$natural": 1}
    )
    patterns = [d["p"] for d in await cursor.to_list()]
    assert patterns == ["o11110", "o11010", "s1", "s0"]
    assert pattern_filled("o11010", 4) == (True, [True, False, True, False])
    assert pattern_filled("s1", 4) == (True, [True] * 4)


async def test_sku_normal_form_ignores_case_spaces_dashes_and_underscores(db: Database) -> None:
    spellings = ["AB-12-x", "ab_12_X", " Ab 12x ", "AB12X", "a-b_1 2-x"]
    await db["t"].insert_many([{"sku": sku} for sku in spellings])
    cursor = await db["t"].aggregate([{"$project": {"_id": 0, "key": sku_key("$sku")}}])
    assert {d["key"] for d in await cursor.to_list()} == {"AB12X"}


# ---------------------------------------------------------------------------------------------
# A small, consistent catalog
# ---------------------------------------------------------------------------------------------

CLEAN_LOCALES = ("en-US", "de-DE")
PLACEHOLDER = "placeholders/product"


def text(en: str, de: str) -> dict[str, str]:
    return {"en-US": en, "de-DE": de}


def product(sku: str, categories: list[str], **fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "sku": sku,
        "status": "published",
        "brand": "Acme",
        "name": text(f"Plate {sku}", f"Teller {sku}"),
        "description": text("A plate.", "Ein Teller."),
        "categories": categories,
        "attributes": {
            "material": {"value": text("Porcelain", "Porzellan")},
            "weight": {"value": 0.5, "unit": "kg"},
            "color": {"value": "white"},
        },
        "variants": [],
        "accessories": [],
        "bundle": [],
        "related": [],
        "media": [{"publicId": f"clean/{sku}/hero-1", "role": "hero", "position": 0}],
        "schemaVersion": 1,
        "createdAt": NOW,
        "updatedAt": NOW,
    }
    document.update(fields)
    return document


async def seed_clean(db: Database) -> None:
    await db["attributes"].insert_many(
        [
            {"code": code, "type": kind, "label": text(en, de), "localizable": code == "material"}
            for code, kind, en, de in (
                ("material", "text", "Material", "Material"),
                ("weight", "number", "Weight", "Gewicht"),
                ("color", "enum", "Color", "Farbe"),
            )
        ]
    )
    await db["categories"].insert_many(
        [
            {
                "slug": "home",
                "name": text("Home", "Wohnen"),
                "parent": None,
                "ancestors": [],
                "position": 0,
                "requiredAttributes": ["material"],
            },
            {
                "slug": "plates",
                "name": text("Plates", "Teller"),
                "parent": "home",
                "ancestors": ["home"],
                "position": 0,
                "requiredAttributes": ["weight"],
            },
        ]
    )
    video = {"publicId": "clean/P-1/video-1", "role": "video", "position": 1}
    await db["products"].insert_many(
        [
            product(
                "P-1",
                ["plates"],
                variants=[
                    {"sku": "P-1-RED", "options": {"color": "red"}},
                    {"sku": "P-1-BLUE", "options": {"color": "blue"}},
                ],
                media=[*product("P-1", [])["media"], video],
            ),
            product(
                "P-2",
                ["plates"],
                related=["P-1"],
                accessories=["P-3"],
                bundle=[{"sku": "P-1-RED", "quantity": 2}],
            ),
            product("P-3", ["home"]),
        ]
    )
    await db["assets"].insert_many(
        [
            asset("clean/P-1/hero-1", "image", "01"),
            asset("clean/P-1/video-1", "video", "02", poster="clean/P-1/poster"),
            asset("clean/P-1/poster", "image", "03"),
            asset("clean/P-2/hero-1", "image", "04", status="rejected"),
            asset("clean/P-3/hero-1", "image", "05"),
            asset(PLACEHOLDER, "image", "06"),
            # The mirror remembering that Cloudinary has no such asset: not an orphan.
            asset("clean/gone/hero-1", "image", "07", status="deleted"),
        ]
    )


async def audit_clean(db: Database) -> AuditReport:
    return await run_audit(Catalog(db), locales=CLEAN_LOCALES, linked=[PLACEHOLDER])


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


# ---------------------------------------------------------------------------------------------
# GraphQL and the command line
# ---------------------------------------------------------------------------------------------


@strawberry.type
class AuditQuery:
    """The field as schema/query.py declares it."""

    catalog_audit: CatalogAudit = strawberry.field(
        resolver=resolve_catalog_audit, description="Data-quality audit of the whole catalog."
    )


AUDIT_SCHEMA = strawberry.Schema(query=AuditQuery)
ASSET_FIELDS = "publicId resourceType status sku"
RATE_FIELDS = "field locale scope filled rate"
AUDIT_QUERY = f"""
query Audit($limit: Int!) {{
  catalogAudit(limit: $limit) {{
    locales
    duplicateSkus {{ total examples {{ normalized occurrences {{ sku productSku variant }} }} }}
    duplicateNames {{ total examples {{ brand locale normalized products {{ sku name }} }} }}
    fillRates {{
      total products unusedAttributes
      rates {{ {RATE_FIELDS} }}
      alwaysBlank {{ {RATE_FIELDS} }}
    }}
    missingRequiredAttributes {{
      total examples {{ sku category missing untranslated {{ code locales }} }}
    }}
    orphanedAssets {{ total examples {{ {ASSET_FIELDS} }} }}
    missingAssetReferences {{ total examples {{ sku publicId role resourceType status }} }}
    missingProductReferences {{ total examples {{ sku field missingSku }} }}
    duplicateMedia {{ total examples {{ phash assets {{ {ASSET_FIELDS} }} }} }}
    seconds
  }}
}}
"""


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in ("limit", "seconds")}


async def test_graphql_field_reports_what_run_audit_reports(db: Database) -> None:
    await seed_demo(db)
    services = services_for(Catalog(db))
    context = Context.for_request(services, request_id="test")
    result = await AUDIT_SCHEMA.execute(
        AUDIT_QUERY, variable_values={"limit": 5}, context_value=context
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    data = result.data["catalogAudit"]
    assert data["seconds"] >= 0

    expected = await run_audit(
        Catalog(db),
        locales=services.locales.locales,
        limit=5,
        fallbacks=audit_fallbacks(services.locales),
    )
    assert comparable(data) == comparable(expected.to_json())
    assert data["duplicateSkus"]["total"] == len(defects().sku_collisions)


async def test_graphql_rejects_a_limit_out_of_range(db: Database) -> None:
    context = Context.for_request(services_for(Catalog(db)), request_id="test")
    result = await AUDIT_SCHEMA.execute(
        AUDIT_QUERY, variable_values={"limit": -1}, context_value=context
    )
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "BAD_USER_INPUT", "argumentName": "limit"}


def audit_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="catalog-gateway")
    add_audit_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["audit", *argv])


async def test_cli_prints_tables(
    db: Database, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_demo(db)
    assert await run_audit_command(audit_args("--limit", "2"), settings) == 0
    out = capsys.readouterr().out
    planted = defects()
    headers = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert headers[:8] == [
        f"Duplicate SKUs (case, spaces, - and _ ignored): {len(planted.sku_collisions)} group(s)",
        f"Near-duplicate names (per brand and locale): "
        f"{4 * len(planted.near_duplicate_names)} group(s)",
        f"Fill rates over {PRODUCTS} product(s): 1 always-blank field(s)",
        f"Missing required attributes: {len(planted.missing_required_attributes)} "
        "(product, category) pair(s)",
        "Orphaned assets (used by no product or channel): 1 asset(s)",
        f"References to missing assets: {len(planted.missing_assets)} reference(s)",
        f"References to missing products: {len(planted.broken_references)} reference(s)",
        "Duplicate media (equal perceptual hash): 1 group(s)",
    ]
    assert headers[8].startswith("Audited in ")
    lines = out.splitlines()
    gtin = next(line for line in lines if "attributes.gtin" in line)
    assert gtin.split()[-3:] == ["0.0%", "ALWAYS", "BLANK"]
    header = next(line for line in lines if line.split()[:2] == ["field", "locale"])
    # Columns line up: every row of the fill table has its rate right under the "rate" header.
    rate_end = header.index("rate") + len("rate")
    assert gtin[rate_end - len("0.0%") : rate_end] == "0.0%"
    assert "  ... 1 more (raise --limit to see them)" in lines


async def test_cli_prints_json(
    db: Database, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_demo(db)
    assert await run_audit_command(audit_args("--json"), settings) == 0
    report = json.loads(capsys.readouterr().out)
    expected = await audit_demo(db, limit=20)
    assert comparable(report) == comparable(expected.to_json())
    assert report["limit"] == 20
    assert report["fillRates"]["alwaysBlank"][0]["field"] == f"attributes.{BLANK_ATTRIBUTE}"


def test_cli_rejects_a_bad_limit(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        audit_args("--limit", "many")
    assert "'many' is not a whole number" in capsys.readouterr().err


async def test_cli_fails_in_one_line_when_mongodb_is_unreachable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        mongodb_uri=f"mongodb://127.0.0.1:{free_port()}/",
        mongo_timeout_ms=200,
        data_dir=tmp_path,
    )
    assert await run_audit_command(audit_args(), settings) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("catalog-gateway: error: cannot reach MongoDB: 127.0.0.1:")
