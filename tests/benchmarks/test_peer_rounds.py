"""The peer rounds of the gateway benchmark without running a server: the order of the rounds,
the cells each server runs in them, and the peer targets judged on the median over rounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.gateway_bench import parse_args, round_plan, server_specs
from benchmarks.peer_rounds import Series, paired_difference, round_order
from benchmarks.queries import LARGE_PAGE_SIZE, PAGE_SIZE, SMALL_PAGE_SIZE
from benchmarks.report import (
    APOLLO,
    GATEWAY,
    JIT,
    Q1_LARGE,
    REST_TUNED,
    Cell,
    Results,
    evaluate_targets,
    markdown,
)
from benchmarks.stats import summarize_latencies

SERVERS = [GATEWAY, APOLLO, JIT, REST_TUNED]


def test_each_round_starts_with_the_next_server_and_runs_every_server_once() -> None:
    orders = [round_order(SERVERS, r) for r in range(6)]
    assert [order[0] for order in orders] == [SERVERS[r % 4] for r in range(6)]
    assert all(sorted(order) == sorted(SERVERS) for order in orders)
    assert orders[:3] == [
        [GATEWAY, APOLLO, JIT, REST_TUNED],
        [APOLLO, GATEWAY, REST_TUNED, JIT],
        [JIT, REST_TUNED, GATEWAY, APOLLO],
    ]
    assert round_order([], 2) == []


@pytest.mark.parametrize("servers", [2, 3, 4, 5])
@pytest.mark.parametrize("rounds", [2, 3, 5])
def test_no_server_follows_the_same_server_in_every_round(servers: int, rounds: int) -> None:
    names = [f"s{i}" for i in range(servers)]
    for name in names:
        predecessors = set()
        for r in range(rounds):
            order = round_order(names, r)
            at = order.index(name)
            predecessors.add(order[at - 1] if at else None)
        assert len(predecessors) > 1, (name, [round_order(names, r) for r in range(rounds)])


def test_a_series_gives_its_median_spread_and_paired_differences() -> None:
    series = Series((30.0, 60.0, 31.0))
    assert (series.median, series.spread, series.listed()) == (31.0, 2.0, "30.0, 60.0, 31.0")
    assert Series((1.0, 2.0)).median == 1.5
    assert Series((-1.0, 2.0)).spread is None
    per_product = paired_difference(Series((10.0, 20.0)), Series((15.2, 22.6)), 52)
    assert per_product is not None
    assert per_product.values == pytest.approx((0.1, 0.05))
    assert paired_difference(Series((1.0,)), Series((1.0, 2.0)), 52) is None
    with pytest.raises(ValueError, match="at least one round"):
        Series(())


def test_the_rounds_run_the_peer_targets_cells_on_the_gateway_the_peers_and_rest_tuned() -> None:
    config = parse_args(["--quick", "--only", "Q1,Q3"])
    assert config.peer_rounds == 3
    specs = server_specs(config, 5000, "Bearer k", Path("peers.json"))
    q1 = [("Q1", PAGE_SIZE, "Q1"), ("Q1", LARGE_PAGE_SIZE, Q1_LARGE)]
    assert round_plan(specs, config.queries) == {
        GATEWAY: [*q1, ("Q3", PAGE_SIZE, "Q3")],
        APOLLO: [*q1, ("Q3", PAGE_SIZE, "Q3")],
        JIT: [*q1, ("Q3", PAGE_SIZE, "Q3")],
        REST_TUNED: q1,  # the floor serves no Q3
    }
    q3_only = parse_args(["--only", "Q3"])
    assert list(round_plan(server_specs(q3_only, 5000, "k", Path("p.json")), ["Q3"])) == [
        GATEWAY,
        APOLLO,
        JIT,
    ]
    # Without the peers there is nothing to compare: no rounds.
    assert round_plan(server_specs(config, 5000, "Bearer k"), config.queries) == {}
    assert parse_args(["--peer-rounds", "0"]).peer_rounds == 0
    with pytest.raises(SystemExit):
        parse_args(["--peer-rounds", "-1"])


def _cell(server: str, query: str, cpu_ms: float, p99_ms: float = 100.0) -> Cell:
    latency = summarize_latencies([p99_ms / 1000])
    return Cell(server, query, 16, 100, 0, 1.0, 1000 / cpu_ms, latency, cpu_ms, 1.0, 0.5)


def _round(gateway: tuple[float, float, float], apollo: tuple[float, float, float]) -> list[Cell]:
    """One round's cells: (Q1 CPU, Q1 first:100 CPU, Q1 p99) of the gateway and of apollo."""
    return [
        _cell(GATEWAY, "Q1", gateway[0], gateway[2]),
        _cell(GATEWAY, Q1_LARGE, gateway[1]),
        _cell(APOLLO, "Q1", apollo[0], apollo[2]),
        _cell(APOLLO, Q1_LARGE, apollo[1]),
    ]


