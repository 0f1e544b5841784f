"""``Query.catalogAudit``: on the gateway's schema, and reporting exactly what ``run_audit``
reports, in the JSON's shape (both derive from the report's dataclasses)."""

from __future__ import annotations

import time
from typing import Any

import strawberry

from demo.catalog import generate_demo_catalog
from demo.seeding import seed_demo_catalog
from gateway.cli.audit import report_json
from resolvers.audit import AuditReport, audit_fallbacks, run_audit
from resolvers.db import Catalog, ensure_indexes
from schema.context import Context
from schema.types.audit import CatalogAudit, resolve_catalog_audit
from tests.fixtures.audit_catalogs import ORPHAN, Database, asset, defects, seed_demo
from tests.graphql_helpers import data_of, services_for


async def test_catalog_audit_is_on_the_query_type(db: Any) -> None:
    catalog = Catalog(db)
    await ensure_indexes(catalog, ["en-US"])
    await seed_demo_catalog(db, products=60)
    data = await data_of(
        services_for(catalog),
        """{ catalogAudit(limit: 50) {
            duplicateSkus { total examples { occurrences { sku } } }
            missingProductReferences { total } } }""",
    )
    defects = generate_demo_catalog(products=60).defects
    audit = data["catalogAudit"]
    assert audit["duplicateSkus"]["total"] == len(defects.sku_collisions)
    found = [{o["sku"] for o in g["occurrences"]} for g in audit["duplicateSkus"]["examples"]]
    assert defects.sku_collisions
    for collision in defects.sku_collisions:
        assert {collision.sku, collision.colliding_sku} in found
    assert audit["missingProductReferences"]["total"] == len(defects.broken_references)


@strawberry.type
class AuditQuery:
    """The field as schema/query.py declares it."""

    catalog_audit: AuditReport = strawberry.field(
        resolver=resolve_catalog_audit,
        graphql_type=CatalogAudit,
        description="Data-quality audit of the whole catalog.",
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
    started = time.perf_counter()
    result = await AUDIT_SCHEMA.execute(
        AUDIT_QUERY, variable_values={"limit": 5}, context_value=context
    )
    elapsed = time.perf_counter() - started
    assert result.errors is None, result.errors
    assert result.data is not None
    data = result.data["catalogAudit"]
    # How long the audit took, in seconds rounded to milliseconds: some, and no more than the
    # request around it.
    assert 0 < data["seconds"] <= round(elapsed, 3)

    expected = await run_audit(
        Catalog(db),
        locales=services.locales.locales,
        limit=5,
        fallbacks=audit_fallbacks(services.locales),
    )
    assert comparable(data) == comparable(report_json(expected))
    assert data["duplicateSkus"]["total"] == len(defects().sku_collisions)


async def test_graphql_rejects_a_limit_out_of_range(db: Database) -> None:
    context = Context.for_request(services_for(Catalog(db)), request_id="test")
    result = await AUDIT_SCHEMA.execute(
        AUDIT_QUERY, variable_values={"limit": -1}, context_value=context
    )
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "BAD_USER_INPUT", "argumentName": "limit"}


async def test_assets_the_channels_deliver_are_not_orphans(db: Database) -> None:
    """Placeholders and watermark overlays are used by the channel profiles, not by products:
    they are no orphans. An asset nothing uses still is."""
    services = services_for(Catalog(db))
    configured = {
        (public_id, slot.resource_type if public_id == slot.placeholder else "image")
        for profile in services.channels.profiles.values()
        for slot in profile.slots.values()
        for public_id in (slot.placeholder, slot.watermark)
        if public_id is not None
    }
    assert ("placeholders/watermark", "image") in configured  # the marketplace preview's
    await db["assets"].insert_many(
        [
            asset(public_id, resource_type, f"{n:016x}")
            for n, (public_id, resource_type) in enumerate(sorted(configured))
        ]
        + [asset(ORPHAN, "image", "f" * 16)]
    )
    data = await data_of(
        services, "{ catalogAudit { orphanedAssets { total examples { publicId } } } }"
    )
    orphans = data["catalogAudit"]["orphanedAssets"]
    assert orphans == {"total": 1, "examples": [{"publicId": ORPHAN}]}
