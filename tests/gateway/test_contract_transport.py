"""The HTTP transport of channel contracts: bytes counted on the wire, server time on its clock.

A slow response cannot be planted in the demo (a timing is no data); ``max_server_ms`` is
judged here on a clock the test moves, through the transport and the engine.
"""

from __future__ import annotations

import gzip
import json

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.contracts import HttpTransport
from resolvers.contracts.checks import Delivered
from resolvers.contracts.config import parse_contracts
from resolvers.contracts.engine import PRODUCT_SKUS, Simulation
from tests.workflow_fixtures import PROFILES

ITEM = "query Item($sku: ID!, $channel: String!) { product(sku: $sku) { sku name } }"
MANIFEST = {"Item": ITEM, PRODUCT_SKUS: "skus"}
CONTRACTS = """
[channels.marketplace.operations.item]
operation = "Item"
for_each = "sku"
products = "product"
non_null = ["name"]
max_server_ms = 1_500
"""
# Each request takes as long as its SKU says, in seconds on the test's clock (binary fractions:
# the clock's sums and differences are exact).
SLOW = {"M-1": 0.0390625, "M-2": 1.5, "M-3": 1.5009765625}


def gzipped(sku: str) -> bytes:
    body = json.dumps({"data": {"product": {"sku": sku, "name": sku}}}).encode()
    return gzip.compress(body, mtime=0)


async def graphql(request: Request) -> Response:
    payload = await request.json()
    sku = payload["variables"]["sku"]
    return Response(
        gzipped(sku),
        media_type="application/json",
        headers={"Content-Encoding": "gzip", "X-Took-S": str(SLOW[sku])},
    )


class Clock:
    """Stands still but when a response arrives: then it moves by what the response took."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Fetcher:
    async def fetch(self, url: str) -> Delivered:  # pragma: no cover - no images here
        raise AssertionError(url)


async def test_server_time_is_measured_on_the_transports_clock_and_judged() -> None:
    clock = Clock()

    async def took(response: httpx.Response) -> None:
        clock.now += float(response.headers["X-Took-S"])

    app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://gateway",
        event_hooks={"response": [took]},
    ) as client:
        transport = HttpTransport(client, clock=clock)
        response = await transport.execute("marketplace", ITEM, {"sku": "M-1", "channel": "x"})
        assert (response.status, response.server_ms) == (200, 39.0625)
        assert response.wire_bytes == len(gzipped("M-1"))  # the bytes on the wire

        contracts = parse_contracts(CONTRACTS, "contracts.toml", PROFILES.channels, MANIFEST)
        simulation = Simulation(contracts, PROFILES.channels, transport, Fetcher(), MANIFEST)
        outcome = await simulation.run(skus=list(SLOW))
    # At the limit holds; a millisecond over it does not.
    assert [(v.check, v.sku, v.message) for v in outcome.violations] == [
        ("max_server_ms", "M-3", "1501 ms > max_server_ms 1500")
    ]
    assert [run.server_ms for run in outcome.runs] == [39.0625, 1_500.0, 1_500.9765625]
