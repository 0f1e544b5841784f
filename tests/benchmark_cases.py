"""The benchmark queries (benchmarks/queries.py) with variables over a test catalog, for tests
that run them through two execution paths and compare the answers."""

from __future__ import annotations

from typing import Any

from benchmarks.queries import Q1, Q2, Q3
from resolvers.services import Services

Case = tuple[str, dict[str, Any]]


async def benchmark_cases(services: Services) -> list[Case]:
    """Q1 with pages of 48 and 100, Q2 for one product, Q3 with 100 SKUs and one unknown."""
    cursor = services.catalog.products.find({}, {"sku": 1}).sort("sku", 1).limit(100)
    skus = [document["sku"] async for document in cursor]
    representations = [{"__typename": "Product", "sku": sku} for sku in [*skus, "NOPE"]]
    return [
        (Q1, {"first": 48}),
        (Q1, {"first": 100}),
        (Q2, {"sku": skus[3]}),
        (Q3, {"representations": representations}),
    ]
