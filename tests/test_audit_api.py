"""The audit through the gateway's own schema."""

from typing import Any

from demo.catalog import generate_demo_catalog, seed_demo_catalog
from resolvers.db import Catalog, ensure_indexes
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
    for collision in defects.sku_collisions:
        assert {collision.sku, collision.colliding_sku} in found
    assert audit["missingProductReferences"]["total"] == len(defects.broken_references)
