"""Documents are bounded before validation, cached within a byte budget, and long lists refused."""

from __future__ import annotations

import gc
import logging
import threading
import tracemalloc
from collections.abc import Callable
from typing import Any

import graphql.execution.values
import pytest
from graphql import parse

import schema.document_cache
from gateway.app import create_app
from gateway.settings import Settings
from resolvers.db import Catalog
from resolvers.services import Services
from schema import build_schema
from schema.context import Context
from schema.document_cache import DocumentCache, Prepared, estimated_bytes
from schema.document_limits import DocumentLimits, document_limit_error
from tests.graphql_helpers import execute, services_for
from tests.http_helpers import serve

LIMITS = DocumentLimits()
# The issue's bombs (900 and 1,600 same-named fields) stop at the token limit while parsing.
ISSUE_BOMBS = [
    "{ " + "products { edges { node { sku } } } " * 900 + "}",
    "{ products { edges { node { " + 'name(locale: "de-DE") ' * 1600 + "} } } }",
]
# Under the token limit, the walk refuses what graphql-core would take seconds to validate.
BOMB = "{ " + "products { edges { node { sku } } } " * 450 + "}"
NAMES_BOMB = "{ products { edges { node { " + 'name(locale: "de-DE") ' * 700 + "} } } }"
# Fields under distinct names cost no comparisons, but every rule visits each one.
SKUS = (
    '{ products { edges { node { ...S } } } product(sku: "x") { ...S } '
    'a: product(sku: "y") { ...S } b: product(sku: "z") { ...S } } fragment S on Product { '
    + " ".join(f"s{i}: sku" for i in range(1300))
    + " }"
)


def fragment_chain(length: int) -> str:
    fragments = "\n".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(length))
    return f"query {{ ...F0 }}\n{fragments}\nfragment F{length} on Query {{ __typename }}"


def brand_list(count: int, tag: int = 0) -> str:
    brands = ", ".join(f'"b{i}"' for i in range(count))
    return f"# {tag}\n{{ products(filter: {{brand: [{brands}]}}) {{ totalCount }} }}"


@pytest.fixture
async def services(db: Any) -> Services:
    return services_for(Catalog(db))


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the documents graphql-core's validation rules ran on."""
    calls: list[int] = []
    validate = getattr(schema.document_cache, "validate_document")  # noqa: B009

    def counting(*args: Any) -> Any:
        calls.append(1)
        return validate(*args)

    monkeypatch.setattr(schema.document_cache, "validate_document", counting)
    return calls


@pytest.mark.parametrize(
    ("query", "limit"),
    [
        (BOMB, LIMITS.max_overlap_cost),
        (NAMES_BOMB, LIMITS.max_overlap_cost),
        (SKUS, LIMITS.max_fields),
    ],
    ids=["450 products", "700 names", "4 x 1300 skus"],
)
async def test_costly_documents_are_refused_before_validation(
    services: Services, validations: list[int], query: str, limit: int
) -> None:
    result = await execute(services, f"# {limit}\n{query}")
    assert result.data is None
    assert result.errors is not None
    [error] = result.errors
    assert error.extensions == {"code": "GRAPHQL_VALIDATION_FAILED", "limit": limit}
    assert validations == []


async def test_the_cost_error_names_the_repeated_field(services: Services) -> None:
    result = await execute(services, NAMES_BOMB)
    assert result.errors is not None
    assert "'name' is selected 700 times here" in result.errors[0].message


@pytest.mark.parametrize("query", ISSUE_BOMBS, ids=["900 products", "1600 names"])
async def test_the_issues_bombs_stop_at_the_token_limit_while_parsing(
    services: Services, validations: list[int], query: str
) -> None:
    result = await execute(services, query)
    assert result.errors is not None
    [error] = result.errors
    assert "more than 5000 tokens" in error.message
    assert validations == []


