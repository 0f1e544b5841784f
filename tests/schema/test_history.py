"""Change history through GraphQL: Product.history, changeEvents and productRevert, in process,
on a real replica set, with MongoDB commands and examined documents counted."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from strawberry.types import ExecutionResult

from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.access import Principal
from resolvers.db import Catalog, Document, ensure_indexes
from resolvers.history import EventFilter, event_cursor, event_page
from resolvers.services import Services
from resolvers.validation import Violation
from resolvers.workflow.publications import backfill
from resolvers.writes import Actor, ProductWriter, Provenance
from resolvers.writes.history import Operation
from schema.context import Context
from schema.types.history import ChangeOperation
from tests.command_counter import CommandCounter
from tests.graphql_helpers import services_for, shared_schema

pytestmark = pytest.mark.indexed

PROFILES = load_profiles(Settings())
START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def role_principal(role: str, key_id: str, source: str | None = None) -> Principal:
    found = PROFILES.roles.get(role)
    assert found is not None
    return Principal("key", found, f"{role} key", key_id=key_id, source=source)


EDITOR = role_principal("editor", "ed-key")
ERP = role_principal("integration", "erp-key", source="erp")
STOREFRONT = role_principal("storefront", "shop-key")


def no_violations(document: Document, categories: Any) -> list[Violation]:
    return []


def ticking() -> Callable[[], datetime]:
    """A clock one minute further at every reading: events get distinct, known times."""
    minutes: Iterator[int] = itertools.count()
    return lambda: START + timedelta(minutes=next(minutes))


@pytest.fixture
async def catalog(db: AsyncDatabase[dict[str, Any]]) -> Catalog:
    catalog = Catalog(db)
    await ensure_indexes(catalog, PROFILES.locales.locales, PROFILES.channels.names())
    return catalog


@pytest.fixture
def writer(catalog: Catalog) -> ProductWriter:
    return ProductWriter(
        catalog,
        no_violations,
        PROFILES.ownership,
        PROFILES.channels,
        PROFILES.locales,
        clock=ticking(),
    )


@pytest.fixture
def services(catalog: Catalog, writer: ProductWriter) -> Services:
    return services_for(catalog, writer=writer)


def product(sku: str = "H-1", **fields: Any) -> Document:
    document: Document = {
        "sku": sku,
        "status": "published",
        "brand": "Acme",
        "name": {"en-US": "Trail Shoe", "de-DE": "Laufschuh"},
        "attributes": {"material": {"value": "mesh"}},
    }
    document.update(fields)
    return document


async def run(
    services: Services,
    query: str,
    variables: dict[str, Any] | None = None,
    principal: Principal | None = None,
    request_id: str = "test",
    end_user: str | None = None,
) -> ExecutionResult:
    context = Context.for_request(services, request_id, principal or EDITOR, end_user=end_user)
    return await shared_schema().execute(query, variable_values=variables, context_value=context)


async def data(
    services: Services,
    query: str,
    variables: dict[str, Any] | None = None,
    principal: Principal | None = None,
    request_id: str = "test",
    end_user: str | None = None,
) -> dict[str, Any]:
    result = await run(services, query, variables, principal, request_id, end_user)
    assert result.errors is None, [e.formatted for e in result.errors]
    assert result.data is not None
    return result.data


EVENT = """revision operation at requestId importJob
  actor { label keyId name source endUser }
  changes { path before after }"""
HISTORY = f"""query($sku: ID!, $first: Int! = 20, $after: String) {{ product(sku: $sku) {{ revision
  history(first: $first, after: $after) {{
    edges {{ cursor node {{ {EVENT} }} }} pageInfo {{ hasNextPage hasPreviousPage endCursor }}
}} }} }}"""
EVENTS = """query($filter: ChangeEventFilterInput, $first: Int! = 20, $after: String) {
  changeEvents(filter: $filter, first: $first, after: $after) {
    edges { node { sku revision requestId } } pageInfo { hasNextPage endCursor }
} }"""
REVERT = """mutation($input: ProductRevertInput!) { productRevert(input: $input) {
  product { sku revision name(locale: "de-DE") brand }
  revision dryRun changes { path before after }
  errors { __typename code path message
    ... on VersionConflictError { currentRevision currentValues { path value } } }
} }"""


async def history_of(services: Services, sku: str = "H-1", **variables: Any) -> dict[str, Any]:
    found = await data(services, HISTORY, {"sku": sku, **variables})
    return found["product"]["history"]  # type: ignore[no-any-return]


async def test_history_records_actor_request_and_field_level_changes_per_locale(
    writer: ProductWriter, services: Services
) -> None:
    created = await writer.create(
        product(), Actor(Principal.system()), provenance=Provenance("req-1", "job-7")
    )
    assert created.ok
    updated = await writer.update(
        "H-1",
        {"name": {"de-DE": "Wanderschuh"}, "attributes": {"weight": {"value": 300, "unit": "g"}}},
        Actor(EDITOR, end_user="ed@example.com"),
        expected_revision=1,
        provenance=Provenance("req-2"),
    )
    assert updated.written

    edges = (await history_of(services))["edges"]
    assert [e["node"]["revision"] for e in edges] == [2, 1]
    update, create = (e["node"] for e in edges)
    assert update["operation"] == "UPDATE"
    assert update["actor"] == {
        "label": "ed-key",
        "keyId": "ed-key",
        "name": "editor key",
        "source": None,
        "endUser": "ed@example.com",
    }
    assert (update["requestId"], update["importJob"]) == ("req-2", None)
    assert update["changes"] == [
        {"path": ["attributes", "weight"], "before": None, "after": {"value": 300, "unit": "g"}},
        {"path": ["name", "de-DE"], "before": "Laufschuh", "after": "Wanderschuh"},
    ]
    assert create["operation"] == "CREATE"
    assert create["actor"]["label"] == "system"
    assert (create["requestId"], create["importJob"]) == ("req-1", "job-7")
    # Localized values are one path per locale, created ones too.
    assert {"path": ["name", "en-US"], "before": None, "after": "Trail Shoe"} in create["changes"]
    assert {"path": ["name", "de-DE"], "before": None, "after": "Laufschuh"} in create["changes"]
    assert datetime.fromisoformat(update["at"]) > datetime.fromisoformat(create["at"])


async def five_revisions(writer: ProductWriter, sku: str = "H-1") -> None:
    assert (await writer.create(product(sku), Actor(EDITOR))).ok
    for revision, brand in enumerate(["B", "C", "D", "E"], start=1):
        result = await writer.update(
            sku, {"brand": brand}, Actor(EDITOR), expected_revision=revision
        )
        assert result.written


async def test_history_pages_newest_first_with_opaque_cursors(
    writer: ProductWriter, services: Services
) -> None:
    await five_revisions(writer)
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        page = await history_of(services, first=2, after=after)
        seen += [e["node"]["revision"] for e in page["edges"]]
        pages += 1
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert page["edges"][-1]["cursor"] == after
    assert (seen, pages) == ([5, 4, 3, 2, 1], 3)

    # A changeEvents cursor is for another order, a forged one holds no revision: both refused
    # here, and the product still answers.
    events = await data(services, EVENTS, {"first": 1})
    other_order = events["changeEvents"]["pageInfo"]["endCursor"]
    forged = base64.urlsafe_b64encode(b'["revision",1,"5","%s"]' % (b"0" * 24)).decode()
    for wrong in (other_order, forged, "not a cursor"):
        result = await run(services, HISTORY, {"sku": "H-1", "after": wrong})
        assert result.data is not None
        assert result.data["product"] == {"revision": 5, "history": None}
        assert result.errors is not None
        assert result.errors[0].extensions is not None
        assert result.errors[0].extensions["code"] == "BAD_USER_INPUT", wrong


async def test_change_events_filters_and_pages(writer: ProductWriter, services: Services) -> None:
    assert (await writer.create(product("A"), Actor(EDITOR), provenance=Provenance("r-1"))).ok
    assert (await writer.create(product("B"), Actor(EDITOR), provenance=Provenance("r-2"))).ok
    price = {"attributes": {"price": {"value": 79}}}
    erp = await writer.update(
        "B", price, Actor(ERP), expected_revision=1, provenance=Provenance("r-3", "job-1")
    )
    assert erp.written, erp.failures
    update = await writer.update(
        "A", {"brand": "Z"}, Actor(EDITOR), expected_revision=1, provenance=Provenance("r-4")
    )
    assert update.written
    everything = await data(services, EVENTS)
    nodes = everything["changeEvents"]["edges"]
    newest_first = [("A", 2), ("B", 2), ("B", 1), ("A", 1)]
    assert [(n["node"]["sku"], n["node"]["revision"]) for n in nodes] == newest_first

    async def skus(**event_filter: Any) -> list[tuple[str, int]]:
        found = await data(services, EVENTS, {"filter": event_filter})
        return [(e["node"]["sku"], e["node"]["revision"]) for e in found["changeEvents"]["edges"]]

    assert await skus(sku="A") == [("A", 2), ("A", 1)]
    assert await skus(actor="ed-key") == [("A", 2), ("B", 1), ("A", 1)]
    assert await skus(actor="erp-key") == [("B", 2)]
    assert await skus(source="erp") == [("B", 2)]
    assert await skus(importJob="job-1") == [("B", 2)]
    assert await skus(requestId="r-4") == [("A", 2)]
    assert await skus(sku="A", actor="erp-key") == []
    b_1 = await writer.catalog.change_events.find_one({"sku": "B", "revision": 1})
    assert b_1 is not None
    at = b_1["at"].isoformat()
    assert await skus(since=at) == [("A", 2), ("B", 2), ("B", 1)]
    assert await skus(until=at) == [("A", 1)]
    assert await skus(since=at, actor="ed-key") == [("A", 2), ("B", 1)]

    seen: list[tuple[str, int]] = []
    after = None
    while True:
        found = await data(services, EVENTS, {"first": 1, "after": after})
        page = found["changeEvents"]
        seen += [(e["node"]["sku"], e["node"]["revision"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == newest_first


async def test_events_at_the_same_time_page_by_id_without_loss_or_repeats(
    catalog: Catalog, services: Services
) -> None:
    writer = ProductWriter(
        catalog,
        no_violations,
        PROFILES.ownership,
        PROFILES.channels,
        PROFILES.locales,
        clock=lambda: START,
    )
    for sku in ("A", "B", "C", "D", "E"):
        assert (await writer.create(product(sku), Actor(EDITOR))).ok
    seen: list[str] = []
    after = None
    while True:
        found = await data(services, EVENTS, {"first": 2, "after": after})
        page = found["changeEvents"]
        seen += [e["node"]["sku"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == ["A", "B", "C", "D", "E"]
    assert len(seen) == 5


async def scanned(catalog: Catalog) -> tuple[int, int]:
    """The server's counts of index keys and documents examined so far (tests run one at a
    time against their own mongod, so a difference is what one query examined)."""
    status = await catalog.db.client.admin.command("serverStatus")
    executor = status["metrics"]["queryExecutor"]
    return int(executor["scanned"]), int(executor["scannedObjects"])


async def test_both_queries_are_index_walks_that_stop_after_the_page(
    writer: ProductWriter, catalog: Catalog, services: Services
) -> None:
    """20 products with 5 revisions each (100 events), after the one old event each filter
    below matches: a page examines only the documents it returns (and the one it peeks at),
    whatever the filter, and history on a page of 10 products is one command examining 10 * 3."""
    old = await writer.create(
        product("Z-OLD"), Actor(Principal.system()), provenance=Provenance("r-old", "job-old")
    )
    assert old.ok
    price = {"attributes": {"price": {"value": 5}}}
    assert (await writer.update("Z-OLD", price, Actor(ERP), expected_revision=1)).written
    for n in range(20):
        await five_revisions(writer, f"S-{n:02}")
    second_page = (await event_page(catalog, EventFilter(actor="ed-key"), 2, None)).end_cursor
    # (filter, cursor, events returned, documents examined): after a cursor, also the
    # cursor's own event (the index bound on ``at`` includes it; the _id tie-break drops it).
    cases: list[tuple[EventFilter, str | None, int, int]] = [
        (EventFilter(), None, 3, 3),
        (EventFilter(since=START), None, 3, 3),
        (EventFilter(actor="ed-key"), second_page, 3, 4),
        (EventFilter(sku="S-07"), None, 3, 3),
        (EventFilter(actor="system"), None, 1, 1),
        (EventFilter(source="erp"), None, 1, 1),
        (EventFilter(import_job="job-old"), None, 1, 1),
        (EventFilter(request_id="r-old"), None, 1, 1),
    ]
    for event_filter, after, expected, examined in cases:
        plan = await event_cursor(catalog, event_filter, 2, after).explain()
        assert "SORT" not in str(plan["queryPlanner"]["winningPlan"]), event_filter
        before = await scanned(catalog)
        events = await event_cursor(catalog, event_filter, 2, after).to_list()
        after_read = await scanned(catalog)
        assert len(events) == expected, event_filter
        assert after_read[1] - before[1] == examined, event_filter

    query = """{ products(first: 10) { edges { node { sku
      history(first: 2) { edges { node { revision } } pageInfo { hasNextPage } } } } } }"""
    before = await scanned(catalog)
    found = await data(services, query)
    done = await scanned(catalog)
    edges = found["products"]["edges"]
    assert len(edges) == 10
    for edge in edges:
        history = edge["node"]["history"]
        assert [e["node"]["revision"] for e in history["edges"]] == [5, 4]
        assert history["pageInfo"]["hasNextPage"] is True
    # The products page (11 documents) plus 10 * 3 events.
    assert done[1] - before[1] == 11 + 30


async def test_history_on_a_page_is_one_command(
    writer: ProductWriter, services: Services, command_counter: CommandCounter, db_name: str
) -> None:
    for n in range(12):
        await five_revisions(writer, f"S-{n:02}")
    query = """{ products(first: 12) { edges { node { sku
      history(first: 3) { edges { node { revision } } } } } } }"""
    with command_counter.record(db_name) as recorded:
        found = await data(services, query)
    assert len(found["products"]["edges"]) == 12
    assert recorded.names()["aggregate:change_events"] == 1
    assert sum(n for c, n in recorded.names().items() if c.endswith(":change_events")) == 1


async def test_a_storefront_key_is_forbidden_and_costs_no_command(
    writer: ProductWriter, services: Services, command_counter: CommandCounter, db_name: str
) -> None:
    assert (await writer.create(product(), Actor(EDITOR))).ok
    # Published on every channel, so that storefronts may read it.
    await backfill(writer.catalog, PROFILES.channels, PROFILES.locales, START)
    with command_counter.record(db_name) as recorded:
        result = await run(services, EVENTS, principal=STOREFRONT)
    assert result.data == {"changeEvents": None}
    assert result.errors is not None
    assert len(result.errors) == 1
    assert result.errors[0].extensions is not None
    assert result.errors[0].extensions["code"] == "FORBIDDEN"
    assert len(recorded) == 0

    with command_counter.record(db_name) as recorded:
        result = await run(services, HISTORY, {"sku": "H-1"}, principal=STOREFRONT)
    # The product answers (it is published); only its history is refused.
    assert result.data == {"product": {"revision": 1, "history": None}}
    assert result.errors is not None
    assert len(result.errors) == 1
    assert result.errors[0].path == ["product", "history"]
    assert result.errors[0].extensions is not None
    assert result.errors[0].extensions["code"] == "FORBIDDEN"
    assert not any(c.endswith(":change_events") for c in recorded.names())

    revert = {"input": {"sku": "H-1", "toRevision": 1}}
    with command_counter.record(db_name) as recorded:
        result = await run(services, REVERT, revert, principal=STOREFRONT)
    assert result.data == {"productRevert": None}
    assert result.errors is not None
    assert result.errors[0].extensions is not None
    assert result.errors[0].extensions["code"] == "FORBIDDEN"
    assert len(recorded) == 0


async def test_revert_writes_a_new_revision_equal_to_the_old_one(
    writer: ProductWriter, catalog: Catalog, services: Services
) -> None:
    assert (await writer.create(product(), Actor(EDITOR))).ok
    revision_1 = await history_state(catalog)
    changed = {"brand": "Other", "name": {"de-DE": "Wanderschuh"}}
    assert (await writer.update("H-1", changed, Actor(EDITOR), expected_revision=1)).written
    assert (await writer.update("H-1", {"brand": "Third"}, Actor(EDITOR), expected_revision=2)).ok

    variables = {"input": {"sku": "H-1", "toRevision": 1, "expectedRevision": 3}}
    found = await data(
        services, REVERT, variables, request_id="req-revert", end_user="ed@example.com"
    )
    payload = found["productRevert"]
    assert payload["errors"] == []
    assert payload["dryRun"] is False
    assert payload["revision"] == 4
    assert payload["product"] == {"sku": "H-1", "revision": 4, "name": "Laufschuh", "brand": "Acme"}
    assert payload["changes"] == [
        {"path": ["brand"], "before": "Third", "after": "Acme"},
        {"path": ["name", "de-DE"], "before": "Wanderschuh", "after": "Laufschuh"},
    ]
    assert await history_state(catalog) == revision_1
    event = await catalog.change_events.find_one({"sku": "H-1", "revision": 4})
    assert event is not None
    assert (event["operation"], event["requestId"]) == ("revert", "req-revert")
    assert (event["actor"]["label"], event["actor"]["endUser"]) == ("ed-key", "ed@example.com")


async def history_state(catalog: Catalog) -> Document:
    """The product's fields, without bookkeeping."""
    stored = await catalog.products.find_one(
        {"sku": "H-1"},
        {
            "_id": 0,
            "revision": 0,
            "updatedAt": 0,
            "createdAt": 0,
            "readiness": 0,
            "readinessBasedOn": 0,
        },
    )
    assert stored is not None
    return stored


