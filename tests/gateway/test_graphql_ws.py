"""Subscriptions over WebSocket, judged by Apollo Client's GraphQLWsLink on the graphql-ws client
(tests/node/subscriptions.mjs) against a live gateway."""

from typing import Any

from gateway.app import create_app
from gateway.settings import Settings
from resolvers.db import Catalog
from tests.fixtures.small_catalog import load_small_catalog
from tests.http_helpers import api_key
from tests.live_server import live_server
from tests.node_tools import run_node_script

SKU = "NW-RUN-001"


async def test_apollo_client_subscribes_over_graphql_ws_and_refusals_are_the_protocols(
    settings: Settings, db: Any
) -> None:
    await load_small_catalog(Catalog(db))
    editor = (await api_key(db, "editor", settings))["Authorization"].removeprefix("Bearer ")
    with live_server(create_app(settings)) as live:
        report = run_node_script("subscriptions.mjs", f"{live.url}/graphql", editor, SKU)
        # Every subscription ended with its socket: no change stream is left open.
        services = live.state["services"]
        assert services.product_changes._feeds == {}

    assert report["renamed"] == {"errors": []}
    change = report["event"]["productChanged"]
    assert change["sku"] == SKU
    assert change["kind"] == "UPDATED"
    assert change["product"] == {"sku": SKU, "name": "Renamed live", "__typename": "Product"}
    refusals = report["refusals"]
    assert refusals["badKey"]["code"] == 4403
    [mutation] = refusals["mutation"]["errors"]
    assert "mutation" in mutation["message"].lower()
    [costly] = refusals["costly"]["errors"]
    assert costly["extensions"]["code"] == "QUERY_TOO_COSTLY"