@pytest.mark.parametrize("query", [fragment_chain(300), fragment_chain(47)], ids=["300", "47"])
async def test_a_deep_fragment_chain_is_a_validation_error_without_traceback(
    services: Services, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    with caplog.at_level(logging.ERROR):
        result = await execute(services, query)
    assert result.errors is not None
    [error] = result.errors
    assert error.extensions == {"code": "GRAPHQL_VALIDATION_FAILED", "limit": LIMITS.max_nesting}
    assert caplog.records == []


async def test_a_fragment_chain_within_the_nesting_limit_runs(services: Services) -> None:
    result = await execute(services, fragment_chain(40))
    assert result.errors is None
    assert result.data == {"__typename": "Query"}


async def test_a_fragment_cycle_is_refused_by_the_walk(
    services: Services, validations: list[int]
) -> None:
    cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    result = await execute(services, cycle)
    assert result.errors is not None
    assert [e.message for e in result.errors] == ["Cannot spread fragment 'A' within itself."]
    assert validations == []


def test_limits_count_fragments_where_they_are_spread() -> None:
    limits = DocumentLimits(max_fields=8)
    # F has 3 fields (sku, media, url); spread twice under 'product' (+1) and once at the top.
    document = parse(
        "{ product { ...F ...F } ...G } fragment F on Product { sku media { url } } "
        "fragment G on Query { __typename }"
    )
    assert document_limit_error(document, limits) is None
    error = document_limit_error(document, DocumentLimits(max_fields=7))
    assert error is not None
    assert error.extensions == {"code": "GRAPHQL_VALIDATION_FAILED", "limit": 7}


def test_exponential_fragment_fan_out_is_counted_not_expanded() -> None:
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    document = parse(f"{{ ...F0 }} {fragments} fragment F40 on Query {{ __typename }}")
    error = document_limit_error(document, LIMITS)
    assert error is not None  # 2**40 __typename selections: the pairs among them exceed first
    assert error.extensions == {
        "code": "GRAPHQL_VALIDATION_FAILED",
        "limit": LIMITS.max_overlap_cost,
    }


@pytest.mark.parametrize(
    ("count", "refused"), [(LIMITS.max_list_items, False), (LIMITS.max_list_items + 1, True)]
)
def test_list_literals_are_capped(count: int, refused: bool) -> None:
    error = document_limit_error(parse(brand_list(count)), LIMITS)
    if refused:
        assert error is not None
        assert error.extensions == {"code": "BAD_USER_INPUT"}
        assert error.locations is not None
    else:
        assert error is None


@pytest.fixture
def coercions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the variable values graphql-core coerced."""
    calls: list[int] = []
    coerce: Callable[..., Any] = getattr(graphql.execution.values, "coerce_input_value")  # noqa: B009

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return coerce(*args, **kwargs)

    monkeypatch.setattr(graphql.execution.values, "coerce_input_value", counting)
    return calls


ROLES = 'query($roles: [MediaRole!]) { product(sku: "none") { media(channel: "web", roles: $roles) { publicId } } }'  # noqa: E501


async def test_a_long_list_variable_is_refused_before_coercion(
    services: Services, coercions: list[int]
) -> None:
    result = await execute(services, ROLES, {"roles": ["HERO"] * 90_000})
    assert result.data is None
    assert result.errors is not None
    [error] = result.errors
    assert error.message == "A list in the variables has 90,000 items; at most 1,000 are allowed."
    assert error.extensions == {"code": "BAD_USER_INPUT"}
    assert coercions == []


async def test_list_variables_within_the_cap_are_coerced(
    services: Services, coercions: list[int]
) -> None:
    result = await execute(services, ROLES, {"roles": ["HERO"] * LIMITS.max_list_items})
    assert result.errors is None
    assert result.data == {"product": None}
    assert coercions == [1]


async def test_nested_variable_lists_share_one_item_budget(services: Services) -> None:
    rows = [[{"a": 1}] * 1_000] * 10  # 10,010 items in all, none over 1,000
    query = 'query($x: JSON) { products(filter: {attributes: [{code: "a", equals: $x}]}) { totalCount } }'  # noqa: E501
    result = await execute(services, query, {"x": rows})
    assert result.errors is not None
    [error] = result.errors
    assert error.message == "The variables hold more than 10,000 list items in all."
    assert error.extensions == {"code": "BAD_USER_INPUT"}


DOCUMENTS = 15


async def test_the_cache_stays_within_its_byte_budget(services: Services) -> None:
    schema = build_schema()
    # A 2 MB budget holds 3 of the documents below: 15 of them (6 MB unbounded) overflow
    # it as surely as more would, at half the parsing under tracemalloc.
    cache = schema.documents = DocumentCache(max_bytes=2**21, max_entry_bytes=2**20)
    # Whatever the first request allocates once (threads, lazily built tables) is not counted.
    await schema.execute(brand_list(900, -1), context_value=Context.for_request(services, "test"))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for tag in range(DOCUMENTS):
            # 0.4 MB each once parsed: 30 held 12 MB in Strawberry's 256-document caches.
            context = Context.for_request(services, request_id="test")
            result = await schema.execute(brand_list(900, tag), context_value=context)
            assert result.errors is not None  # 900 brands: refused by the filter, not before
            assert result.errors[0].message.startswith("'filter.brand' has 900 entries")
            del result
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert 0 < cache.accounted_bytes <= cache.max_bytes
    assert 0 < len(cache) < DOCUMENTS
    assert retained < cache.max_bytes, retained


def test_the_estimate_covers_what_a_parsed_document_holds() -> None:
    shapes = [
        brand_list(900),
        "{ " + "a " * 3000 + "}",
        "{ a(x: [" + ", ".join("{k: 1}" for _ in range(900)) + "]) }",
        '{ a(x: "' + "\U0001f600" * 20_000 + '") }',
        "{ a " + "#" + "x" * 40_000 + "\n}",
    ]
    for query in shapes:
        tracemalloc.start()
        try:
            document = parse(query)
            size = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        assert size <= estimated_bytes(query, document), query[:40]


def test_refused_and_oversized_documents_are_not_cached() -> None:
    cache = DocumentCache(max_bytes=16_000)
    document = parse("{ a }")
    refusal = document_limit_error(parse(BOMB), LIMITS)
    assert refusal is not None
    cache.put("refused", Prepared(document, (refusal,), 10))
    cache.put("large", Prepared(document, (), cache.max_entry_bytes + 1))
    cache.put("small", Prepared(document, (), 900))
    assert len(cache) == 1
    assert cache.get("small") is not None
    assert cache.accounted_bytes == 900


async def test_large_documents_are_prepared_off_the_event_loop(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[bool] = []
    prepare = schema.document_cache.prepare

    def recording(*args: Any) -> Prepared:
        threads.append(threading.current_thread() is threading.main_thread())
        return prepare(*args)

    monkeypatch.setattr(schema.document_cache, "prepare", recording)
    await execute(services, "# off the loop\n" + BOMB)
    await execute(services, "# on the loop\n{ __typename }")
    assert threads == [False, True]


async def test_over_http_the_bomb_is_a_request_error(settings: Settings, db: Any) -> None:
    async with serve(create_app(settings)) as http:
        response = await http.post(
            "/graphql",
            json={"query": "# over http\n" + BOMB},
            headers={"accept": "application/graphql-response+json"},
        )
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "GRAPHQL_VALIDATION_FAILED", "limit": LIMITS.max_overlap_cost}
    ]
