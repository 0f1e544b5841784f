"""Apollo Client's @defer (tests/node/defer.mjs) against a live gateway, with both of its
incremental handlers: the initial data first, then the deferred readiness, and the cache ends
as a client without @defer would have it."""

from typing import Any

from gateway.app import create_app
from gateway.settings import Settings
from resolvers.db import Catalog
from tests.fixtures.small_catalog import load_small_catalog
from tests.live_server import live_server
from tests.node_tools import run_node_script

SKU = "NW-RUN-001"
DEFERRED = f"""query Deferred {{
  product(sku: "{SKU}") {{
    sku
    name
    ... @defer {{ readiness(channel: "web") {{ score ready }} }}
  }}
}}"""
WHOLE = f"""query Whole {{
  product(sku: "{SKU}") {{ sku name readiness(channel: "web") {{ score ready }} }}
}}"""


async def test_apollo_client_defer(settings: Settings, db: Any) -> None:
    await load_small_catalog(Catalog(db))
    with live_server(create_app(settings)) as live:
        runs = run_node_script("defer.mjs", f"{live.url}/graphql", DEFERRED, WHOLE)["runs"]

    accepts = {
        "Defer20220824Handler": "multipart/mixed;deferSpec=20220824",
        "GraphQL17Alpha9Handler": "multipart/mixed;incrementalSpec=v0.2",
    }
    assert [run["handler"] for run in runs] == list(accepts)
    for run in runs:
        assert run["accept"].startswith(accepts[run["handler"]])
        assert run["contentType"].startswith("multipart/mixed")
        first, *_, last = run["emissions"]
        assert first["dataState"] == "streaming"
        assert "readiness" not in first["data"]["product"]
        assert first["data"]["product"]["sku"] == SKU
        assert last["dataState"] == "complete"
        assert set(last["data"]["product"]["readiness"]) == {"score", "ready", "__typename"}
        assert run["cached"] == run["whole"]
        assert run["whole"]["product"]["readiness"]["score"] >= 0