def test_the_peer_targets_are_judged_on_the_median_over_rounds() -> None:
    results = Results("2025-01-01", "quick", {}, {}, {}, {})
    # The per-server cells, minutes apart, would say the gateway is cheaper than Apollo ...
    results.cells = [
        _cell(GATEWAY, "Q1", 27.0, 90.0),
        _cell(GATEWAY, Q1_LARGE, 60.0),
        _cell(APOLLO, "Q1", 31.0, 80.0),
        _cell(APOLLO, Q1_LARGE, 41.0),
    ]
    # ... but in the rounds it costs more, except in one spoiled round the median drops.
    results.peer_rounds = [
        _round((33.0, 41.0, 120.0), (30.0, 40.0, 100.0)),
        _round((20.0, 25.2, 60.0), (45.0, 50.0, 300.0)),
        _round((34.0, 44.4, 110.0), (31.0, 41.0, 105.0)),
    ]
    found = {t.name: t for t in evaluate_targets(results, (SMALL_PAGE_SIZE, PAGE_SIZE))}
    cpu = found["Q1 server CPU per request at c=16 ≤ Apollo Server (templates)"]
    assert (cpu.status, cpu.detail) == (
        "MISS",
        "median of 3 interleaved rounds: 33.0 vs 31.0 ms = 1.06x "
        "(rounds: gateway-1w 33.0, 20.0, 34.0; apollo 30.0, 45.0, 31.0)",
    )
    p99 = found["Q1 p99 at c=16 ≤ Apollo Server's p99"]
    assert (p99.status, p99.detail) == (
        "MISS",
        "median of 3 interleaved rounds: 110.0 vs 105.0 ms = 1.05x "
        "(rounds: gateway-1w 120.0, 60.0, 110.0; apollo 100.0, 300.0, 105.0)",
    )
    # The cost per extra product is taken within each round (8, 5.2 and 10.4 ms for 52 more
    # products), then the median; the per-server cells would give 33 ms / 52 = 0.635.
    marginal = found["Q1 marginal server CPU per extra product (48 → 100, c=16) ≤ 0.35 ms"]
    assert (marginal.status, marginal.detail) == (
        "PASS",
        "median of 3 interleaved rounds: 0.154 ms (rounds: 0.154, 0.100, 0.200); "
        "others' medians: apollo 0.192 ms",
    )
    # A peer missing from the rounds: judged on the per-server cells, as before.
    assert found["Q3 server CPU per request at c=16 ≤ Apollo Server (templates)"].status == "n/a"

    text = markdown(results)
    assert "## Peer rounds (c=16)" in text
    assert "Order: 1: gateway-1w → apollo; 2: gateway-1w → apollo; 3: gateway-1w → apollo." in text
    assert "| Measure | Server | round 1 | round 2 | round 3 | median | spread |" in text
    assert "| Q1 first:48 CPU ms/req | gateway-1w | 33.0 | 20.0 | 34.0 | 33.0 | 1.70 |" in text
    assert "| Q1 first:48 CPU ms/req | apollo | 30.0 | 45.0 | 31.0 | 31.0 | 1.50 |" in text
    assert "| Q1 CPU ms per extra product | apollo | 0.192 | 0.096 | 0.192 | 0.192 | 2.00 |" in text
    assert "| Q1 first:48 p99 ms | apollo | 100.0 | 300.0 | 105.0 | 105.0 | 3.00 |" in text
    # The per-server tables keep their cells.
    assert "| gateway-1w | 27.0 | 60.0 | 0.635 |" in text


def test_without_rounds_there_is_no_peer_rounds_table() -> None:
    results = Results("2025-01-01", "quick", {}, {}, {}, {})
    results.cells = [_cell(GATEWAY, "Q1", 27.0), _cell(APOLLO, "Q1", 31.0)]
    assert "Peer rounds" not in markdown(results)
    [cpu] = [
        t
        for t in evaluate_targets(results, (SMALL_PAGE_SIZE, PAGE_SIZE))
        if t.name == "Q1 server CPU per request at c=16 ≤ Apollo Server (templates)"
    ]
    assert (cpu.status, cpu.detail) == ("PASS", "27.0 vs 31.0 ms = 0.87x")
