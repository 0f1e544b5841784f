"""The product mutations in-process: each UserError type, merges, no-ops, dry runs, references,
permissions, and the MongoDB commands each mutation costs."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from strawberry.types import ExecutionResult

from gateway.services import load_profiles, product_writer
from gateway.settings import Settings
from resolvers.access import Principal, Role
from resolvers.db import Catalog, ensure_indexes
from resolvers.services import Services
from schema.context import Context
from tests.command_counter import CommandCounter
from tests.graphql_helpers import services_for, shared_schema

pytestmark = pytest.mark.indexed

Db = AsyncDatabase[dict[str, Any]]
PROFILES = load_profiles(Settings())

ERRORS = """errors {
  __typename code path message
  ... on ValidationError { rule limit }
  ... on VersionConflictError { currentRevision currentValues { path value } }
  ... on FieldOwnershipError { owner }
}"""
PRODUCT = 'product { sku revision status brand name(locale: "en-US") }'
PAYLOAD = f"{PRODUCT} revision changes {{ path before after }} dryRun {ERRORS}"
CREATE = f"mutation($input: ProductCreateInput!) {{ productCreate(input: $input) {{ {PAYLOAD} }} }}"
UPDATE = f"mutation($input: ProductUpdateInput!) {{ productUpdate(input: $input) {{ {PAYLOAD} }} }}"
ARCHIVE = (
    f"mutation($input: ProductStatusInput!) {{ productArchive(input: $input) {{ {PAYLOAD} }} }}"
)
RESTORE = (
    f"mutation($input: ProductStatusInput!) {{ productRestore(input: $input) {{ {PAYLOAD} }} }}"
)

DESCRIPTION = "A light trail shoe for long runs."


def role(name: str) -> Role:
    found = PROFILES.roles.get(name)
    assert found is not None
    return found


EDITOR = Principal("key", role("editor"), "Ed", key_id="ed-key")
LEAD = Principal("key", role("lead"), "Lee", key_id="lead-key")
ERP = Principal("key", role("integration"), "ERP sync", key_id="erp-key", source="erp")


def shoe(sku: str = "P-1", **fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "sku": sku,
        "brand": "Acme",
        "name": [{"locale": "en-US", "value": "Trail Shoe"}],
        "description": [{"locale": "en-US", "value": DESCRIPTION}],
        "attributes": [{"code": "weight", "value": 300, "unit": "g"}],
    }
    document.update(fields)
    return document


@pytest.fixture
async def catalog(db: Db) -> Catalog:
    catalog = Catalog(db)
    await ensure_indexes(catalog, PROFILES.locales.locales, PROFILES.channels.names())
    return catalog


@pytest.fixture
def services(catalog: Catalog) -> Services:
    return services_for(catalog, writer=product_writer(catalog, PROFILES))


async def run(
    services: Services,
    query: str,
    variables: dict[str, Any],
    principal: Principal = EDITOR,
    **context: Any,
) -> ExecutionResult:
    ctx = Context.for_request(services, "req-test", principal, **context)
    return await shared_schema().execute(query, variable_values=variables, context_value=ctx)


async def payload(
    services: Services,
    query: str,
    input: dict[str, Any],
    principal: Principal = EDITOR,
    **context: Any,
) -> dict[str, Any]:
    result = await run(services, query, {"input": input}, principal, **context)
    assert result.errors is None, [e.formatted for e in result.errors]
    assert result.data is not None
    (value,) = result.data.values()
    assert isinstance(value, dict)
    return value


async def counts(catalog: Catalog) -> tuple[int, int]:
    return (
        await catalog.products.count_documents({}),
        await catalog.change_events.count_documents({}),
    )


async def test_create_answers_the_product_revision_and_changes_and_records_the_end_user(
    services: Services, catalog: Catalog
) -> None:
    created = await payload(services, CREATE, shoe(), end_user="ed@example.com")
    assert created["errors"] == []
    assert created["product"] == {
        "sku": "P-1",
        "revision": 1,
        "status": "DRAFT",
        "brand": "Acme",
        "name": "Trail Shoe",
    }
    assert (created["revision"], created["dryRun"]) == (1, False)
    assert {"path": ["name", "en-US"], "before": None, "after": "Trail Shoe"} in created["changes"]
    event = await catalog.change_events.find_one({"sku": "P-1"})
    assert event is not None
    assert event["actor"]["endUser"] == "ed@example.com"
    assert event["actor"]["keyId"] == "ed-key"
    assert event["requestId"] == "req-test"


async def test_a_validation_error_names_the_rule_and_its_limit(services: Services) -> None:
    long_name = [{"locale": "de-DE", "value": "x" * 151}]
    refused = await payload(services, CREATE, shoe(name=long_name))
    assert refused["product"] is None
    assert refused["errors"] == [
        {
            "__typename": "ValidationError",
            "code": "TOO_LONG",
            "path": ["input", "name", "de-DE"],
            "message": refused["errors"][0]["message"],
            "rule": "text.name.max_length",
            "limit": 150,
        }
    ]


async def test_a_stale_revision_conflicts_on_the_same_field_with_its_current_value(
    services: Services, catalog: Catalog
) -> None:
    await payload(services, CREATE, shoe())
    first = {"sku": "P-1", "expectedRevision": 1, "name": [{"locale": "en-US", "value": "Trail"}]}
    assert (await payload(services, UPDATE, first))["revision"] == 2
    stale = {**first, "name": [{"locale": "en-US", "value": "Trail Runner"}]}
    before = await counts(catalog)
    conflict = await payload(services, UPDATE, stale)
    assert conflict["errors"] == [
        {
            "__typename": "VersionConflictError",
            "code": "VERSION_CONFLICT",
            "path": None,
            "message": "changed since revision 1: name.en-US; the product is at revision 2",
            "currentRevision": 2,
            "currentValues": [{"path": ["name", "en-US"], "value": "Trail"}],
        }
    ]
    assert conflict["product"]["revision"] == 2
    assert await counts(catalog) == before


async def test_concurrent_updates_of_disjoint_fields_merge(services: Services) -> None:
    await payload(services, CREATE, shoe())
    name = {"sku": "P-1", "expectedRevision": 1, "name": [{"locale": "en-US", "value": "Trail"}]}
    brand = {"sku": "P-1", "expectedRevision": 1, "brand": "Northwind"}
    assert (await payload(services, UPDATE, name))["errors"] == []
    merged = await payload(services, UPDATE, brand)
    assert merged["errors"] == []
    assert merged["product"] == {
        "sku": "P-1",
        "revision": 3,
        "status": "DRAFT",
        "brand": "Northwind",
        "name": "Trail",
    }
    assert merged["changes"] == [{"path": ["brand"], "before": "Acme", "after": "Northwind"}]


async def test_a_field_another_system_owns_is_refused_naming_the_owner(
    services: Services, catalog: Catalog
) -> None:
    await payload(services, CREATE, shoe())
    before = await counts(catalog)
    name = {"sku": "P-1", "expectedRevision": 1, "name": [{"locale": "de-DE", "value": "Schuh"}]}
    refused = await payload(services, UPDATE, name, ERP)
    assert refused["errors"] == [
        {
            "__typename": "FieldOwnershipError",
            "code": "FIELD_OWNED",
            "path": ["input", "name", "de-DE"],
            "message": "name.de-DE is owned by 'pim'",
            "owner": "pim",
        }
    ]
    assert await counts(catalog) == before
    gtin = [{"code": "gtin", "value": "4006381333931"}]
    owned = await payload(
        services, UPDATE, {"sku": "P-1", "expectedRevision": 1, "attributes": gtin}, ERP
    )
    assert (owned["errors"], owned["revision"]) == ([], 2)


async def test_not_found_and_input_errors(services: Services) -> None:
    missing = await payload(services, UPDATE, {"sku": "NOPE", "expectedRevision": 1, "brand": "B"})
    assert missing["errors"] == [
        {
            "__typename": "NotFoundError",
            "code": "NOT_FOUND",
            "path": ["input", "sku"],
            "message": "no product with SKU 'NOPE'",
        }
    ]
    archived = await payload(services, ARCHIVE, {"sku": "NOPE"})
    assert [e["__typename"] for e in archived["errors"]] == ["NotFoundError"]
    await payload(services, CREATE, shoe())
    again = await payload(services, CREATE, shoe())
    assert again["errors"] == [
        {
            "__typename": "InputError",
            "code": "ALREADY_EXISTS",
            "path": ["input", "sku"],
            "message": "a product with SKU 'P-1' exists already",
        }
    ]


async def test_references_are_checked_against_the_mirror_and_the_catalog(
    services: Services, catalog: Catalog
) -> None:
    await catalog.assets.insert_many(
        [
            {"publicId": "catalog/P-1/hero-1", "resourceType": "image", "status": "active"},
            {"publicId": "catalog/P-1/bad-1", "resourceType": "image", "status": "rejected"},
        ]
    )
    media = [
        {"publicId": "catalog/P-1/hero-1", "role": "HERO"},
        {"publicId": "catalog/P-1/bad-1", "role": "FRONT"},
        {"publicId": "catalog/nowhere", "role": "SIDE"},
    ]
    refused = await payload(
        services, CREATE, shoe(media=media, accessories=["P-404"], bundleItems=[{"sku": "P-405"}])
    )
    assert [(e["__typename"], e["code"], e["path"]) for e in refused["errors"]] == [
        ("ValidationError", "REJECTED_ASSET", ["input", "media", "catalog/P-1/bad-1"]),
        ("ValidationError", "UNKNOWN_REFERENCE", ["input", "media", "catalog/nowhere"]),
        ("ValidationError", "UNKNOWN_REFERENCE", ["input", "accessories", "P-404"]),
        ("ValidationError", "UNKNOWN_REFERENCE", ["input", "bundleItems", "P-405"]),
    ]
    assert await counts(catalog) == (0, 0)
    created = await payload(services, CREATE, shoe(media=media[:1]))
    assert created["errors"] == []


async def test_media_attach_detach_and_order_by_public_id(
    services: Services, catalog: Catalog
) -> None:
    ids = ["catalog/P-1/hero-1", "catalog/P-1/side-1", "catalog/P-1/back-1"]
    await catalog.assets.insert_many(
        [{"publicId": i, "resourceType": "image", "status": "active"} for i in ids]
    )
    await payload(services, CREATE, shoe(media=[{"publicId": ids[0], "role": "HERO"}]))
    media = {
        "attach": [{"publicId": ids[1], "role": "SIDE"}, {"publicId": ids[2], "role": "BACK"}],
        "order": [ids[2]],
    }
    updated = await payload(services, UPDATE, {"sku": "P-1", "expectedRevision": 1, "media": media})
    assert updated["errors"] == []
    stored = await catalog.products.find_one({"sku": "P-1"})
    assert stored is not None
    assert [(m["publicId"], m["position"]) for m in stored["media"]] == [
        (ids[2], 0),
        (ids[0], 1),
        (ids[1], 2),
    ]
    detach = {"sku": "P-1", "expectedRevision": 2, "media": {"detach": [ids[0], "catalog/x"]}}
    refused = await payload(services, UPDATE, detach)
    assert [(e["__typename"], e["path"]) for e in refused["errors"]] == [
        ("NotFoundError", ["input", "media", "detach", "catalog/x"])
    ]


async def test_variants_are_added_updated_and_removed_by_sku(
    services: Services, catalog: Catalog
) -> None:
    variant = {"sku": "P-1-S", "options": [{"code": "size", "value": "S"}]}
    await payload(services, CREATE, shoe(variants=[variant]))
    changes = {
        "add": [{"sku": "P-1-M", "options": [{"code": "size", "value": "M"}]}],
        "update": [{"sku": "P-1-S", "attributes": [{"code": "weight", "value": 280, "unit": "g"}]}],
    }
    updated = await payload(
        services, UPDATE, {"sku": "P-1", "expectedRevision": 1, "variants": changes}
    )
    assert updated["errors"] == []
    assert [c["path"] for c in updated["changes"]] == [
        ["variants", "P-1-S", "attributes", "weight"],
        ["variants", "P-1-M"],
    ]
    remove = {"add": [variant], "remove": ["P-1-M", "P-1-XL"]}
    refused = await payload(
        services, UPDATE, {"sku": "P-1", "expectedRevision": 2, "variants": remove}
    )
    assert [(e["__typename"], e["code"], e["path"]) for e in refused["errors"]] == [
        ("InputError", "ALREADY_EXISTS", ["input", "variants", "add", "P-1-S"]),
        ("NotFoundError", "NOT_FOUND", ["input", "variants", "remove", "P-1-XL"]),
    ]
    stored = await catalog.products.find_one({"sku": "P-1"})
    assert stored is not None
    assert [v["sku"] for v in stored["variants"]] == ["P-1-S", "P-1-M"]


async def test_an_update_that_changes_nothing_bumps_no_revision(
    services: Services, catalog: Catalog
) -> None:
    await payload(services, CREATE, shoe())
    before = await counts(catalog)
    same = await payload(services, UPDATE, {"sku": "P-1", "expectedRevision": 1, "brand": "Acme"})
    assert (same["errors"], same["changes"], same["revision"]) == ([], [], 1)
    assert same["product"]["revision"] == 1
    assert await counts(catalog) == before


async def test_a_dry_run_writes_nothing(services: Services, catalog: Catalog) -> None:
    dry = await payload(services, CREATE, {**shoe(), "dryRun": True})
    assert (dry["errors"], dry["dryRun"], dry["revision"], dry["product"]) == ([], True, 1, None)
    assert dry["changes"]
    assert await counts(catalog) == (0, 0)
    await payload(services, CREATE, shoe())
    before = await counts(catalog)
    update = {"sku": "P-1", "expectedRevision": 1, "brand": "B", "dryRun": True}
    would = await payload(services, UPDATE, update)
    assert would["changes"] == [{"path": ["brand"], "before": "Acme", "after": "B"}]
    assert (would["revision"], would["product"]["brand"]) == (2, "B")
    archive = await payload(services, ARCHIVE, {"sku": "P-1", "dryRun": True})
    assert archive["product"]["status"] == "ARCHIVED"
    assert await counts(catalog) == before
    stored = await catalog.products.find_one({"sku": "P-1"})
    assert stored is not None
    assert (stored["brand"], stored["status"], stored["revision"]) == ("Acme", "draft", 1)


async def test_archive_and_restore(services: Services) -> None:
    await payload(services, CREATE, shoe())
    archived = await payload(services, ARCHIVE, {"sku": "P-1", "expectedRevision": 1})
    assert (archived["product"]["status"], archived["revision"]) == ("ARCHIVED", 2)
    again = await payload(services, ARCHIVE, {"sku": "P-1"})
    assert (again["changes"], again["revision"]) == ([], 2)
    restored = await payload(services, RESTORE, {"sku": "P-1"})
    assert (restored["product"]["status"], restored["revision"]) == ("DRAFT", 3)


async def test_publishing_needs_catalog_publish(
    services: Services, catalog: Catalog, command_counter: CommandCounter
) -> None:
    await payload(services, CREATE, shoe())
    publish = {"sku": "P-1", "expectedRevision": 1, "status": "PUBLISHED"}
    with command_counter.record() as refused_commands:
        refused = await payload(services, UPDATE, publish)
        created = await payload(services, CREATE, shoe("P-2", status="PUBLISHED"))
    assert len(refused_commands) == 0
    for answer in (refused, created):
        assert answer["errors"] == [
            {
                "__typename": "InputError",
                "code": "NOT_PERMITTED",
                "path": ["input", "status"],
                "message": "publishing needs the 'catalog:publish' scope",
            }
        ]
    # A lead gets past the scope, to the validation publishing asks for (every locale's name).
    lead = await payload(services, UPDATE, publish, LEAD)
    assert {(e["__typename"], e["code"]) for e in lead["errors"]} == {
        ("ValidationError", "REQUIRED")
    }
    assert ["input", "name", "de-DE"] in [e["path"] for e in lead["errors"]]


@pytest.mark.parametrize("name", ["storefront", "viewer"])
@pytest.mark.parametrize(
    ("query", "input"),
    [
        (CREATE, shoe()),
        (UPDATE, {"sku": "P-1", "expectedRevision": 1, "brand": "B"}),
        (ARCHIVE, {"sku": "P-1"}),
        (RESTORE, {"sku": "P-1"}),
    ],
)
async def test_without_catalog_write_every_mutation_is_forbidden_before_mongodb(
    services: Services,
    command_counter: CommandCounter,
    name: str,
    query: str,
    input: dict[str, Any],
) -> None:
    reader = Principal("key", role(name), "reader", key_id="r-key")
    with command_counter.record() as recorded:
        result = await run(services, query, {"input": input}, reader)
    assert len(recorded) == 0
    assert result.data is not None
    assert list(result.data.values()) == [None]
    assert result.errors is not None
    assert [(e.extensions or {}).get("code") for e in result.errors] == ["FORBIDDEN"]
    assert [(e.extensions or {}).get("scope") for e in result.errors] == ["catalog:write"]


async def test_mongodb_commands_per_mutation(
    services: Services, catalog: Catalog, command_counter: CommandCounter
) -> None:
    rescore = Counter(
        {
            "find:products": 2,  # the page, and the empty page after it
            "find:assets": 1,
            "find:categories": 1,
            "find:attributes": 1,
            "update:products": 1,
        }
    )
    # Every database: commitTransaction goes to admin.
    with command_counter.record() as create:
        await payload(services, CREATE, shoe(categories=[]))
    assert create.names() == rescore + Counter(
        {
            "find:products": 1,  # the SKU is free
            "insert:products": 1,
            "insert:change_events": 1,
            "commitTransaction:1": 1,
        }
    )
    with command_counter.record() as update:
        await payload(services, UPDATE, {"sku": "P-1", "expectedRevision": 1, "brand": "B"})
    assert update.names() == rescore + Counter(
        {
            "find:products": 1,
            "update:products": 1,
            "insert:change_events": 1,
            "commitTransaction:1": 1,
        }
    )
    with command_counter.record() as noop:
        await payload(services, UPDATE, {"sku": "P-1", "expectedRevision": 2, "brand": "B"})
    assert noop.names() == Counter({"find:products": 1})
    await payload(services, CREATE, shoe("P-2"))
    with command_counter.record() as linked:
        await payload(services, UPDATE, {"sku": "P-1", "expectedRevision": 2, "related": ["P-2"]})
    assert linked.names() == rescore + Counter(
        {
            "find:products": 2,  # the related SKUs exist; the product
            "update:products": 1,
            "insert:change_events": 1,
            "commitTransaction:1": 1,
        }
    )


async def test_a_product_cannot_be_its_own_accessory(services: Services) -> None:
    await payload(services, CREATE, shoe())
    answer = await payload(
        services, UPDATE, {"sku": "P-1", "expectedRevision": 1, "accessories": ["P-1"]}
    )
    assert answer["revision"] is None or answer["revision"] == 1
    [error] = answer["errors"]
    assert error["__typename"] == "ValidationError"
    assert error["path"] == ["input", "accessories", "P-1"]
    assert error["rule"] == "links.accessories"


async def test_concurrent_updates_of_disjoint_fields_both_land(
    services: Services, catalog: Catalog
) -> None:
    await payload(services, CREATE, shoe())
    name = {"sku": "P-1", "expectedRevision": 1, "name": [{"locale": "en-US", "value": "Trail"}]}
    brand = {"sku": "P-1", "expectedRevision": 1, "brand": "Northwind"}
    answers = await asyncio.gather(
        payload(services, UPDATE, name), payload(services, UPDATE, brand)
    )
    assert [a["errors"] for a in answers] == [[], []]
    assert sorted(a["revision"] for a in answers) == [2, 3]
    stored = await catalog.products.find_one({"sku": "P-1"})
    assert stored is not None
    assert (stored["name"]["en-US"], stored["brand"], stored["revision"]) == (
        "Trail",
        "Northwind",
        3,
    )
    assert await catalog.change_events.count_documents({"sku": "P-1"}) == 3


async def test_the_payloads_product_resolves_its_linked_fields(
    services: Services, catalog: Catalog
) -> None:
    await catalog.assets.insert_one(
        {"publicId": "catalog/P-1/hero-1", "resourceType": "image", "status": "active"}
    )
    query = """mutation($input: ProductCreateInput!) { productCreate(input: $input) {
      product { readiness(channel: "web") { score } heroImage(channel: "web") { publicId } }
      errors { code }
    } }"""
    media = [{"publicId": "catalog/P-1/hero-1", "role": "HERO"}]
    result = await run(services, query, {"input": shoe(media=media)})
    assert result.errors is None, [e.formatted for e in result.errors]
    assert result.data is not None
    created = result.data["productCreate"]
    assert created["errors"] == []
    assert created["product"]["heroImage"] == {"publicId": "catalog/P-1/hero-1"}
    assert isinstance(created["product"]["readiness"]["score"], int)


async def test_an_unexpected_failure_is_masked_and_frees_its_idempotency_key(
    catalog: Catalog,
) -> None:
    without_writer = services_for(catalog)
    result = await run(without_writer, CREATE, {"input": shoe()}, idempotency_key="k-1")
    assert result.data == {"productCreate": None}
    assert result.errors is not None
    assert [(e.extensions or {}).get("code") for e in result.errors] == ["INTERNAL_SERVER_ERROR"]
    assert "product writer" not in result.errors[0].message
    # The claim is released: the client's retry runs instead of being told the key is in use.
    assert await catalog.idempotency.count_documents({}) == 0
    assert await counts(catalog) == (0, 0)
