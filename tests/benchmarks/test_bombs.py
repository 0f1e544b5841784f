"""The bombs benchmark's pieces, without timing anything: its documents are the issue's and the
gateway refuses them, and its target is judged on what was measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from benchmarks.bombs import SHAPES, Results, bomb, markdown, parse_args, target
from resolvers.db import Catalog
from tests.graphql_helpers import execute, services_for


def results(healthz_ms: list[float], failures: int = 0) -> Results:
    return Results(
        date="2026-12-03",
        config={"bombs": 4, "clients": 2, "target_ms": 100.0},
        machine={"summary": "test"},
        wall_s=2.0,
        cpu_s=0.4,
        statuses={"200 refused": 4},
        healthz_ms=healthz_ms,
        healthz_failures=failures,
    )


def test_each_bomb_is_unique_and_the_issues_shape() -> None:
    products = bomb("products")
    assert products != bomb("products")
    assert products.count("products { edges { node { sku } } }") == 900
    assert bomb("names").count('name(locale: "de-DE")') == 1600


@pytest.mark.parametrize("shape", SHAPES)
async def test_the_gateway_refuses_both_shapes_before_executing(
    db: AsyncDatabase[dict[str, Any]], shape: Any
) -> None:
    result = await execute(services_for(Catalog(db)), bomb(shape))
    assert result.data is None
    assert result.errors is not None
    # Both shapes are longer than the token limit: parsing stops there.
    [error] = result.errors
    assert "more than 5000 tokens" in error.message


def test_the_target_is_the_health_checks_p99() -> None:
    assert target(results([5.0] * 99 + [60.0]), 100)[0] == "PASS"
    assert target(results([5.0] * 90 + [150.0] * 10), 100)[0] == "MISS"
    # A health check that failed is a miss whatever the latencies of the others.
    assert target(results([5.0] * 100, failures=1), 100)[0] == "MISS"
    assert target(results([]), 100)[0] == "MISS"


def test_the_report_gives_latencies_and_cpu_per_bomb() -> None:
    text = markdown(results([5.0] * 99 + [60.0]), 100)
    assert "| 100 | 5.0 | 5.6 | 60.0 | 0.100 | 2.0 |" in text
    assert "Target: PASS" in text
    assert "4 x 200 refused" in text


def test_options(tmp_path: Path) -> None:
    config = parse_args(["--bombs", "10", "--clients", "2", "--output", str(tmp_path)])
    assert (config.bombs, config.clients, config.target_ms, config.output) == (
        10,
        2,
        100.0,
        tmp_path,
    )
    with pytest.raises(SystemExit):
        parse_args(["--bombs", "0"])