async def test_revert_dry_run_writes_nothing(
    writer: ProductWriter, catalog: Catalog, services: Services
) -> None:
    assert (await writer.create(product(), Actor(EDITOR))).ok
    assert (await writer.update("H-1", {"brand": "B"}, Actor(EDITOR), expected_revision=1)).ok
    stored = await catalog.products.find_one({"sku": "H-1"})
    events = await catalog.change_events.count_documents({})

    variables = {"input": {"sku": "H-1", "toRevision": 1, "dryRun": True}}
    payload = (await data(services, REVERT, variables))["productRevert"]
    assert payload["errors"] == []
    assert (payload["dryRun"], payload["revision"]) == (True, 3)
    assert payload["product"]["brand"] == "Acme"
    assert payload["changes"] == [{"path": ["brand"], "before": "B", "after": "Acme"}]
    assert await catalog.products.find_one({"sku": "H-1"}) == stored
    assert await catalog.change_events.count_documents({}) == events


async def test_revert_errors_are_data(writer: ProductWriter, services: Services) -> None:
    assert (await writer.create(product(), Actor(EDITOR))).ok
    assert (await writer.update("H-1", {"brand": "B"}, Actor(EDITOR), expected_revision=1)).ok

    async def errors(**given: Any) -> list[dict[str, Any]]:
        found = await data(services, REVERT, {"input": given})
        return found["productRevert"]["errors"]  # type: ignore[no-any-return]

    [missing] = await errors(sku="NOPE", toRevision=1)
    assert (missing["__typename"], missing["path"]) == ("NotFoundError", ["input", "sku"])
    [revision] = await errors(sku="H-1", toRevision=7)
    assert (revision["__typename"], revision["path"]) == ("NotFoundError", ["input", "toRevision"])
    [stale] = await errors(sku="H-1", toRevision=1, expectedRevision=1)
    assert stale["code"] == "VERSION_CONFLICT"
    assert stale["currentRevision"] == 2
    assert stale["currentValues"] == [{"path": ["brand"], "value": "B"}]


def test_every_recorded_operation_has_a_graphql_value() -> None:
    """An operation a writer records but the enum lacks would fail every page showing it."""
    assert {o.value for o in ChangeOperation} == set(get_args(Operation))
