"""``Query.catalogAudit`` runs once per request, whatever its aliases, and is shared between
requests for the dashboards' TTL (issue 11, item 10). Counted in MongoDB commands."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from resolvers.services import Services
from resolvers.shared_result import SharedResults
from tests.command_counter import CommandCounter
from tests.graphql_helpers import data_of, execute

AUDIT = "duplicateSkus { total } orphanedAssets { total examples { publicId } } seconds"
ONE = f"{{ catalogAudit(limit: 3) {{ {AUDIT} }} }}"
THIRTY = "{ " + " ".join(f"a{n}: catalogAudit(limit: 3) {{ {AUDIT} }}" for n in range(30)) + " }"
MOMENT = datetime(2026, 6, 1, 12, tzinfo=UTC)


def without_seconds(report: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in report.items() if key != "seconds"}


async def test_aliases_share_one_audit(demo: Services, command_counter: CommandCounter) -> None:
    """Uncached (TTL 0), 30 aliases cost the commands of one audit, and answer the same."""
    assert demo.dashboards.ttl_s == 0
    with command_counter.record(demo.catalog.db.name) as one:
        single = (await data_of(demo, ONE))["catalogAudit"]
    with command_counter.record(demo.catalog.db.name) as thirty:
        aliased = await data_of(demo, THIRTY)
    assert len(one) > 0
    assert thirty.names() == one.names()
    answers = list(aliased.values())
    assert answers == [answers[0]] * 30  # one report: even its seconds
    assert without_seconds(answers[0]) == without_seconds(single)


async def test_the_default_limit_is_the_same_arguments(
    demo: Services, command_counter: CommandCounter
) -> None:
    """An omitted limit, null and 20 are one set of arguments: one audit."""
    query = "{ a: catalogAudit { seconds } b: catalogAudit(limit: null) { seconds } "
    query += "c: catalogAudit(limit: 20) { seconds } }"
    with command_counter.record(demo.catalog.db.name) as one:
        await data_of(demo, "{ catalogAudit { seconds } }")
    with command_counter.record(demo.catalog.db.name) as three:
        data = await data_of(demo, query)
    assert three.names() == one.names()
    assert data["a"] == data["b"] == data["c"]  # one report: even its seconds


async def test_aliases_with_other_arguments_are_refused(demo: Services) -> None:
    """The first selection runs; one asking for another limit, literal or variable, would be a
    second audit and is BAD_USER_INPUT (the field is non-null, so data is null)."""
    result = await execute(
        demo,
        "query($n: Int) { a: catalogAudit(limit: 3) { seconds } b: catalogAudit(limit: $n) "
        "{ seconds } }",
        {"n": 4},
    )
    assert result.data is None
    assert result.errors is not None
    (error,) = result.errors
    assert error.path == ["b"]
    assert error.extensions == {"code": "BAD_USER_INPUT", "fieldName": "catalogAudit"}
    assert error.message == (
        "'catalogAudit' runs once per request: its selections must all have the arguments of "
        "the first (limit: 3), not (limit: 4)"
    )


async def test_a_second_request_within_the_ttl_reads_nothing(
    demo: Services, command_counter: CommandCounter
) -> None:
    shared = replace(demo, dashboards=SharedResults(60, wall_clock=lambda: MOMENT))
    with command_counter.record(demo.catalog.db.name) as first:
        answer = await data_of(shared, ONE)
    with command_counter.record(demo.catalog.db.name) as second:
        again = await data_of(shared, THIRTY)
    assert len(first) > 0
    assert len(second) == 0
    assert list(again.values()) == [answer["catalogAudit"]] * 30
    # Keyed by limit, as the report differs: another limit is another audit.
    with command_counter.record(demo.catalog.db.name) as other:
        await data_of(shared, "{ catalogAudit(limit: 4) { seconds } }")
    # The same kinds of commands as the first audit (their number may include a readiness
    # refresh another test left running in the shared demo database).
    assert set(other.names()) == set(first.names())
