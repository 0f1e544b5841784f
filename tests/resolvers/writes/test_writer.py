"""ProductWriter on a real replica set: revisions, merges, conflicts, ownership, dry runs,
transactions, history and revert, with MongoDB commands counted."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.access.principal import Principal
from resolvers.db import Catalog, Document, ensure_indexes
from resolvers.validation import Validator, Violation
from resolvers.writes.changes import FieldChange
from resolvers.writes.history import Actor, Provenance, product_history
from resolvers.writes.ownership import OwnershipViolation
from resolvers.writes.writer import (
    AlreadyExists,
    CurrentValue,
    NotFound,
    OwnershipFailure,
    ProductWriter,
    RevisionNotFound,
    ValidationFailure,
    VersionConflict,
    revision_of,
    validate_with,
)
from tests.command_counter import CommandCounter

pytestmark = pytest.mark.indexed

PROFILES = load_profiles(Settings())
LOCALES, CHANNELS, ROLES, OWNERSHIP = (
    PROFILES.locales,
    PROFILES.channels,
    PROFILES.roles,
    PROFILES.ownership,
)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MAX_NAME = 30


def role(name: str) -> Any:
    found = ROLES.get(name)
    assert found is not None
    return found


EDITOR = Actor(Principal("key", role("editor"), "Ed", key_id="ed-key"), end_user="ed@example.com")
ERP = Actor(Principal("key", role("integration"), "ERP sync", key_id="erp-key", source="erp"))


def name_lengths(document: Document, categories: Sequence[Document]) -> Sequence[Violation]:
    """A stand-in rule (the real validator is resolvers.validation's): names up to 30."""
    return [
        Violation(("name", locale), "TOO_LONG", "too long", "name.max_length", MAX_NAME)
        for locale, text in (document.get("name") or {}).items()
        if len(text) > MAX_NAME
    ]


def product(sku: str = "P-1", **fields: Any) -> Document:
    document: Document = {
        "sku": sku,
        "status": "draft",
        "brand": "Acme",
        "name": {"en-US": "Trail Shoe", "de-DE": "Laufschuh"},
        "description": {"en-US": "Light."},
        "categories": ["shoes"],
        "attributes": {"price": {"value": 99}, "weight": {"value": 300, "unit": "g"}},
        "variants": [{"sku": f"{sku}-S", "options": {"size": "S"}, "stock": 3}],
        "accessories": [],
        "bundle": [],
        "related": [],
        "media": [],
    }
    document.update(fields)
    return document


@pytest.fixture
async def catalog(db: AsyncDatabase[dict[str, Any]]) -> Catalog:
    catalog = Catalog(db)
    await ensure_indexes(catalog, LOCALES.locales, CHANNELS.names())
    return catalog


@pytest.fixture
def writer(catalog: Catalog) -> ProductWriter:
    return ProductWriter(catalog, name_lengths, OWNERSHIP, CHANNELS, LOCALES, clock=lambda: NOW)


async def created(writer: ProductWriter, document: Document | None = None) -> Document:
    result = await writer.create(document or product(), Actor(Principal.system()))
    assert result.ok, result.failures
    assert result.product is not None
    return result.product


async def counts(catalog: Catalog) -> tuple[int, int]:
    return (
        await catalog.products.count_documents({}),
        await catalog.change_events.count_documents({}),
    )


async def test_create_stores_revision_1_schema_2_an_event_and_readiness(
    writer: ProductWriter, catalog: Catalog
) -> None:
    result = await writer.create(
        product(), Actor(Principal.system()), provenance=Provenance("req-1", "job-7")
    )
    assert result.ok
    assert result.revision == 1
    stored = await catalog.products.find_one({"sku": "P-1"})
    assert stored is not None
    assert (stored["revision"], stored["schemaVersion"]) == (1, 2)
    assert set(stored["readiness"]) == set(CHANNELS.names())
    [event] = await catalog.change_events.find().to_list()
    assert (event["revision"], event["operation"], event["requestId"], event["importJob"]) == (
        1,
        "create",
        "req-1",
        "job-7",
    )
    assert {"path": ["name", "de-DE"], "before": None, "after": "Laufschuh"} in event["changes"]
    again = await writer.create(product(), Actor(Principal.system()))
    assert again.failures == (AlreadyExists("P-1"),)


async def test_update_bumps_the_revision_and_records_field_level_history(
    writer: ProductWriter, catalog: Catalog
) -> None:
    await created(writer)
    result = await writer.update(
        "P-1",
        {"name": {"de-DE": "Trailschuh"}, "variants": {"P-1-S": {"options": {"size": "XS"}}}},
        EDITOR,
        expected_revision=1,
        provenance=Provenance("req-2"),
    )
    assert result.written
    assert result.revision == 2
    assert result.product is not None
    assert result.product["name"]["de-DE"] == "Trailschuh"
    event = await catalog.change_events.find_one({"revision": 2})
    assert event is not None
    assert event["actor"] == {
        "label": "ed-key",
        "keyId": "ed-key",
        "name": "Ed",
        "source": None,
        "endUser": "ed@example.com",
    }
    assert event["changes"] == [
        {"path": ["name", "de-DE"], "before": "Laufschuh", "after": "Trailschuh"},
        {
            "path": ["variants", "P-1-S", "options"],
            "before": {"size": "S"},
            "after": {"size": "XS"},
        },
    ]
    assert event["requestId"] == "req-2"
    assert event["productId"] is not None


async def test_a_write_that_changes_nothing_bumps_nothing_and_records_nothing(
    writer: ProductWriter, catalog: Catalog
) -> None:
    await created(writer)
    before = await counts(catalog)
    result = await writer.update(
        "P-1", {"name": {"de-DE": "Laufschuh"}}, EDITOR, expected_revision=1
    )
    assert result.ok
    assert not result.written
    assert result.changes == ()
    assert result.revision == 1
    assert await counts(catalog) == before
    stored = await catalog.products.find_one({"sku": "P-1"})
    assert stored is not None
    assert stored["revision"] == 1


async def test_a_stale_revision_merges_when_the_paths_are_disjoint(
    writer: ProductWriter, catalog: Catalog
) -> None:
    await created(writer)
    first = await writer.update("P-1", {"name": {"de-DE": "Neu"}}, EDITOR, expected_revision=1)
    second = await writer.update("P-1", {"name": {"fr-FR": "Nouveau"}}, EDITOR, expected_revision=1)
    assert first.revision == 2
    assert second.revision == 3
    assert second.ok
    stored = await catalog.products.find_one({"sku": "P-1"})
    assert stored is not None
    assert (stored["name"]["de-DE"], stored["name"]["fr-FR"]) == ("Neu", "Nouveau")


async def test_a_stale_revision_changing_a_changed_field_is_a_conflict_with_current_values(
    writer: ProductWriter, catalog: Catalog
) -> None:
    await created(writer)
    await writer.update("P-1", {"name": {"de-DE": "Neu"}}, EDITOR, expected_revision=1)
    # The variant carries stock, which the ERP owns: only an in-process caller removes it.
    system = Actor(Principal.system())
    await writer.update("P-1", {"variants": {"P-1-S": None}}, system, expected_revision=2)
    before = await counts(catalog)
    result = await writer.update(
        "P-1",
        {"name": {"de-DE": "Anders", "fr-FR": "Autre"}, "variants": {"P-1-S": {"stock": 9}}},
        EDITOR,
        expected_revision=1,
    )
    assert result.failures == (
        VersionConflict(
            1,
            3,
            (
                CurrentValue(("name", "de-DE"), "Neu"),
                CurrentValue(("variants", "P-1-S"), None),
            ),
        ),
    )
    assert result.revision == 3
    assert await counts(catalog) == before


async def test_history_that_cannot_say_what_changed_conflicts_on_every_path(
    writer: ProductWriter, catalog: Catalog
) -> None:
    # At revision 4 with no events: written by something that kept no history.
    await catalog.products.insert_one({**product(), "schemaVersion": 2, "revision": 4})
    result = await writer.update("P-1", {"brand": "Other"}, EDITOR, expected_revision=2)
    assert result.failures == (VersionConflict(2, 4, (CurrentValue(("brand",), "Acme"),)),)


async def test_a_schema_1_document_reads_as_revision_1_and_is_written_as_schema_2(
    writer: ProductWriter, catalog: Catalog
) -> None:
    await catalog.products.insert_one({**product(), "schemaVersion": 1})
    result = await writer.update("P-1", {"brand": "Other"}, EDITOR, expected_revision=1)
    assert result.written
    assert result.revision == 2
    stored = await catalog.products.find_one({"sku": "P-1"})
    assert stored is not None
    assert (stored["revision"], stored["schemaVersion"]) == (2, 2)


async def test_two_writers_at_once_lose_no_update(writer: ProductWriter, catalog: Catalog) -> None:
    await created(writer)
    results = await asyncio.gather(
        writer.update("P-1", {"name": {"de-DE": "A"}}, EDITOR, expected_revision=1),
        writer.update("P-1", {"brand": "B"}, EDITOR, expected_revision=1),
    )
    assert all(r.written for r in results)
    assert sorted(r.revision or 0 for r in results) == [2, 3]
    stored = await catalog.products.find_one({"sku": "P-1"})
    assert stored is not None
    assert (stored["name"]["de-DE"], stored["brand"], stored["revision"]) == ("A", "B", 3)
    assert await catalog.change_events.count_documents({"sku": "P-1"}) == 3


async def test_a_writer_that_comes_in_between_read_and_write_is_merged_not_overwritten(
    catalog: Catalog, mongodb_uri: str, db_name: str
) -> None:
    interleaved: list[str] = []

    def validate_and_interleave(
        document: Document, categories: Sequence[Document]
    ) -> Sequence[Violation]:
        # Runs between the writer's read and its compare-and-set: the first time, another
        # process changes another field of the product and records its revision.
        if not interleaved and document.get("brand") == "Mine":
            interleaved.append("done")
            with MongoClient[dict[str, Any]](mongodb_uri) as client:
                db = client[db_name]
                db.products.update_one(
                    {"sku": "P-1"}, {"$set": {"name.fr-FR": "Autre", "revision": 2}}
                )
                db.change_events.insert_one(
                    {"sku": "P-1", "revision": 2, "changes": [{"path": ["name", "fr-FR"]}]}
                )
        return []

    writer = ProductWriter(
        catalog, validate_and_interleave, OWNERSHIP, CHANNELS, LOCALES, clock=lambda: NOW
    )
    await created(writer)
    result = await writer.update("P-1", {"brand": "Mine"}, EDITOR, expected_revision=1)
    assert result.written
    assert result.revision == 3
    assert result.attempts == 2
    stored = await catalog.products.find_one({"sku": "P-1"})
    assert stored is not None
    assert (stored["brand"], stored["name"]["fr-FR"]) == ("Mine", "Autre")


async def test_a_field_another_system_owns_is_refused_naming_the_owner(
    writer: ProductWriter, catalog: Catalog
) -> None:
    await created(writer)
    before = await counts(catalog)
    refused = await writer.update(
        "P-1",
        {"attributes": {"price": {"value": 120}}, "name": {"de-DE": "X"}},
        EDITOR,
        expected_revision=1,
    )
    assert refused.failures == (
        OwnershipFailure((OwnershipViolation(("attributes", "price"), "erp"),)),
    )
    assert await counts(catalog) == before
    erp = await writer.update(
        "P-1", {"attributes": {"price": {"value": 120}}}, ERP, expected_revision=1
    )
    assert erp.written
    erp_name = await writer.update("P-1", {"name": {"de-DE": "X"}}, ERP, expected_revision=2)
    assert erp_name.failures == (OwnershipFailure((OwnershipViolation(("name", "de-DE"), "pim"),)),)


async def test_validation_blocks_what_a_write_makes_worse_only(
    writer: ProductWriter, catalog: Catalog
) -> None:
    long = "x" * (MAX_NAME + 1)
    await catalog.products.insert_one(product(name={"en-US": long}))
    unrelated = await writer.update("P-1", {"brand": "Other"}, EDITOR, expected_revision=1)
    assert unrelated.written, "a defect already stored does not block another field"
    worse = await writer.update("P-1", {"name": {"de-DE": long}}, EDITOR, expected_revision=2)
    assert worse.failures == (
        ValidationFailure(
            (Violation(("name", "de-DE"), "TOO_LONG", "too long", "name.max_length", MAX_NAME),)
        ),
    )
    read_only = await writer.update("P-1", {"revision": 7}, EDITOR, expected_revision=2)
    [failure] = read_only.failures
    assert isinstance(failure, ValidationFailure)
    assert failure.violations[0].code == "READ_ONLY"


async def test_a_dry_run_returns_the_would_be_change_set_and_writes_nothing(
    writer: ProductWriter, catalog: Catalog
) -> None:
    await created(writer)
    before = await counts(catalog)
    stored_before = await catalog.products.find_one({"sku": "P-1"})
    result = await writer.update(
        "P-1", {"name": {"de-DE": "Neu"}}, EDITOR, expected_revision=1, dry_run=True
    )
    assert result.ok
    assert result.dry_run
    assert not result.written
    assert result.revision == 2
    assert result.changes == (FieldChange(("name", "de-DE"), "Laufschuh", "Neu"),)
    # Without the price and stock the ERP owns, which an editor may not set.
    editorial = product("P-2", attributes={"weight": {"value": 1, "unit": "kg"}}, variants=[])
    created_dry = await writer.create(editorial, EDITOR, dry_run=True)
    assert created_dry.ok
    assert created_dry.revision == 1
    assert await counts(catalog) == before
    assert await catalog.products.find_one({"sku": "P-1"}) == stored_before


async def test_a_failure_after_the_product_write_leaves_neither_change_nor_event(
    writer: ProductWriter, catalog: Catalog
) -> None:
    await created(writer)
    # An event for revision 2 already there: the writer's own event insert fails on the
    # (sku, revision) unique index after its product update, inside the transaction.
    await catalog.change_events.insert_one({"sku": "P-1", "revision": 2, "changes": []})
    before = await counts(catalog)
    stored_before = await catalog.products.find_one({"sku": "P-1"})
    with pytest.raises(DuplicateKeyError):
        await writer.update("P-1", {"brand": "Other"}, EDITOR, expected_revision=1)
    assert await counts(catalog) == before
    assert await catalog.products.find_one({"sku": "P-1"}) == stored_before


async def test_archive_restore_and_not_found(writer: ProductWriter, catalog: Catalog) -> None:
    await created(writer)
    archived = await writer.archive("P-1", EDITOR, expected_revision=1)
    assert archived.product is not None
    assert archived.product["status"] == "archived"
    assert (await writer.archive("P-1", EDITOR)).changes == ()
    restored = await writer.restore("P-1", EDITOR, expected_revision=2)
    assert restored.product is not None
    assert restored.product["status"] == "draft"
    operations = [e["operation"] async for e in catalog.change_events.find().sort("revision", 1)]
    assert operations == ["create", "archive", "restore"]
    missing = await writer.update("NOPE", {"brand": "X"}, EDITOR, expected_revision=1)
    assert missing.failures == (NotFound("NOPE"),)


async def test_revert_writes_a_new_revision_equal_to_an_old_one(
    writer: ProductWriter, catalog: Catalog
) -> None:
    original = await created(writer)
    await writer.update(
        "P-1", {"name": {"de-DE": "Neu", "it-IT": "Nuovo"}}, EDITOR, expected_revision=1
    )
    await writer.update(
        "P-1",
        {"variants": {"P-1-M": {"options": {"size": "M"}}}, "related": ["Q"]},
        EDITOR,
        expected_revision=2,
    )
    result = await writer.revert_to("P-1", 1, EDITOR)
    assert result.written
    assert result.revision == 4
    stored = await catalog.products.find_one({"sku": "P-1"})
    assert stored is not None

    def fields(document: Document) -> Document:
        skip = {"_id", "revision", "updatedAt", "readiness", "readinessBasedOn", "schemaVersion"}
        return {k: v for k, v in document.items() if k not in skip and v not in ([], {})}

    assert fields(stored) == fields(original)
    event = await catalog.change_events.find_one({"revision": 4})
    assert event is not None
    assert event["operation"] == "revert"
    assert (await writer.revert_to("P-1", 0, EDITOR)).failures == (RevisionNotFound("P-1", 0),)


async def test_mongodb_commands_per_update_are_counted(
    writer: ProductWriter, catalog: Catalog, command_counter: CommandCounter
) -> None:
    await created(writer)
    await writer.update("P-1", {"name": {"de-DE": "Neu"}}, EDITOR, expected_revision=1)
    # Every database: commitTransaction goes to admin.
    db = None
    with command_counter.record(db) as fresh:
        await writer.update("P-1", {"brand": "B"}, EDITOR, expected_revision=2)
    with command_counter.record(db) as stale:
        await writer.update("P-1", {"name": {"fr-FR": "F"}}, EDITOR, expected_revision=2)
    with command_counter.record(db) as noop:
        await writer.update("P-1", {"brand": "B"}, EDITOR, expected_revision=3)
    rescore = Counter(
        {
            "find:products": 2,  # the page, and the empty page after it
            "find:assets": 1,
            "find:categories": 1,
            "find:attributes": 1,
            "update:products": 1,
        }
    )
    write = Counter(
        {
            "find:products": 1,
            "find:categories": 1,  # validation: what the product's categories require
            "update:products": 1,
            "insert:change_events": 1,
            "commitTransaction:1": 1,  # (the command's value, 1, stands where a collection would)
        }
    )
    assert fresh.names() == write + rescore
    assert stale.names() == write + rescore + Counter({"find:change_events": 1})
    assert noop.names() == Counter({"find:products": 1})
    assert revision_of({"sku": "v1"}) == 1


async def test_the_validator_of_validation_toml_is_wired_with_the_categories(
    catalog: Catalog,
) -> None:
    writer = ProductWriter(
        catalog,
        validate_with(Validator(PROFILES.validation)),
        OWNERSHIP,
        CHANNELS,
        LOCALES,
        clock=lambda: NOW,
    )
    await catalog.products.insert_one(product())
    too_long = "x" * (PROFILES.validation.text.name.max_length + 1)
    result = await writer.update("P-1", {"name": {"de-DE": too_long}}, EDITOR, expected_revision=1)
    [failure] = result.failures
    assert isinstance(failure, ValidationFailure)
    assert [(v.path, v.code) for v in failure.violations] == [(("name", "de-DE"), "TOO_LONG")]


async def test_history_pages_newest_first_by_revision(
    writer: ProductWriter, catalog: Catalog
) -> None:
    await created(writer)
    for revision, brand in enumerate(["B", "C", "D"], start=1):
        await writer.update("P-1", {"brand": brand}, EDITOR, expected_revision=revision)
    first = await product_history(catalog, "P-1", first=2)
    assert [e["revision"] for e in first] == [4, 3]
    assert first[0]["changes"] == [{"path": ["brand"], "before": "C", "after": "D"}]
    rest = await product_history(catalog, "P-1", first=2, before_revision=3)
    assert [e["revision"] for e in rest] == [2, 1]


async def test_history_and_idempotency_indexes_exist(catalog: Catalog) -> None:
    events = {i["name"] async for i in await catalog.change_events.list_indexes()}
    assert {"sku_revision_transition", "at", "actor_at_id", "source_at_id"} <= events
    idempotency = [i async for i in await catalog.idempotency.list_indexes()]
    assert [i.get("expireAfterSeconds") for i in idempotency if i["name"] != "_id_"] == [0]


async def test_create_refuses_a_missing_sku_and_a_variant_sku_of_another_product(
    writer: ProductWriter, catalog: Catalog
) -> None:
    await created(writer)
    system = Actor(Principal.system())
    no_sku = await writer.create({"brand": "Acme"}, system)
    [failure] = no_sku.failures
    assert isinstance(failure, ValidationFailure)
    assert [(v.path, v.code) for v in failure.violations] == [(("sku",), "REQUIRED")]
    taken = product("P-2", variants=[{"sku": "P-1-S", "options": {"size": "S"}}])
    before = await counts(catalog)
    clash = await writer.create(taken, system)
    [failure] = clash.failures
    assert isinstance(failure, ValidationFailure)
    assert [(v.path, v.code) for v in failure.violations] == [(("variants", "P-1-S"), "DUPLICATE")]
    assert await counts(catalog) == before


async def test_an_update_taking_another_products_variant_sku_is_a_validation_failure(
    writer: ProductWriter, catalog: Catalog
) -> None:
    await created(writer)
    await created(writer, product("P-2", variants=[]))
    before = await counts(catalog)
    result = await writer.update(
        "P-2", {"variants": {"P-1-S": {"options": {"size": "S"}}}}, EDITOR, expected_revision=1
    )
    [failure] = result.failures
    assert isinstance(failure, ValidationFailure)
    assert [(v.path, v.code) for v in failure.violations] == [(("variants", "P-1-S"), "DUPLICATE")]
    assert await counts(catalog) == before
