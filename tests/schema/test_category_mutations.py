"""categoryCreate, categoryUpdate and categoryMove, run in-process as a given principal."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from strawberry.types import ExecutionResult

from gateway.settings import Settings
from resolvers.access import Principal, load_roles
from resolvers.db import Catalog, ensure_indexes
from resolvers.services import Services
from schema.context import Context
from tests.command_counter import CommandCounter
from tests.graphql_helpers import services_for, shared_schema

Db = AsyncDatabase[dict[str, Any]]
ROLES = load_roles(Settings().roles_path)

PAYLOAD = """
    category { slug position level parent { slug } ancestors { slug } }
    changes { path before after }
    dryRun
    errors {
      __typename code path message
      ... on ValidationError { rule limit }
    }
"""
CREATE = (
    f"mutation($input: CategoryCreateInput!) {{ categoryCreate(input: $input) {{ {PAYLOAD} }} }}"
)
UPDATE = (
    f"mutation($input: CategoryUpdateInput!) {{ categoryUpdate(input: $input) {{ {PAYLOAD} }} }}"
)
MOVE = f"mutation($input: CategoryMoveInput!) {{ categoryMove(input: $input) {{ {PAYLOAD} }} }}"


def principal(role: str) -> Principal:
    found = ROLES.get(role)
    assert found is not None
    return Principal("key", found, f"{role} key", key_id=f"{role}-key")


EDITOR, STOREFRONT = principal("editor"), principal("storefront")


def node(slug: str, parent: str | None, ancestors: list[str], position: int) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": {"en-US": slug.title()},
        "parent": parent,
        "ancestors": ancestors,
        "position": position,
        "requiredAttributes": [],
    }


@pytest.fixture
async def services(db: Db, settings: Settings) -> Services:
    catalog = Catalog(db)
    await ensure_indexes(catalog, settings.locales)
    await catalog.categories.insert_many(
        [
            node("shoes", None, [], 0),
            node("bags", None, [], 1),
            node("running", "shoes", ["shoes"], 0),
            node("trail", "running", ["shoes", "running"], 0),
        ]
    )
    await catalog.attributes.insert_one({"code": "weight"})
    return services_for(catalog, settings)


async def run(
    services: Services, who: Principal, query: str, input: dict[str, Any]
) -> ExecutionResult:
    context = Context.for_request(services, "req-cat", who, end_user="ann@example.com")
    return await shared_schema().execute(
        query, variable_values={"input": input}, context_value=context
    )


async def data(services: Services, query: str, input: dict[str, Any]) -> dict[str, Any]:
    result = await run(services, EDITOR, query, input)
    assert result.errors is None, [e.formatted for e in result.errors]
    assert result.data is not None
    (payload,) = result.data.values()
    return dict(payload)


async def test_create_answers_the_category_and_records_who(services: Services) -> None:
    payload = await data(
        services,
        CREATE,
        {
            "slug": "road",
            "name": [{"locale": "en-US", "value": "Road"}],
            "parent": "running",
            "position": 0,
            "requiredAttributes": ["weight"],
        },
    )

    assert payload["errors"] == []
    assert payload["category"] == {
        "slug": "road",
        "position": 0,
        "level": 2,
        "parent": {"slug": "running"},
        "ancestors": [{"slug": "shoes"}, {"slug": "running"}],
    }
    assert {"path": ["name", "en-US"], "before": None, "after": "Road"} in payload["changes"]
    event = await services.catalog.category_events.find_one({"slug": "road"})
    assert event is not None
    assert (event["actor"]["keyId"], event["actor"]["endUser"], event["requestId"]) == (
        "editor-key",
        "ann@example.com",
        "req-cat",
    )


async def test_refusals_are_typed_errors(services: Services) -> None:
    taken = await data(
        services, CREATE, {"slug": "bags", "name": [{"locale": "en-US", "value": "B"}]}
    )
    assert taken["errors"] == [
        {
            "__typename": "InputError",
            "code": "ALREADY_EXISTS",
            "path": ["input", "slug"],
            "message": "a category with slug 'bags' exists already",
        }
    ]
    invalid = await data(
        services,
        CREATE,
        {"slug": "New Slug", "name": [{"locale": "xx-XX", "value": "N"}], "position": -1},
    )
    assert [(e["__typename"], e["code"], e["path"]) for e in invalid["errors"]] == [
        ("ValidationError", "PATTERN", ["input", "slug"]),
        ("ValidationError", "INVALID", ["input", "name", "xx-XX"]),
        ("ValidationError", "RANGE", ["input", "position"]),
    ]
    assert invalid["category"] is None

    missing = await data(services, UPDATE, {"slug": "nope", "name": []})
    assert [(e["__typename"], e["code"], e["path"]) for e in missing["errors"]] == [
        ("NotFoundError", "NOT_FOUND", ["input", "slug"])
    ]


async def test_a_move_under_a_descendant_is_a_cycle_error(services: Services) -> None:
    payload = await data(services, MOVE, {"slug": "shoes", "parent": "trail"})

    assert payload["category"] is None
    assert payload["changes"] == []
    assert [(e["__typename"], e["code"], e["path"]) for e in payload["errors"]] == [
        ("InputError", "CYCLE", ["input", "parent"])
    ]
    assert await services.catalog.category_events.count_documents({}) == 0


async def test_a_move_carries_its_subtree(services: Services) -> None:
    payload = await data(services, MOVE, {"slug": "running", "parent": "bags"})

    assert payload["errors"] == []
    assert payload["category"]["ancestors"] == [{"slug": "bags"}]
    trail = await services.catalog.categories.find_one({"slug": "trail"})
    assert trail is not None
    assert trail["ancestors"] == ["bags", "running"]


async def test_dry_run_answers_the_move_and_writes_nothing(
    services: Services, command_counter: CommandCounter
) -> None:
    with command_counter.record(services.catalog.db.name) as recorded:
        payload = await data(services, MOVE, {"slug": "running", "parent": None, "dryRun": True})

    assert payload["dryRun"] is True
    assert payload["errors"] == []
    assert payload["category"]["level"] == 0
    assert {"path": ["parent"], "before": "shoes", "after": None} in payload["changes"]
    assert not [n for n in recorded.names() if n.split(":")[0] in {"update", "insert", "delete"}]
    running = await services.catalog.categories.find_one({"slug": "running"})
    assert running is not None
    assert running["parent"] == "shoes"


@pytest.mark.parametrize(
    ("query", "input"),
    [
        (CREATE, {"slug": "x", "name": [{"locale": "en-US", "value": "X"}]}),
        (UPDATE, {"slug": "bags", "name": [{"locale": "en-US", "value": "X"}]}),
        (MOVE, {"slug": "bags", "parent": "shoes"}),
    ],
)
async def test_without_catalog_write_it_is_forbidden_before_any_command(
    services: Services, command_counter: CommandCounter, query: str, input: dict[str, Any]
) -> None:
    with command_counter.record(services.catalog.db.name) as recorded:
        result = await run(services, STOREFRONT, query, input)

    assert result.errors is not None
    assert [e.extensions["code"] for e in result.errors if e.extensions] == ["FORBIDDEN"]
    assert len(recorded) == 0
