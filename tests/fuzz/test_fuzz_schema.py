"""Schema-generated queries through the HTTP app never answer 5xx or a masked internal error.

hypothesis-graphql builds operations from the live schema's SDL: valid ones (``Mode.POSITIVE``)
and ones with one schema violation (``Mode.NEGATIVE``: a wrong argument type, a missing required
argument, an unknown enum value). String and ID arguments are drawn, a third each, from what
the settings accept (locales, channels, slots), from the demo catalog's values (SKUs, slugs,
brands, attribute codes, public ids), so that queries reach products, media and readiness
rather than answering null, and from arbitrary text including lone surrogates. Each operation
is POSTed to the real Starlette app (routing, middleware, the GraphQL handler) over the
read-only demo catalog; the ``demo`` fixture fails if anything was written.

Derandomized: ``make test`` runs the same examples every time, FUZZ_EXAMPLES of each mode
(default 200); ``make fuzz`` runs 10,000. A failure prints the minimal operation.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import cache
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, nodes, queries
from starlette.types import Receive, Scope, Send

from demo.catalog import generate_demo_catalog
from gateway.app import create_app
from gateway.auth import Authenticator
from gateway.settings import Settings
from resolvers.access import RateLimit, Roles, load_roles
from resolvers.access.api_keys import ApiKeys
from resolvers.services import Services
from resolvers.shared_result import SharedResults
from tests.conftest import TEST_KEY_PEPPER
from tests.demo_fixtures import CHANNELS, LOCALES
from tests.graphql_helpers import shared_schema

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same examples on every run: `make test` stays deterministic
    database=None,  # nothing written under .hypothesis/
    deadline=None,  # a first catalogAudit or a page of 100 products is slow, not wrong
    print_blob=False,
    suppress_health_check=[
        # ``demo`` is function-scoped but only read: sharing it between examples is the point.
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


@cache
def settings_words() -> tuple[str, ...]:
    """What locale, channel and slot arguments accept, another spelling of it, near misses."""
    words = {*LOCALES.locales, "de-AT", "DE-de", "xx-YY", ""}
    for name, profile in CHANNELS.profiles.items():
        words |= {name, name.upper(), *profile.slots}
    words |= {"tv", "nope"}
    return tuple(sorted(words))


@cache
def catalog_values() -> tuple[str, ...]:
    """SKUs, brands, public ids, slugs, attribute codes and options of the demo catalog."""
    catalog = generate_demo_catalog(products=300)
    values: set[str] = set()
    for product in catalog.products[:40]:
        values |= {product["sku"], product["brand"], product["sku"].lower()}
        values |= {variant["sku"] for variant in product["variants"][:2]}
        values |= {reference["publicId"] for reference in product["media"][:3]}
        values |= set(product["related"][:2])
    values |= {category["slug"] for category in catalog.categories}
    for attribute in catalog.attributes:
        values.add(attribute["code"])
        values |= {str(option) for option in attribute.get("options", [])[:3]}
    return tuple(sorted(values))


def _text() -> st.SearchStrategy[str]:
    # Half the characters are controls, formats and lone surrogates (category Cs: JSON carries
    # them as \uXXXX escapes, and they are no valid UTF-8).
    printable = st.characters(codec=None, categories=["L", "M", "N", "P", "S", "Z"])
    odd = st.characters(codec=None, categories=["Cc", "Cf", "Cs"])
    return st.text(st.one_of(printable, odd), max_size=12)


def _words() -> st.SearchStrategy[str]:
    """A third each: settings' words, catalog values, arbitrary text."""
    return st.one_of(st.sampled_from(settings_words()), st.sampled_from(catalog_values()), _text())


def _strings() -> st.SearchStrategy[graphql.ValueNode]:
    return _words().map(nodes.String)


