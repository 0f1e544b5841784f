"""The benchmark harness's correctness pieces, without timing anything: the bench catalog, the
payload equality of the gateway, the naive Strawberry app and the REST floor (SDK URLs and the
gateway's URL templates), and the numbers the report is computed with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from benchmarks import load
from benchmarks.access import unthrottled_roles
from benchmarks.bench_catalog import generate_bench_catalog, seed_bench_catalog
from benchmarks.gateway_bench import parse_args, requests_for, server_specs, supports
from benchmarks.naive_app import create_naive_app
from benchmarks.peer_config import peer_config
from benchmarks.queries import (
    PAGE_SIZE,
    SMALL_PAGE_SIZE,
    QueryName,
    Request,
    Workload,
    build_workload,
)
from benchmarks.report import (
    APOLLO,
    GATEWAY,
    JIT,
    NAIVE,
    Q1_LARGE,
    REST,
    REST_TUNED,
    Cell,
    Commands,
    Results,
    Soak,
    evaluate_targets,
    markdown,
    ratio_rows,
)
from benchmarks.rest_floor import URL_BUILDER_ENV, create_rest_app, url_templates_from_env
from benchmarks.stats import (
    memory_trend,
    percentile,
    ratio,
    slope,
    summarize_latencies,
    throughput,
)
from benchmarks.verify import differences, normalize_origins
from gateway.app import create_app
from gateway.dam_setup import command_line_dam
from gateway.embedded_mongo import free_port
from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.access import load_roles
from resolvers.assets import DamClient
from resolvers.assets.dam import UrlTemplate
from resolvers.db import Catalog
from resolvers.media import UrlBuilder
from tests.http_helpers import api_key, serve

PRODUCTS = 60


@pytest.fixture
def bench_settings(settings: Settings) -> Settings:
    # The gateway's emulator on a known port: the baselines build their URLs against it.
    return Settings(
        mongodb_uri=settings.mongodb_uri,
        db=settings.db,
        data_dir=settings.data_dir,
        emulator_port=free_port(),
        key_pepper=settings.key_pepper,
    )


@pytest.fixture
async def catalog(db: AsyncDatabase[dict[str, Any]], bench_settings: Settings) -> Catalog:
    catalog = Catalog(db)
    await seed_bench_catalog(catalog, PRODUCTS, settings=bench_settings)
    return catalog


@pytest.fixture
async def workload(catalog: Catalog) -> Workload:
    return await build_workload(catalog, pages=3, details=8, entity_batches=1)


async def test_every_product_has_variants_and_media_with_mirrored_assets(catalog: Catalog) -> None:
    products = await catalog.products.find().to_list()
    assert len(products) == PRODUCTS
    for product in products:
        assert 2 <= len(product["variants"]) <= 6, product["sku"]
        assert 3 <= len(product["media"]) <= 8, product["sku"]
        assert set(product["readiness"]) == {"web", "mobile", "email", "marketplace"}
    references = {
        ("video" if m["role"] == "video" else "image", m["publicId"])
        for product in products
        for m in product["media"]
    }
    assets = {(a["resourceType"], a["publicId"]) async for a in catalog.assets.find()}
    assert assets == references
    assert await catalog.assets.count_documents({"status": "active"}) > 0.9 * len(assets)


def test_the_bench_catalog_is_deterministic() -> None:
    first, second = generate_bench_catalog(PRODUCTS), generate_bench_catalog(PRODUCTS)
    assert first.products == second.products

    def content(asset: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in asset.items() if k not in ("checkedAt", "updatedAt")}

    assert [content(a) for a in first.assets] == [content(a) for a in second.assets]
    assert generate_bench_catalog(PRODUCTS, seed=12).products != first.products


async def _payload(client: httpx.AsyncClient, request: Request, graphql: bool) -> Any:
    response = await load.send(client, request)
    assert response.status_code == 200, response.text
    body = response.json()
    if not graphql:
        return body
    assert "errors" not in body, body["errors"]
    return body["data"]


@dataclass(frozen=True, slots=True)
class Clients:
    gateway: httpx.AsyncClient
    naive: httpx.AsyncClient
    rest: httpx.AsyncClient  # the REST floor as the benchmark runs it: SDK URLs
    rest_tuned: httpx.AsyncClient  # the same with the gateway's URL templates
    dams: dict[str, DamClient]  # the baselines' DAM clients, by server name


@pytest.fixture
async def clients(catalog: Catalog, bench_settings: Settings) -> AsyncIterator[Clients]:
    naive_app = create_naive_app(bench_settings)
    rest_app = create_rest_app(bench_settings)
    tuned_app = create_rest_app(bench_settings, url_templates=True)
    async with (
        serve(create_app(bench_settings)) as gateway,
        serve(naive_app) as naive,
        serve(rest_app) as rest,
        serve(tuned_app) as rest_tuned,
    ):
        # As `make bench` runs it: with a key that sees drafts and readiness checks.
        gateway.headers.update(await api_key(catalog.db, "viewer", bench_settings))
        dams = {
            NAIVE: naive_app.state.dam,
            REST: rest_app.state.dam,
            REST_TUNED: tuned_app.state.dam,
        }
        yield Clients(gateway, naive, rest, rest_tuned, dams)


async def test_q1_and_q2_payloads_are_equal_on_gateway_naive_and_rest(
    clients: Clients, workload: Workload
) -> None:
    gateway, naive = clients.gateway, clients.naive
    checks: list[tuple[QueryName, int, int]] = [
        ("Q1", PAGE_SIZE, 0),
        ("Q1", PAGE_SIZE, 1),
        ("Q1", SMALL_PAGE_SIZE, 1),
        *(("Q2", PAGE_SIZE, i) for i in range(len(workload.detail_skus))),
    ]
    bundles = accessories = 0
    for query, size, index in checks:
        graphql_request = workload.graphql(query, size)[index]
        expected = await _payload(gateway, graphql_request, graphql=True)
        assert differences(expected, await _payload(naive, graphql_request, graphql=True)) == []
        rest_request = workload.rest(query, size)[index]
        for rest in (clients.rest, clients.rest_tuned):
            assert differences(expected, await _payload(rest, rest_request, graphql=False)) == []
        if query == "Q2":
            bundles += bool(expected["product"]["bundleItems"])
            accessories += bool(expected["product"]["accessories"])
        else:
            assert len(expected["products"]["edges"]) == min(size, PRODUCTS - index * size)
    # The comparison covered relations, not only empty lists.
    assert bundles
    assert accessories
    # The baselines built their URLs with the SDK, one call per URL; rest-tuned with templates.
    for server in (NAIVE, REST):
        dam = clients.dams[server]
        assert not dam.url_templates, server
        assert dam.stats.urls_built > 0, server
        assert dam._templates == {}, server
    assert clients.dams[REST_TUNED].url_templates
    assert clients.dams[REST_TUNED]._templates


async def test_q3_entities_are_equal_on_gateway_and_naive(
    clients: Clients, workload: Workload
) -> None:
    request = workload.graphql("Q3")[0]
    expected = await _payload(clients.gateway, request, graphql=True)
    assert len(expected["_entities"]) == PRODUCTS
    assert differences(expected, await _payload(clients.naive, request, graphql=True)) == []


def test_the_rest_floor_builds_urls_with_the_sdk_unless_asked_for_templates(
    bench_settings: Settings,
) -> None:
    assert url_templates_from_env({}) is False
    assert url_templates_from_env({URL_BUILDER_ENV: "sdk"}) is False
    assert url_templates_from_env({URL_BUILDER_ENV: " Templates "}) is True
    with pytest.raises(ValueError, match=URL_BUILDER_ENV):
        url_templates_from_env({URL_BUILDER_ENV: "template"})
    assert command_line_dam(bench_settings).url_templates
    assert not command_line_dam(bench_settings, url_templates=False).url_templates
    assert not create_rest_app(bench_settings).state.dam.url_templates
    assert not create_naive_app(bench_settings).state.dam.url_templates


def test_rest_tuned_runs_beside_rest_whenever_the_floor_does() -> None:
    specs = {s.name: s for s in server_specs(parse_args(["--only", "Q2,Q3"]), 5000, "Bearer k")}
    assert {GATEWAY, NAIVE, REST, REST_TUNED} <= set(specs)
    rest, tuned = specs[REST], specs[REST_TUNED]
    assert (rest.kind, tuned.kind) == ("rest", "rest")
    assert rest.factory == tuned.factory
    assert rest.env[URL_BUILDER_ENV] == "sdk"  # explicit: an inherited value cannot change it
    assert tuned.env[URL_BUILDER_ENV] == "templates"
    assert [q for q in ("Q1", "Q2", "Q3", "Q4") if supports(tuned, q)] == ["Q1", "Q2"]
    only_q3 = {s.name for s in server_specs(parse_args(["--only", "Q3,Q4"]), 5000, "Bearer k")}
    assert not {REST, REST_TUNED} & only_q3


def test_the_gateways_get_every_request_with_the_key_and_the_baselines_none(
    workload: Workload,
) -> None:
    specs = server_specs(parse_args(["--only", "Q1"]), 5000, "Bearer k")
    for spec in specs:
        sent = {request.headers for request in requests_for(spec, workload, "Q1")}
        assert sent == ({(("authorization", "Bearer k"),)} if spec.kind == "gateway" else {()})


def test_the_bench_roles_lift_every_budget(tmp_path: Path) -> None:
    roles = load_roles(unthrottled_roles(tmp_path))
    assert roles.names() == load_roles(Settings().roles_path).names()
    assert {(r.rate.burst, r.rate.per_minute) for r in roles.roles.values()} == {
        (1_000_000, 60_000_000)
    }


# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4, 5], 50) == 3
    assert percentile(list(range(1, 101)), 99) == pytest.approx(99.01)
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert percentile([7.0], 99) == 7.0
    assert percentile([3, 9, 1], 0) == 1
    assert percentile([3, 9, 1], 100) == 9
    with pytest.raises(ValueError, match="empty"):
        percentile([], 50)
    summary = summarize_latencies([0.001, 0.002, 0.003, 0.004])
    assert (summary.count, summary.p50_ms, summary.max_ms) == (4, 2.5, 4.0)
    assert summary.mean_ms == pytest.approx(2.5)


def test_ratios_throughput_and_slope() -> None:
    assert ratio(10, 4) == 2.5
    assert ratio(1, 0) is None
    assert ratio(None, 3) is None
    assert ratio(3, None) is None
    assert throughput(100, 4.0) == 25.0
    assert throughput(0, 1.0) == 0.0
    assert slope([0, 1, 2], [1, 3, 5]) == 2
    assert slope([5], [1]) == 0


def test_memory_trend_after_warmup() -> None:
    samples = [(0.0, 100.0), (10.0, 150.0), (20.0, 152.0), (30.0, 160.0)]
    trend = memory_trend(samples, warmup_s=10)
    assert (trend.start_mib, trend.after_warmup_mib, trend.end_mib, trend.max_mib) == (
        100,
        150,
        160,
        160,
    )
    assert trend.slope_mib_per_min == pytest.approx(30.0)
    assert trend.flat  # 160 is within +10 % of 150
    assert not memory_trend([*samples, (40.0, 170.0)], warmup_s=10).flat


def _cell(server: str, query: str, concurrency: int, rps: float, p99: float) -> Cell:
    latency = summarize_latencies([p99 / 1000])
    return Cell(server, query, concurrency, 100, 0, 1.0, rps, latency, 1000 / rps, 1.0, 0.5)


def test_targets_pass_and_miss_on_fixed_results() -> None:
    results = Results("2025-01-01", "quick", {}, {}, {}, {})
    results.cells = [
        _cell(GATEWAY, "Q1", 1, 50, 20),
        _cell(GATEWAY, "Q1", 16, 80, 300),
        _cell(REST, "Q1", 16, 150, 100),
        _cell(REST_TUNED, "Q1", 16, 200, 75),
        _cell(NAIVE, "Q1", 16, 10, 3000),
        _cell(GATEWAY, "Q2", 16, 200, 90),
        _cell(REST, "Q2", 16, 400, 50),
        _cell(REST_TUNED, "Q2", 16, 500, 40),
        _cell(GATEWAY, "Q3", 16, 90, 40),
        _cell(NAIVE, "Q3", 16, 10, 900),
    ]
    results.commands = [
        Commands(GATEWAY, "Q1", SMALL_PAGE_SIZE, 5, 4.0, {}),
        Commands(GATEWAY, "Q1", PAGE_SIZE, 5, 4.0, {}),
    ]
    results.soak = Soak(
        GATEWAY, 60, 16, 1, 10, 1000, 0, 16.7, memory_trend([(0, 90), (10, 100), (60, 120)], 10), []
    )
    found = {t.name: t for t in evaluate_targets(results, (SMALL_PAGE_SIZE, PAGE_SIZE))}
    statuses = {name.split(" (")[0]: t.status for name, t in found.items()}
    assert statuses == {
        "Q1 throughput ≥ 0.5x REST": "PASS",  # peak 80 vs 150
        "Q1 throughput ≥ 5x naive": "PASS",  # 80 vs 10
        "Q3 throughput ≥ 10x naive": "MISS",  # 90 vs 10
        "Q1 p99 at c=16 ≤ 2x REST": "MISS",  # 300 vs 100 ms
        "Q2 p99 at c=16 ≤ 2x REST": "PASS",  # 90 vs 50 ms
        "MongoDB commands per request constant in page size": "PASS",
        "memory flat over the soak": "MISS",  # 120 > 110
        # No peers in these results.
        "Q1 server CPU per request at c=16 ≤ Apollo Server": "n/a",
        "Q1 server CPU per request at c=16 ≤ 1.2x graphql-jit": "n/a",
        "Q3 server CPU per request at c=16 ≤ Apollo Server": "n/a",
        "Q3 server CPU per request at c=16 ≤ 1.2x graphql-jit": "n/a",
        "Q1 marginal server CPU per extra product": "n/a",
        "Q1 p99 at c=16 ≤ Apollo Server's p99": "n/a",
    }
    # Judged against rest; the ratio against rest-tuned is given beside it.
    q1_rest = found["Q1 throughput ≥ 0.5x REST"].detail
    assert q1_rest.startswith("peak 80.0 vs 150.0 req/s = 0.53x")
    assert "against rest-tuned: peak 80.0 vs 200.0 req/s = 0.40x" in q1_rest
    assert "against rest-tuned: 75.0 ms = 4.00x" in found["Q1 p99 at c=16 ≤ 2x REST"].detail
    assert "against rest-tuned: 40.0 ms = 2.25x" in found["Q2 p99 at c=16 ≤ 2x REST"].detail
    assert "rest-tuned" not in found["Q1 throughput ≥ 5x naive"].detail

    [q1] = [r for r in ratio_rows(results) if (r["query"], r["concurrency"]) == ("Q1", 16)]
    assert q1["gateway_over_rest_rps"] == pytest.approx(80 / 150)
    assert q1["gateway_over_rest_tuned_rps"] == pytest.approx(80 / 200)
    assert q1["gateway_over_rest_tuned_p99"] == pytest.approx(300 / 75)
    assert q1["rest_tuned_over_gateway_cpu"] == pytest.approx((1000 / 200) / (1000 / 80))
    assert q1["naive_over_gateway_cpu"] == pytest.approx(8.0)
    [q3] = [r for r in ratio_rows(results) if r["query"] == "Q3"]
    assert q3["gateway_over_rest_tuned_rps"] is None
    text = markdown(results)
    assert "| Q1 | 16 | REST | 0.53 | 3.00 | 0.53 |" in text
    assert "| Q1 | 16 | REST-tuned | 0.40 | 4.00 | 0.40 |" in text
    assert "| Q3 | 16 | REST-tuned |" not in text

    def commands_target(small: float, large: float) -> str:
        results.commands = [
            Commands(GATEWAY, "Q1", SMALL_PAGE_SIZE, 5, small, {}),
            Commands(GATEWAY, "Q1", PAGE_SIZE, 5, large, {}),
        ]
        [target] = [
            t
            for t in evaluate_targets(results, (SMALL_PAGE_SIZE, PAGE_SIZE))
            if t.name.startswith("MongoDB commands")
        ]
        return target.status

    # Averages over different pages differ when an optional batch depends on the page's data.
    assert commands_target(4.5, 4.8) == "PASS"
    assert commands_target(5.0, 41.0) == "MISS"  # one more command per extra item


def test_peer_targets_judge_cpu_per_request_marginal_cost_and_p99() -> None:
    results = Results("2025-01-01", "quick", {}, {}, {}, {})
    # _cell's CPU per request is 1000 / rps.
    results.cells = [
        _cell(GATEWAY, "Q1", 16, 80, 300),  # 12.5 ms
        _cell(GATEWAY, Q1_LARGE, 16, 50, 500),  # 20 ms: 7.5 ms more for 52 more products
        _cell(APOLLO, "Q1", 16, 100, 400),  # 10 ms
        _cell(APOLLO, Q1_LARGE, 16, 50, 600),  # 20 ms
        _cell(JIT, "Q1", 16, 125, 200),  # 8 ms
        _cell(GATEWAY, "Q3", 16, 90, 40),  # 11.1 ms
        _cell(APOLLO, "Q3", 16, 80, 40),  # 12.5 ms
        _cell(JIT, "Q3", 16, 100, 40),  # 10 ms
    ]
    found = {t.name: t for t in evaluate_targets(results, (SMALL_PAGE_SIZE, PAGE_SIZE))}
    apollo_q1 = found["Q1 server CPU per request at c=16 ≤ Apollo Server (templates)"]
    assert (apollo_q1.status, apollo_q1.detail) == ("MISS", "12.5 vs 10.0 ms = 1.25x")
    assert found["Q1 server CPU per request at c=16 ≤ 1.2x graphql-jit"].status == "MISS"
    assert found["Q3 server CPU per request at c=16 ≤ Apollo Server (templates)"].status == "PASS"
    assert found["Q3 server CPU per request at c=16 ≤ 1.2x graphql-jit"].status == "PASS"
    marginal = found["Q1 marginal server CPU per extra product (48 → 100, c=16) ≤ 0.35 ms"]
    assert marginal.status == "PASS"
    assert marginal.detail == "0.144 ms (others: apollo 0.192 ms)"
    p99 = found["Q1 p99 at c=16 ≤ Apollo Server's p99"]
    assert (p99.status, p99.detail) == ("PASS", "300.0 vs 400.0 ms = 0.75x")
    results.commands = [
        Commands(GATEWAY, "Q3", None, 5, 2.0, {}, bytes_per_request=300 * 1024),
        Commands(APOLLO, "Q3", None, 5, 3.0, {}, bytes_per_request=250 * 1024),
    ]
    text = markdown(results)
    assert "| Q3 | 300.0 | 250.0 |" in text  # KiB MongoDB sent back per request
    assert "| Q1 | 16 | Apollo | 0.80 | 0.75 | 0.80 |" in text
    assert "| gateway-1w | 12.5 | 20.0 | 0.144 |" in text


def test_the_peers_serve_q1_and_q3_without_a_key_when_configured(workload: Workload) -> None:
    config = parse_args(["--only", "Q1,Q2"])
    assert not {APOLLO, JIT} & {s.name for s in server_specs(config, 5000, "Bearer k")}
    specs = {s.name: s for s in server_specs(config, 5000, "Bearer k", Path("peers.json"))}
    for name, executor in ((APOLLO, "apollo"), (JIT, "jit")):
        spec = specs[name]
        assert spec.kind == "peer"
        assert spec.program[0] == "node"
        assert (spec.env["PEER_EXECUTOR"], spec.env["PEER_CONFIG"]) == (executor, "peers.json")
        assert [q for q in ("Q1", "Q2", "Q3", "Q4") if supports(spec, q)] == ["Q1", "Q3"]
        assert {r.headers for r in requests_for(spec, workload, "Q1")} == {()}
    only_q2 = server_specs(parse_args(["--only", "Q2"]), 5000, "Bearer k", Path("peers.json"))
    assert not {APOLLO, JIT} & {s.name for s in only_q2}


def test_the_peers_url_templates_are_the_gateways(bench_settings: Settings) -> None:
    """The templates handed to the peers fill the URLs the gateway's UrlBuilder builds."""
    config = peer_config(bench_settings)
    dam = command_line_dam(bench_settings)
    profiles = load_profiles(bench_settings).channels.profiles
    for channel, exported in config["channels"].items():
        builder = UrlBuilder(dam, profiles[channel])
        for name, slot in profiles[channel].slots.items():
            t = exported["slots"][name]["template"]
            template = UrlTemplate(
                t["head"], t["transformation"], t["format"], t["forceVersion"], t["secret"]
            )
            for public_id, version in (("catalog/SKU-1/front", 1700000001), ("a b/ü", None)):
                asset = {"version": version} if version else None
                assert template.fill(public_id, version) == builder.url(slot, public_id, asset)


def test_differences_name_the_paths() -> None:
    expected = {"a": [1, {"b": "x"}], "c": True}
    assert differences(expected, {"a": [1, {"b": "x"}], "c": True}) == []
    assert differences(expected, {"a": [1, {"b": "y"}], "c": True}) == [
        "$.a[1].b: 'y', expected 'x'"
    ]
    assert differences(expected, {"a": [1], "c": 1}) == [
        "$.a: 1 items, expected 2",
        "$.c: 1, expected True",
    ]
    assert differences({"n": 1}, {"n": 1.0}) == []
    url = {"u": "http://127.0.0.1:41234/demo/image/upload/x.jpg"}
    assert normalize_origins(url) == normalize_origins(
        {"u": "http://127.0.0.1:5000/demo/image/upload/x.jpg"}
    )
