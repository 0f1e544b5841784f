"""The engine with a transport of its own (no HTTP): what it runs, with which variables, and
which image samples it fetches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from resolvers.contracts.checks import Delivered, Response
from resolvers.contracts.config import parse_contracts
from resolvers.contracts.engine import CATEGORY_SLUGS, PRODUCT_SKUS, Simulation
from resolvers.contracts.report import percentile, summarize
from tests.workflow_fixtures import PROFILES

FEED = "query Feed($first: Int!, $after: String, $channel: String!) { products { x } }"
ITEM = "query Item($sku: ID!, $channel: String!) { product(sku: $sku) { x } }"
MANIFEST = {"Feed": FEED, "Item": ITEM, CATEGORY_SLUGS: "slugs", PRODUCT_SKUS: "skus"}
CONTRACTS = """
[channels.marketplace.operations.feed]
operation = "Feed"
for_each = "page"
variables = { first = 2 }
pages = 5
page_info = "products.pageInfo"
products = "products.edges[*].node"
non_empty = ["media"]
images = [{ path = "media[*].url", slot = "main", sample = 2 }]

[channels.marketplace.operations.item]
operation = "Item"
for_each = "sku"
products = "product"
gate = true
non_null = ["name"]
"""
SKUS = ["M-1", "M-2", "M-3"]


def node(sku: str) -> dict[str, Any]:
    media = [] if sku == "M-2" else [{"url": f"https://img/{sku}.jpg"}]
    return {"sku": sku, "name": None if sku == "M-3" else sku, "media": media}


class Catalog:
    """Answers like a gateway over three products, and records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fetched: list[str] = []

    async def execute(self, channel: str, body: str, variables: Mapping[str, Any]) -> Response:
        self.calls.append((body.split("(")[0], dict(variables)))
        if body == MANIFEST[PRODUCT_SKUS]:
            edges: list[dict[str, Any]] = [{"node": {"sku": s}} for s in SKUS]
            info: dict[str, Any] = {"hasNextPage": False, "endCursor": None}
            return Response(200, {"data": {"products": {"edges": edges, "pageInfo": info}}}, 9, 1)
        if body == ITEM:
            return Response(200, {"data": {"product": node(variables["sku"])}}, 50, 2)
        start = int(variables.get("after") or 0)
        page = SKUS[start : start + 2]
        info = {"hasNextPage": start + 2 < len(SKUS), "endCursor": str(start + 2)}
        edges = [{"node": node(s)} for s in page]
        return Response(200, {"data": {"products": {"edges": edges, "pageInfo": info}}}, 100, 4)

    async def fetch(self, url: str) -> Delivered:
        self.fetched.append(url)
        return Delivered(200, "image/jpeg", 1000, 1000)


async def test_a_feed_follows_its_pages_and_products_run_per_sku() -> None:
    contracts = parse_contracts(CONTRACTS, "contracts.toml", PROFILES.channels, MANIFEST)
    catalog = Catalog()
    progress: list[tuple[int, int]] = []
    simulation = Simulation(
        contracts,
        PROFILES.channels,
        catalog,
        catalog,
        MANIFEST,
        progress=lambda done, planned: progress.append((done, planned)),
    )
    outcome = await simulation.run()
    assert catalog.calls == [
        ("skus", {"first": 100, "after": None}),
        ("query Feed", {"first": 2, "channel": "marketplace"}),
        ("query Feed", {"first": 2, "channel": "marketplace", "after": "2"}),
        *[("query Item", {"channel": "marketplace", "sku": s}) for s in SKUS],
    ]
    assert progress[-1] == (5, 5)  # 5 pages planned at most, 2 needed
    assert [(v.operation, v.check, v.sku, v.path) for v in outcome.violations] == [
        ("feed", "non_empty", "M-2", "products.edges[1].node.media"),
        ("item", "non_null", "M-3", "product.name"),
    ]
    # Two samples of the feed's images, each fetched once.
    assert catalog.fetched == ["https://img/M-1.jpg", "https://img/M-3.jpg"]
    [summary] = summarize(outcome)
    assert (summary.runs, summary.passed, summary.products, summary.violations) == (5, 3, 6, 2)
    assert (summary.bytes_p50, summary.bytes_max, summary.ms_max) == (50, 100, 4.0)
    # The gate runs the product operations only, for one SKU.
    assert [(v.operation, v.sku) for v in await simulation.check_product("marketplace", "M-3")] == [
        ("item", "M-3")
    ]


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 50) == 0.0
    assert percentile([5, 1, 3, 2, 4], 50) == 3
    assert percentile(list(range(1, 101)), 95) == 95


async def test_sample_all_fetches_every_url_once() -> None:
    # A picture the DAM stopped delivering is found only by fetching it: "all" fetches each.
    fetched: dict[str, list[str]] = {}
    progress: list[tuple[int, int]] = []
    for sample in ("1", '"all"'):
        text = CONTRACTS.replace("sample = 2", f"sample = {sample}")
        contracts = parse_contracts(text, "contracts.toml", PROFILES.channels, MANIFEST)
        catalog = Catalog()
        simulation = Simulation(
            contracts,
            PROFILES.channels,
            catalog,
            catalog,
            MANIFEST,
            image_progress=lambda done, planned: progress.append((done, planned)),
        )
        await simulation.run()
        await simulation.run()  # a URL fetched once is not fetched again
        fetched[sample] = catalog.fetched
    assert fetched == {
        "1": ["https://img/M-1.jpg"],
        '"all"': ["https://img/M-1.jpg", "https://img/M-3.jpg"],
    }
    # Fetched after the runs: one of one with a sample of 1, then two of two with "all".
    assert progress == [(1, 1), (1, 2), (2, 2)]
