"""Apollo Client's PersistedQueryLink (tests/node/apq.mjs) against a live gateway.

The issue's failure: every operation of an Apollo Client with PersistedQueryLink failed, over
GET and POST, because a hash-only request answered 400 "Missing 'query'".
"""

from typing import Any

import pytest

from gateway.app import create_app
from gateway.settings import Settings
from resolvers.db import Catalog
from resolvers.persisted_queries import query_hash
from tests.fixtures.small_catalog import load_small_catalog
from tests.live_server import live_server
from tests.node_tools import run_node_script

pytestmark = pytest.mark.indexed

PRODUCT = 'query Product { product(sku: "NW-RUN-001") { sku name } }'


async def test_persisted_query_link(settings: Settings, db: Any) -> None:
    await load_small_catalog(Catalog(db))
    with live_server(create_app(settings)) as live:
        runs = {
            run["name"]: run for run in run_node_script("apq.mjs", f"{live.url}/graphql")["runs"]
        }

    first = runs["post-first"]
    assert first["error"] is None
    assert first["data"]["product"]["sku"] == "NW-RUN-001"
    assert [(r["method"], r["query"], r["status"], r["code"]) for r in first["requests"]] == [
        ("POST", False, 404, "PERSISTED_QUERY_NOT_FOUND"),
        ("POST", True, 200, None),
    ]
    # The link hashes the printed document, which is this text for this query.
    assert first["requests"][0]["hash"] == query_hash(
        'query Product {\n  product(sku: "NW-RUN-001") {\n    sku\n    name\n    __typename\n  }\n}'
    )

    registered = runs["get-registered"]
    assert registered["data"] == first["data"]
    assert [(r["method"], r["query"], r["status"]) for r in registered["requests"]] == [
        ("GET", False, 200)
    ]
    assert registered["requests"][0]["cacheControl"].startswith("public, max-age=")
    assert registered["requests"][0]["etag"]

    unknown = runs["get-first"]
    assert unknown["data"] == {"__typename": "Query"}
    assert [(r["method"], r["query"], r["status"], r["code"]) for r in unknown["requests"]] == [
        ("GET", False, 404, "PERSISTED_QUERY_NOT_FOUND"),
        ("POST", True, 200, None),
    ]