def _representations() -> st.SearchStrategy[graphql.ValueNode]:
    """``_Any`` in ``_entities``: references by each ``@key``, some of unknown types."""

    def field(name: str, value: str) -> graphql.ObjectFieldNode:
        return graphql.ObjectFieldNode(name=graphql.NameNode(value=name), value=nodes.String(value))

    def reference(typename: str, key: str, value: str) -> graphql.ValueNode:
        return nodes.Object([field("__typename", typename), field(key, value)])

    return st.builds(
        reference,
        st.sampled_from(["Product", "Category", "MediaAsset", "Nope"]),
        st.sampled_from(["sku", "id", "slug", "publicId"]),
        _words(),
    )


@cache
def operations(mode: Mode) -> st.SearchStrategy[str]:
    """Valid operations on one root field each, the field drawn uniformly (hypothesis-graphql
    alone starts most operations with the first field, ``_entities``), or on several; invalid
    ones on any fields (a field with nothing to violate, e.g. ``_service``, cannot be one)."""
    schema = shared_schema()._schema
    sdl = graphql.print_schema(schema)
    assert schema.query_type is not None
    scalars = {"String": _strings(), "ID": _strings(), "_Any": _representations()}
    if mode is Mode.NEGATIVE:
        return queries(sdl, mode=mode, custom_scalars=scalars)
    roots = [[name] for name in schema.query_type.fields] + [None]
    return st.one_of(
        [queries(sdl, mode=mode, fields=names, custom_scalars=scalars) for names in roots]
    )


@asynccontextmanager
async def gateway(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The app as ``create_app`` builds it, serving ``services`` without running its lifespan
    (which would open a catalog of its own)."""
    app = create_app(Settings(), schema=shared_schema())
    authentication = fuzz_authenticator(services)

    async def with_services(scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"] = {
            "services": services,
            "mongo_client": None,
            "demo_media": None,
            "authenticator": authentication,
        }
        await app(scope, receive, send)

    transport = httpx.ASGITransport(app=with_services, client=("127.0.0.1", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


def fuzz_authenticator(services: Services) -> Authenticator:
    """Anonymous requests as viewers (drafts, audits and readiness checks are reachable), with
    no request budget: the fuzz is about answers, not about our 429s."""
    shipped = load_roles(Settings().roles_path)
    unlimited = RateLimit(burst=1_000_000, per_minute=60_000_000)
    roles = Roles(
        {name: replace(role, rate=unlimited) for name, role in shipped.roles.items()},
        shipped.sources,
        shipped.source,
    )
    keys = ApiKeys(
        services.catalog.api_keys,
        pepper=TEST_KEY_PEPPER.encode(),
        roles=roles,
        env="test",
        channels=services.channels.names(),
    )
    return Authenticator(keys, roles, anonymous_role="viewer")


def internal_errors(body: Any) -> list[dict[str, Any]]:
    errors = (body.get("errors") or []) if isinstance(body, dict) else []
    return [
        error
        for error in errors
        if (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR"
    ]


async def post(client: httpx.AsyncClient, query: str) -> None:
    # Encoded here, not by httpx: its encoder refuses lone surrogates, JSON escapes them.
    content = json.dumps({"query": query}).encode()
    headers = {"content-type": "application/json"}
    response = await client.post("/graphql", content=content, headers=headers)
    assert response.status_code < 500, (response.status_code, response.text[:500], query)
    body = json.loads(response.text) if response.text else None
    assert not internal_errors(body), (internal_errors(body), query)


@pytest.fixture
async def client(demo: Services) -> AsyncIterator[httpx.AsyncClient]:
    # As deployed: dashboards (catalogReadiness, catalogAudit) shared between requests, so the
    # audit runs once per limit instead of on every example that selects it.
    async with gateway(replace(demo, dashboards=SharedResults(3600))) as http:
        yield http


def fuzz_test(mode: Mode) -> Callable[..., Any]:
    @FUZZ_SETTINGS
    @given(query=operations(mode))
    async def run(client: httpx.AsyncClient, query: str) -> None:
        note(query)
        await post(client, query)

    return run


test_valid_operations = fuzz_test(Mode.POSITIVE)
test_invalid_operations = fuzz_test(Mode.NEGATIVE)
