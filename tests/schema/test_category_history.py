"""Category.history: a category's events from categoryCreate, categoryUpdate and categoryMove,
newest first and paged, read for audit:read only, one command for many categories."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.types import ExecutionResult

from gateway.settings import Settings
from resolvers.access import Principal
from resolvers.db import Catalog, ensure_indexes
from resolvers.services import Services
from schema.context import Context
from tests.command_counter import CommandCounter
from tests.graphql_helpers import services_for, shared_schema
from tests.schema.test_category_mutations import (
    CREATE,
    EDITOR,
    MOVE,
    STOREFRONT,
    UPDATE,
    Db,
    data,
    node,
)
from tests.schema.test_category_mutations import principal as role_principal

VIEWER = role_principal("viewer")
HISTORY = """query($slug: String!, $first: Int! = 20, $after: String) {
  category(slug: $slug) { slug history(first: $first, after: $after) {
    edges { cursor node { slug revision operation requestId
      actor { keyId endUser } changes { path before after } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
} } }"""


@pytest.fixture
async def services(db: Db, settings: Settings) -> Services:
    catalog = Catalog(db)
    await ensure_indexes(catalog, settings.locales)
    await catalog.categories.insert_many([node("shoes", None, [], 0), node("bags", None, [], 1)])
    return services_for(catalog, settings)


async def query(
    services: Services, variables: dict[str, Any], who: Principal = VIEWER
) -> ExecutionResult:
    context = Context.for_request(services, "req-read", who)
    return await shared_schema().execute(HISTORY, variable_values=variables, context_value=context)


async def history(services: Services, **variables: Any) -> dict[str, Any]:
    result = await query(services, variables)
    assert result.errors is None, [e.formatted for e in result.errors]
    assert result.data is not None
    found: dict[str, Any] = result.data["category"]["history"]
    return found


async def three_revisions(services: Services) -> None:
    name = [{"locale": "en-US", "value": "Road"}]
    assert (await data(services, CREATE, {"slug": "road", "name": name}))["errors"] == []
    renamed = [{"locale": "de-DE", "value": "Straße"}]
    assert (await data(services, UPDATE, {"slug": "road", "name": renamed}))["errors"] == []
    assert (await data(services, MOVE, {"slug": "road", "parent": "shoes"}))["errors"] == []


async def test_history_pages_newest_first_with_who_and_what_changed(services: Services) -> None:
    await three_revisions(services)

    first = await history(services, slug="road", first=2)
    events = [edge["node"] for edge in first["edges"]]
    assert [(e["revision"], e["operation"]) for e in events] == [(3, "MOVE"), (2, "UPDATE")]
    assert {(e["slug"], e["requestId"]) for e in events} == {("road", "req-cat")}
    assert events[0]["actor"] == {"keyId": "editor-key", "endUser": "ann@example.com"}
    assert {"path": ["parent"], "before": None, "after": "shoes"} in events[0]["changes"]
    assert events[1]["changes"] == [{"path": ["name", "de-DE"], "before": None, "after": "Straße"}]
    assert first["pageInfo"]["hasNextPage"] is True

    rest = await history(services, slug="road", first=2, after=first["pageInfo"]["endCursor"])
    assert [(e["node"]["revision"], e["node"]["operation"]) for e in rest["edges"]] == [
        (1, "CREATE")
    ]
    assert rest["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "endCursor": rest["edges"][0]["cursor"],
    }
    # A category no write has touched since history began has none.
    assert (await history(services, slug="bags"))["edges"] == []


async def test_a_storefront_key_is_forbidden_and_reads_no_event(
    services: Services, command_counter: CommandCounter, db_name: str
) -> None:
    await three_revisions(services)
    with command_counter.record(db_name) as recorded:
        result = await query(services, {"slug": "road"}, STOREFRONT)
    # The category answers; only its history is refused.
    assert result.data == {"category": {"slug": "road", "history": None}}
    assert result.errors is not None
    [error] = result.errors
    assert error.path == ["category", "history"]
    assert error.extensions is not None
    assert error.extensions["code"] == "FORBIDDEN"
    assert not any(name.endswith(":category_events") for name in recorded.names())


async def test_a_malformed_cursor_is_bad_user_input(services: Services) -> None:
    await three_revisions(services)
    result = await query(services, {"slug": "road", "after": "not-a-cursor"})
    assert result.errors is not None
    [error] = result.errors
    assert error.path == ["category", "history"]
    assert error.extensions is not None
    assert error.extensions["code"] == "BAD_USER_INPUT"


async def test_the_histories_of_many_categories_are_one_command(
    services: Services, command_counter: CommandCounter, db_name: str
) -> None:
    for n in range(5):
        name = [{"locale": "en-US", "value": f"Kind {n}"}]
        await data(services, CREATE, {"slug": f"kind-{n}", "name": name, "parent": "shoes"})
        renamed = [{"locale": "en-US", "value": f"Kind {n}b"}]
        await data(services, UPDATE, {"slug": f"kind-{n}", "name": renamed})
    children = """{ category(slug: "shoes") { children { slug
      history(first: 1) { edges { node { revision } } pageInfo { hasNextPage } } } } }"""
    context = Context.for_request(services, "req-read", EDITOR)
    with command_counter.record(db_name) as recorded:
        result = await shared_schema().execute(children, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    kinds = result.data["category"]["children"]
    assert [k["slug"] for k in kinds] == [f"kind-{n}" for n in range(5)]
    for kind in kinds:
        assert kind["history"] == {
            "edges": [{"node": {"revision": 2}}],
            "pageInfo": {"hasNextPage": True},
        }
    events = {name: n for name, n in recorded.names().items() if name.endswith(":category_events")}
    assert events == {"aggregate:category_events": 1}
