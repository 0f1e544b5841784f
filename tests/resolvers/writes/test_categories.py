"""CategoryWriter on a real replica set: slugs, parents, positions, moves of subtrees (cycles
refused, ancestors rewritten), dry runs, history and rescoring, with MongoDB commands counted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.access.principal import Principal
from resolvers.db import Catalog, Document, ensure_indexes
from resolvers.validation import Violation
from resolvers.writes import Actor, Provenance, ValidationFailure
from resolvers.writes.categories import (
    CategoryNotFound,
    CategoryWriter,
    CycleFailure,
    SlugTaken,
)
from resolvers.writes.changes import FieldChange
from tests.command_counter import CommandCounter

PROFILES = load_profiles(Settings())
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
EDITOR_ROLE = PROFILES.roles.get("editor")
assert EDITOR_ROLE is not None
EDITOR = Actor(Principal("key", EDITOR_ROLE, "Ed", key_id="ed-key"), end_user="ed@example.com")


def category(slug: str, parent: str | None, ancestors: list[str], position: int) -> Document:
    return {
        "slug": slug,
        "name": {"en-US": slug.title()},
        "parent": parent,
        "ancestors": ancestors,
        "position": position,
        "requiredAttributes": [],
    }


# shoes ─┬─ running ── trail
#        └─ hiking
# bags
TREE = [
    category("shoes", None, [], 0),
    category("bags", None, [], 1),
    category("running", "shoes", ["shoes"], 0),
    category("hiking", "shoes", ["shoes"], 1),
    category("trail", "running", ["shoes", "running"], 0),
]


@pytest.fixture
async def writer(db: AsyncDatabase[dict[str, Any]]) -> CategoryWriter:
    catalog = Catalog(db)
    await ensure_indexes(catalog, PROFILES.locales.locales)
    await catalog.categories.insert_many([dict(c) for c in TREE])
    await catalog.attributes.insert_many([{"code": "weight"}, {"code": "color"}])
    return CategoryWriter(catalog, PROFILES.channels, PROFILES.locales, clock=lambda: NOW)


async def tree(writer: CategoryWriter) -> dict[str, tuple[str | None, list[str], int]]:
    found = writer.catalog.categories.find({}, {"_id": 0})
    return {c["slug"]: (c["parent"], c["ancestors"], c["position"]) async for c in found}


async def events(writer: CategoryWriter) -> list[Document]:
    found = writer.catalog.category_events.find({}, {"_id": 0, "categoryId": 0})
    return await found.sort("at", 1).to_list()


async def test_create_under_a_parent_at_a_position(writer: CategoryWriter) -> None:
    result = await writer.create(
        "road",
        {"en-US": "Road", "de-de": "Straße"},
        EDITOR,
        parent="running",
        position=0,
        required_attributes=["weight"],
        provenance=Provenance(request_id="req-1"),
    )

    assert result.written
    assert result.category is not None
    assert (result.category["ancestors"], result.category["revision"]) == (
        ["shoes", "running"],
        1,
    )
    layout = await tree(writer)
    assert layout["road"] == ("running", ["shoes", "running"], 0)
    assert layout["trail"] == ("running", ["shoes", "running"], 1)  # moved down one
    (event,) = await events(writer)
    assert event["entity"] == "category"
    assert (event["slug"], event["revision"], event["operation"]) == ("road", 1, "create")
    assert (event["actor"]["keyId"], event["actor"]["endUser"]) == ("ed-key", "ed@example.com")
    assert event["requestId"] == "req-1"
    assert event["changes"][:2] == [
        {"path": ["name", "de-DE"], "before": None, "after": "Straße"},
        {"path": ["name", "en-US"], "before": None, "after": "Road"},
    ]


async def test_create_refusals_are_values(writer: CategoryWriter) -> None:
    taken = await writer.create("bags", {"en-US": "Bags"}, EDITOR)
    assert taken.failures == (SlugTaken("bags"),)

    orphan = await writer.create("x", {"en-US": "X"}, EDITOR, parent="nope")
    assert orphan.failures == (CategoryNotFound("nope", ("parent",)),)

    invalid = await writer.create(
        "Bad Slug", {"en-US": " "}, EDITOR, required_attributes=["weight", "gtin"]
    )
    (failure,) = invalid.failures
    assert isinstance(failure, ValidationFailure)
    assert [(v.path, v.code) for v in failure.violations] == [
        (("slug",), "PATTERN"),
        (("name", "en-US"), "REQUIRED"),
        (("requiredAttributes", 1), "UNKNOWN_ATTRIBUTE"),
    ]
    assert await writer.catalog.categories.count_documents({}) == len(TREE)
    assert await events(writer) == []


async def test_a_move_under_its_own_descendant_is_a_cycle(writer: CategoryWriter) -> None:
    before = await tree(writer)

    under_grandchild = await writer.move("shoes", EDITOR, parent="trail")
    under_itself = await writer.move("running", EDITOR, parent="running")

    assert under_grandchild.failures == (CycleFailure("shoes", "trail"),)
    assert under_itself.failures == (CycleFailure("running", "running"),)
    assert await tree(writer) == before
    assert await events(writer) == []


async def test_a_move_rewrites_the_subtree_and_both_sibling_lists(
    writer: CategoryWriter, command_counter: CommandCounter
) -> None:
    with command_counter.record(writer.catalog.db.name) as recorded:
        result = await writer.move("running", EDITOR, parent="bags", position=0)

    assert result.written
    assert result.descendants == 1
    assert await tree(writer) == {
        "shoes": (None, [], 0),
        "bags": (None, [], 1),
        "hiking": ("shoes", ["shoes"], 0),  # closed the gap
        "running": ("bags", ["bags"], 0),
        "trail": ("running", ["bags", "running"], 0),  # the subtree follows
    }
    (event,) = await events(writer)
    assert (event["operation"], event["revision"]) == ("move", 2)
    assert [FieldChange.from_document(c) for c in event["changes"]] == [
        FieldChange(("parent",), "shoes", "bags"),
        FieldChange(("ancestors",), ["shoes"], ["bags"]),
    ]
    # Lock, 3 reads (category, parent, siblings) + descendants count, 2 sibling shifts,
    # the category, its subtree, the event (commitTransaction goes to the admin database).
    assert recorded.names() == {
        "update:gateway_locks": 1,
        "find:categories": 2,
        "aggregate:categories": 2,
        "update:categories": 4,
        "insert:category_events": 1,
    }


async def test_a_move_within_its_parent_reorders_siblings(writer: CategoryWriter) -> None:
    result = await writer.move("hiking", EDITOR, parent="shoes", position=0)

    assert result.written
    layout = await tree(writer)
    assert (layout["hiking"][2], layout["running"][2]) == (0, 1)
    assert layout["trail"] == ("running", ["shoes", "running"], 0)
    # Where it already is: nothing changes, nothing is recorded.
    again = await writer.move("hiking", EDITOR, parent="shoes", position=0)
    assert again.ok
    assert not again.written
    assert len(await events(writer)) == 1


async def test_a_dry_run_move_writes_nothing(
    writer: CategoryWriter, command_counter: CommandCounter
) -> None:
    before = await tree(writer)
    with command_counter.record(writer.catalog.db.name) as recorded:
        result = await writer.move("running", EDITOR, parent=None, dry_run=True)

    assert result.dry_run
    assert result.ok
    assert result.category is not None
    assert (result.category["parent"], result.category["position"]) == (None, 2)
    assert await tree(writer) == before
    names = recorded.names()
    assert not [n for n in names if n.split(":")[0] in {"update", "insert", "delete"}]
    assert await events(writer) == []


async def test_concurrent_moves_cannot_make_a_cycle(writer: CategoryWriter) -> None:
    # Alone, each is fine; together they would make hiking and bags each other's parent.
    first, second = await asyncio.gather(
        writer.move("bags", EDITOR, parent="hiking"),
        writer.move("hiking", EDITOR, parent="bags"),
    )

    assert sorted([first.ok, second.ok]) == [False, True]
    (failure,) = (first if not first.ok else second).failures
    assert isinstance(failure, CycleFailure)
    layout = await tree(writer)
    assert layout["bags"][0] != "hiking" or layout["hiking"][0] != "bags"


async def test_update_merges_names_and_rescores_the_category_products(
    writer: CategoryWriter,
) -> None:
    await writer.catalog.products.insert_one(
        {"sku": "P-1", "status": "draft", "categories": ["trail"], "name": {}, "media": []}
    )

    result = await writer.update(
        "trail",
        EDITOR,
        name={"de-DE": "Trail", "en-US": None},
        required_attributes=["weight"],
    )

    assert result.written
    assert result.category is not None
    assert result.category["name"] == {"de-DE": "Trail"}
    assert result.category["requiredAttributes"] == ["weight"]
    (event,) = await events(writer)
    assert (event["operation"], event["revision"]) == ("update", 2)
    stored = await writer.catalog.products.find_one({"sku": "P-1"})
    assert stored is not None
    assert "readiness" in stored

    # The same again changes nothing: no revision, no event.
    same = await writer.update("trail", EDITOR, name={"de-DE": "Trail"})
    assert same.ok
    assert not same.written
    assert len(await events(writer)) == 1

    missing = await writer.update("nope", EDITOR, name={"en-US": "X"})
    assert missing.failures == (CategoryNotFound("nope", ("slug",)),)
    emptied = await writer.update("trail", EDITOR, name={"de-DE": None})
    assert emptied.failures == (
        ValidationFailure(
            (Violation(("name",), "REQUIRED", "a category needs a name", "category.name"),)
        ),
    )
