"""The gateway under load against two baselines: ``python -m benchmarks gateway [options]``.

One run, one machine, one catalog: a fresh embedded mongod seeded with the benchmark catalog
(``benchmarks.bench_catalog``); the gateway under uvicorn with 1 and with ``--workers`` workers
(CLOUDINARY_URL unset: the in-process emulator, URLs built locally); the naive Strawberry app
(``benchmarks.naive_app``) and the REST floor (``benchmarks.rest_floor``), one worker each, both
building delivery URLs with the Cloudinary SDK per URL as a hand-written app would; and
``rest-tuned``, the REST floor with the gateway's URL templates (the floor for GraphQL alone),
reported beside ``rest``; and the Node.js peers of ``benchmarks/peers`` (``apollo``: Apollo
Server + DataLoader + mongodb with URL templates; ``graphql-jit``: the same on graphql-jit) for Q1
and Q3. Targets are judged against ``rest``, and against the peers by CPU per request.

1. Payloads: Q1 (two page sizes), Q2, Q3 and Q4 from every server are compared with the one-worker
   gateway's; any difference stops the run before anything is timed.
2. Cells: every (server, query, concurrency) for ``--duration`` seconds after a short warm-up.
   Then the peer rounds (``--peer-rounds``, ``benchmarks.peer_rounds``): the peer targets'
   cells of the gateway, the peers and rest-tuned again, in rotated interleaved rounds.
3. MongoDB commands (and documents examined) per request: profiler level 2 over a fixed number
   of sequential requests.
4. Soak: ``--soak`` seconds of mixed load on the multi-worker gateway, RSS sampled throughout.
5. Report: ``benchmarks/results/<date>.json`` and ``.md``, ``latency.png``; targets PASS/MISS.

``--quick``: 1,000 products, 1 s cells, no soak, cells over 8 s skipped (a few minutes at most).
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import psutil
from pymongo import AsyncMongoClient

from benchmarks import load, peer_config, peer_rounds, report
from benchmarks.access import bench_key, bench_pepper, unthrottled_roles
from benchmarks.bench_catalog import BENCH_SEED, seed_bench_catalog, summary_counts
from benchmarks.naive_app import APP_NAME as NAIVE_APP_NAME
from benchmarks.queries import (
    LARGE_PAGE_SIZE,
    PAGE_SIZE,
    QUERY_NAMES,
    SMALL_PAGE_SIZE,
    QueryName,
    Request,
    Workload,
    build_workload,
)
from benchmarks.rest_floor import APP_NAME as REST_APP_NAME
from benchmarks.rest_floor import URL_BUILDER_ENV
from benchmarks.servers import ServerProcess, ServerSpec, watch
from benchmarks.stats import memory_trend, summarize_latencies, throughput
from benchmarks.verify import normalize_origins, require_equal
from gateway.embedded_mongo import embedded_mongo, find_mongod, free_port
from gateway.settings import Settings
from resolvers.db import Catalog

DB_NAME = "bench"
GATEWAY_APP_NAME = "catalog-gateway"
RESULTS_DIR = Path(__file__).parent / "results"
PEERS_DIR = Path(__file__).parent / "peers"
PEER_SCRIPT = PEERS_DIR / "server.mjs"
# What the Node.js peers serve (Q2's manifest, variants and relations are not ported).
PEER_QUERIES: tuple[QueryName, ...] = ("Q1", "Q3")
# Where Q1's marginal cost per extra product is measured: one more cell per server, at this
# concurrency, with pages of LARGE_PAGE_SIZE (against PAGE_SIZE at the same concurrency).
MARGINAL_CONCURRENCY = report.PEER_CONCURRENCY
CONCURRENCY: tuple[int, ...] = (1, 16, 64)
# Who runs in the peer rounds: the gateway and the peers the targets compare, and rest-tuned
# (Q1 only) beside them for reference, in this order in round 0.
ROUND_SERVERS = (report.GATEWAY, report.APOLLO, report.JIT, report.REST_TUNED)
SOAK_CONCURRENCY = 16
MIB = 1024 * 1024
COMMANDS_METHOD = (
    "MongoDB's profiler (level 2) on the benchmark database during N sequential requests per "
    "query, counting the system.profile entries whose appName is the server's (find, getMore, "
    "aggregate, count, writes: every command the server sent for the requests). Unlike "
    "serverStatus opcounters it needs no idle-noise subtraction (driver monitoring, the "
    "replica set's own traffic and this harness never match) and it says which collection "
    "each command read. Profiling slows MongoDB, so it runs in a pass of its own after timing."
)


@dataclass(frozen=True, slots=True)
class Config:
    products: int
    duration_s: float
    warmup_s: float
    soak_s: float
    workers: int
    queries: tuple[QueryName, ...]
    concurrency: tuple[int, ...]
    command_requests: int
    max_cell_s: float
    seed: int
    quick: bool
    output: Path
    peers: bool = True
    peer_rounds: int = peer_rounds.DEFAULT_ROUNDS

    @property
    def mode(self) -> str:
        return "quick" if self.quick else "full"

    def budget_s(self) -> float:
        """An upper bound for the whole run; servers are stopped by their reapers after it."""
        cells = 7 * len(self.queries) * len(self.concurrency)  # at most seven servers
        cells += self.peer_rounds * len(ROUND_SERVERS) * 3  # three cells each per round
        per_cell = self.duration_s + self.warmup_s + self.max_cell_s
        return 900 + self.products / 20 + cells * per_cell + self.soak_s * 1.5


def parse_args(argv: Sequence[str] | None) -> Config:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks gateway",
        description="Throughput, latency, MongoDB commands and memory of the gateway against a "
        "naive Strawberry app and a hand-written REST floor.",
    )
    parser.add_argument("--quick", action="store_true", help="1,000 products, 1 s cells, no soak")
    parser.add_argument("--products", type=int, help="catalog size (default 10000; quick 1000)")
    parser.add_argument("--duration", type=float, help="seconds per cell (default 5; quick 1)")
    parser.add_argument("--soak", type=float, help="soak seconds (default 300; quick 0)")
    parser.add_argument("--workers", type=int, default=2, help="workers of the scaled gateway")
    parser.add_argument("--only", help="comma-separated queries, e.g. Q1,Q3 (default: all)")
    parser.add_argument(
        "--concurrency", default=",".join(map(str, CONCURRENCY)), help="default 1,16,64"
    )
    parser.add_argument(
        "--commands-requests",
        type=int,
        help="sequential requests per query when counting MongoDB commands (default 10; quick 5)",
    )
    parser.add_argument(
        "--max-cell",
        type=float,
        help="skip cells whose first wave alone would take longer (default 60; quick 8)",
    )
    parser.add_argument("--seed", type=int, default=BENCH_SEED)
    parser.add_argument(
        "--no-peers",
        action="store_true",
        help="leave out the Node.js peers (Apollo Server, graphql-jit; they need node and "
        "benchmarks/peers/node_modules, which `make bench` installs)",
    )
    parser.add_argument(
        "--peer-rounds",
        type=int,
        default=peer_rounds.DEFAULT_ROUNDS,
        help="interleaved rounds of the peer targets' cells after the per-server cells, judged "
        f"on their median (default {peer_rounds.DEFAULT_ROUNDS}; 0: judge on the per-server "
        "cells)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    queries: tuple[QueryName, ...] = QUERY_NAMES
    if args.only:
        wanted = [q.strip().upper() for q in args.only.split(",") if q.strip()]
        unknown = sorted(set(wanted) - set(QUERY_NAMES))
        if unknown:
            parser.error(
                f"--only: unknown queries {', '.join(unknown)} (use {', '.join(QUERY_NAMES)})"
            )
        queries = tuple(q for q in QUERY_NAMES if q in wanted)
    try:
        concurrency = tuple(sorted({int(c) for c in args.concurrency.split(",") if c.strip()}))
    except ValueError:
        parser.error("--concurrency: comma-separated integers, e.g. 1,16,64")
    if not concurrency or min(concurrency) < 1:
        parser.error("--concurrency: at least one level, each at least 1")
    products = args.products or (1_000 if args.quick else 10_000)
    duration = args.duration or (1.0 if args.quick else 5.0)
    soak = args.soak if args.soak is not None else (0.0 if args.quick else 300.0)
    if products < 50:
        parser.error("--products: at least 50 (the demo generator plants defects on 2+ each)")
    if args.workers < 1 or duration <= 0 or soak < 0:
        parser.error("--workers must be ≥ 1, --duration > 0, --soak ≥ 0")
    if args.peer_rounds < 0:
        parser.error("--peer-rounds: 0 or more")
    return Config(
        products=products,
        duration_s=duration,
        warmup_s=min(1.0, max(0.25, duration * 0.2)),
        soak_s=soak,
        workers=args.workers,
        queries=queries,
        concurrency=concurrency,
        command_requests=args.commands_requests or (5 if args.quick else 10),
        max_cell_s=args.max_cell or (8.0 if args.quick else 60.0),
        seed=args.seed,
        quick=args.quick,
        output=args.output,
        peers=not args.no_peers,
        peer_rounds=args.peer_rounds,
    )


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def server_specs(
    config: Config, emulator_port: int, authorization: str, peer_config_path: Path | None = None
) -> list[ServerSpec]:
    """``authorization``: the gateways' key, of a role that sees what the baselines show
    (drafts, readiness checks, the dashboard). ``peer_config_path``: the Node.js peers'
    configuration (``benchmarks.peer_config``); without it they are left out."""
    key = (("authorization", authorization),)
    specs = [
        # The one-worker gateway's emulator gets a fixed port, which the baselines build their
        # URLs with, so their payloads can be compared byte for byte.
        ServerSpec(
            "gateway-1w",
            "gateway",
            "gateway.asgi:app_factory",
            1,
            GATEWAY_APP_NAME,
            {"CATALOG_EMULATOR_PORT": str(emulator_port)},
            key,
        ),
    ]
    if config.workers > 1:
        # Its workers use the one-worker gateway's emulator as replicas use an emulator
        # service (CATALOG_EMULATOR_URL with its secret): workers starting emulators of their
        # own over one data directory stop at start-up (EmulatorStorageBusyError).
        specs.append(
            ServerSpec(
                f"gateway-{config.workers}w",
                "gateway",
                "gateway.asgi:app_factory",
                config.workers,
                GATEWAY_APP_NAME,
                {"CATALOG_EMULATOR_URL": f"http://127.0.0.1:{emulator_port}"},
                key,
            )
        )
    if set(config.queries) & {"Q1", "Q2", "Q3"}:
        specs.append(
            ServerSpec(
                "naive",
                "naive",
                "benchmarks.naive_app:app_factory",
                1,
                NAIVE_APP_NAME,
                {"CATALOG_EMULATOR_PORT": str(emulator_port)},
            )
        )
    if set(config.queries) & {"Q1", "Q2"}:
        # The floor as written by hand: the SDK builds every delivery URL. The targets are
        # judged against it.
        specs.append(
            ServerSpec(
                report.REST,
                "rest",
                "benchmarks.rest_floor:app_factory",
                1,
                REST_APP_NAME,
                {"CATALOG_EMULATOR_PORT": str(emulator_port), URL_BUILDER_ENV: "sdk"},
            )
        )
        # The same floor with the gateway's URL templates: what is left is GraphQL's cost.
        specs.append(
            ServerSpec(
                report.REST_TUNED,
                "rest",
                "benchmarks.rest_floor:app_factory",
                1,
                REST_APP_NAME,
                {"CATALOG_EMULATOR_PORT": str(emulator_port), URL_BUILDER_ENV: "templates"},
            )
        )
    if peer_config_path is not None and set(config.queries) & set(PEER_QUERIES):
        for name, executor in ((report.APOLLO, "apollo"), (report.JIT, "jit")):
            app_name = f"bench-{name}"
            specs.append(
                ServerSpec(
                    name,
                    "peer",
                    str(PEER_SCRIPT),
                    1,
                    app_name,
                    {
                        "PEER_CONFIG": str(peer_config_path),
                        "PEER_EXECUTOR": executor,
                        "PEER_APP_NAME": app_name,
                        "NODE_ENV": "production",
                    },
                    program=("node", str(PEER_SCRIPT)),
                )
            )
    return specs


def check_peers_installed() -> None:
    """The peers' packages are installed by `make bench` (npm ci from their lock file)."""
    if shutil.which("node") is None:
        raise SystemExit(
            "the Node.js peers need `node` (Node.js 20.19 or newer): install it, or pass --no-peers"
        )
    if not (PEERS_DIR / "node_modules" / ".package-lock.json").exists():
        raise SystemExit(
            f"{PEERS_DIR}/node_modules is missing: run `make bench`, or `npm ci --prefix "
            f"{PEERS_DIR}` (or pass --no-peers)"
        )


def supports(spec: ServerSpec, query: QueryName) -> bool:
    if spec.kind == "gateway":
        return True
    if spec.kind == "peer":
        return query in PEER_QUERIES
    if spec.kind == "naive":
        return query in ("Q1", "Q2", "Q3")
    return query in ("Q1", "Q2")


def requests_for(
    spec: ServerSpec, workload: Workload, query: QueryName, page_size: int = PAGE_SIZE
) -> list[Request]:
    if spec.kind == "rest":
        return workload.rest(query, page_size)
    requests = workload.graphql(query, page_size)
    if spec.request_headers:
        return [replace(request, headers=spec.request_headers) for request in requests]
    return requests


# ---------------------------------------------------------------------------------------------
# Phases
# ---------------------------------------------------------------------------------------------


async def fetch_payload(client: httpx.AsyncClient, spec: ServerSpec, request: Request) -> Any:
    """The ``data`` of a GraphQL response (which must have no errors) or the REST JSON."""
    response = await load.send(client, request)
    if response.status_code != 200:
        raise RuntimeError(
            f"{spec.name} {request.path}: HTTP {response.status_code}: {response.text[:500]}"
        )
    body = response.json()
    if spec.kind == "rest":
        return body
    if body.get("errors"):
        raise RuntimeError(f"{spec.name}: GraphQL errors: {body['errors'][:3]}")
    return body["data"]


def verification_requests(
    workload: Workload, queries: Sequence[QueryName]
) -> list[tuple[str, QueryName, int, int]]:
    """(label, query, page size, index into the query's request list) compared across servers."""
    checks: list[tuple[str, QueryName, int, int]] = []
    if "Q1" in queries:
        last = len(workload.listing_cursors) - 1
        for index in sorted({0, 1, last} & set(range(len(workload.listing_cursors)))):
            checks.append((f"Q1 first:{PAGE_SIZE} page {index + 1}", "Q1", PAGE_SIZE, index))
        for index in range(min(2, len(workload.small_listing_cursors))):
            checks.append(
                (f"Q1 first:{SMALL_PAGE_SIZE} page {index + 1}", "Q1", SMALL_PAGE_SIZE, index)
            )
        checks.append((f"Q1 first:{LARGE_PAGE_SIZE} page 1", "Q1", LARGE_PAGE_SIZE, 0))
    if "Q2" in queries:
        for index in range(min(8, len(workload.detail_skus))):
            checks.append((f"Q2 {workload.detail_skus[index]}", "Q2", PAGE_SIZE, index))
    if "Q3" in queries:
        checks.append(("Q3 batch 1", "Q3", PAGE_SIZE, 0))
    if "Q4" in queries:
        checks.append(("Q4", "Q4", PAGE_SIZE, 0))
    return checks


async def verify_payloads(
    servers: Sequence[ServerProcess], workload: Workload, queries: Sequence[QueryName]
) -> list[str]:
    """Compare every server's payloads with the one-worker gateway's; raise on any difference."""
    reference = servers[0]
    expected: dict[str, Any] = {}
    verified: list[str] = []
    checks = verification_requests(workload, queries)
    for server in servers:
        spec = server.spec
        async with load.new_client(server.base_url, 2) as client:
            compared = 0
            for label, query, page_size, index in checks:
                if not supports(spec, query):
                    continue
                request = requests_for(spec, workload, query, page_size)[index]
                try:
                    payload = await fetch_payload(client, spec, request)
                except httpx.TransportError as exc:
                    raise RuntimeError(
                        f"{spec.name}, {label}: {exc!r}; its log ends:\n{server.log_tail()}"
                    ) from exc
                if server is reference:
                    expected[label] = payload
                    continue
                if spec.kind == "gateway":
                    require_equal(
                        f"{spec.name} vs {reference.spec.name}, {label}",
                        normalize_origins(expected[label]),
                        normalize_origins(payload),
                    )
                else:
                    require_equal(
                        f"{spec.name} vs {reference.spec.name}, {label}", expected[label], payload
                    )
                compared += 1
        if server is not reference:
            verified.append(f"{spec.name}: {compared} payloads")
            log(f"payloads of {spec.name} equal the gateway's ({compared} compared)")
    return verified


async def run_cells(
    server: ServerProcess,
    workload: Workload,
    config: Config,
    results: report.Results,
    mongod_pid: int,
) -> None:
    """Every (query, concurrency) cell of one server, lowest concurrency first; then Q1 with
    pages of ``LARGE_PAGE_SIZE`` at ``MARGINAL_CONCURRENCY`` (query label ``report.Q1_LARGE``),
    for the marginal cost per extra product (not on the naive app: its cells are skipped).

    A closed loop at concurrency c lasts at least c x (service time): a cell whose first wave
    alone would outlast ``--max-cell`` (predicted from the throughput at the previous level) is
    skipped and listed in the report instead of stalling the run.
    """
    spec = server.spec
    async with load.new_client(server.base_url, max(config.concurrency)) as client:
        for query in config.queries:
            if not supports(spec, query):
                continue
            requests = requests_for(spec, workload, query)
            offset = 0
            capacity: float | None = None  # requests per second at the previous level
            for concurrency in config.concurrency:
                if capacity and concurrency / capacity > config.max_cell_s:
                    reason = (
                        f"{concurrency} requests in flight at {capacity:.1f} req/s need "
                        f"≈{concurrency / capacity:.0f}s, over --max-cell {config.max_cell_s:g}s"
                    )
                    results.skipped.append(report.Skipped(spec.name, query, concurrency, reason))
                    log(f"{spec.name:>11} {query} c={concurrency:<3} skipped: {reason}")
                    continue
                cell, offset = await _measure(
                    client, server, requests, query, concurrency, offset, config, mongod_pid
                )
                capacity = cell.throughput_rps
                results.cells.append(cell)
        if "Q1" in config.queries and supports(spec, "Q1") and spec.kind != "naive":
            requests = requests_for(spec, workload, "Q1", LARGE_PAGE_SIZE)
            cell, _ = await _measure(
                client,
                server,
                requests,
                report.Q1_LARGE,
                MARGINAL_CONCURRENCY,
                0,
                config,
                mongod_pid,
            )
            results.cells.append(cell)


def round_plan(
    specs: Sequence[ServerSpec], queries: Sequence[QueryName]
) -> dict[str, list[tuple[QueryName, int, str]]]:
    """The cells of the peer targets each server runs in a round: (query, page size, label),
    all at ``PEER_CONCURRENCY``; Q1's two page sizes one after the other, so the cost per
    extra product is a difference of neighbouring cells. Empty without a peer to compare with
    (``--no-peers``, neither Q1 nor Q3)."""
    present = {spec.name: spec for spec in specs}
    if not {report.APOLLO, report.JIT} & set(present):
        return {}
    cells: list[tuple[QueryName, int, str]] = []
    if "Q1" in queries:
        cells += [("Q1", PAGE_SIZE, "Q1"), ("Q1", LARGE_PAGE_SIZE, report.Q1_LARGE)]
    if "Q3" in queries:
        cells.append(("Q3", PAGE_SIZE, "Q3"))
    plan = {
        name: [cell for cell in cells if supports(present[name], cell[0])]
        for name in ROUND_SERVERS
        if name in present
    }
    return {name: planned for name, planned in plan.items() if planned}


async def run_peer_rounds(
    servers: Sequence[ServerProcess],
    workload: Workload,
    config: Config,
    results: report.Results,
    mongod_pid: int,
) -> None:
    """``config.peer_rounds`` rounds of the peer targets' cells; round r runs the servers
    starting with the (r mod n)-th (``peer_rounds.round_order``). Each cell starts at the first
    page, so every round and server sees the same requests."""
    by_name = {server.spec.name: server for server in servers}
    plan = round_plan([server.spec for server in servers], config.queries)
    for index in range(config.peer_rounds if plan else 0):
        order = peer_rounds.round_order(list(plan), index)
        log(f"peer round {index + 1}/{config.peer_rounds}: {' → '.join(order)}")
        cells: list[report.Cell] = []
        for name in order:
            server = by_name[name]
            async with load.new_client(server.base_url, MARGINAL_CONCURRENCY) as client:
                for query, page_size, label in plan[name]:
                    requests = requests_for(server.spec, workload, query, page_size)
                    cell, _ = await _measure(
                        client,
                        server,
                        requests,
                        label,
                        MARGINAL_CONCURRENCY,
                        0,
                        config,
                        mongod_pid,
                    )
                    cells.append(cell)
        results.peer_rounds.append(cells)


async def _measure(
    client: httpx.AsyncClient,
    server: ServerProcess,
    requests: list[Request],
    query: str,
    concurrency: int,
    offset: int,
    config: Config,
    mongod_pid: int,
) -> tuple[report.Cell, int]:
    """One cell after its warm-up, and the offset into ``requests`` the next cell starts at."""
    spec = server.spec
    warm = await load.drive(client, requests, concurrency, config.warmup_s, offset)
    offset += warm.completed + warm.errors
    server_cpu = load.tree_cpu_s(server.pid)
    mongod_cpu = load.tree_cpu_s(mongod_pid)
    measured = await load.drive(client, requests, concurrency, config.duration_s, offset)
    server_cpu = load.tree_cpu_s(server.pid) - server_cpu
    mongod_cpu = load.tree_cpu_s(mongod_pid) - mongod_cpu
    offset += measured.completed + measured.errors
    if measured.errors or warm.errors:
        raise RuntimeError(
            f"{spec.name} {query} c={concurrency}: {measured.errors + warm.errors} "
            f"failed requests, first: {measured.first_error or warm.first_error}"
        )
    done = max(measured.completed, 1)
    cell = report.Cell(
        server=spec.name,
        query=query,
        concurrency=concurrency,
        requests=measured.completed,
        errors=measured.errors,
        elapsed_s=measured.elapsed_s,
        throughput_rps=throughput(measured.completed, measured.elapsed_s),
        latency=summarize_latencies(measured.latencies_s),
        server_cpu_ms=server_cpu * 1000 / done,
        mongod_cpu_ms=mongod_cpu * 1000 / done,
        load1=os.getloadavg()[0],
    )
    log(
        f"{spec.name:>11} {query} c={concurrency:<3} {cell.throughput_rps:8.1f} req/s  "
        f"p50 {cell.latency.p50_ms:8.1f}  p95 {cell.latency.p95_ms:8.1f}  "
        f"p99 {cell.latency.p99_ms:8.1f} ms  CPU {cell.server_cpu_ms:6.1f} + "
        f"{cell.mongod_cpu_ms:5.1f} ms/req  ({cell.requests} requests, load "
        f"{cell.load1:.1f})"
    )
    return cell, offset


async def run_command_counts(
    server: ServerProcess,
    workload: Workload,
    config: Config,
    db: Any,
    results: report.Results,
) -> None:
    spec = server.spec
    plan: list[tuple[QueryName, int | None]] = []
    for query in config.queries:
        if not supports(spec, query):
            continue
        if query == "Q1":
            plan += [("Q1", SMALL_PAGE_SIZE), ("Q1", PAGE_SIZE)]
        else:
            plan.append((query, None))
    async with load.new_client(server.base_url, 1) as client:
        for query, page_size in plan:
            requests = requests_for(spec, workload, query, page_size or PAGE_SIZE)
            counted = await load.count_commands(
                db, spec.app_name, client, requests, config.command_requests
            )
            results.commands.append(
                report.Commands(
                    server=spec.name,
                    query=query,
                    page_size=page_size,
                    requests=counted.requests,
                    per_request=counted.per_request,
                    breakdown=counted.breakdown,
                    docs_examined_per_request=counted.docs_examined / counted.requests,
                    keys_examined_per_request=counted.keys_examined / counted.requests,
                    collscans_per_request=counted.collscans / counted.requests,
                    bytes_per_request=counted.response_bytes / counted.requests,
                )
            )
            label = f"{query} first:{page_size}" if page_size else query
            log(
                f"{spec.name:>11} {label}: {counted.per_request:.1f} MongoDB commands, "
                f"{counted.docs_examined / counted.requests:.0f} documents examined "
                f"({counted.collscans / counted.requests:g} collection scans), "
                f"{counted.response_bytes / counted.requests / 1024:.1f} KiB returned per request"
            )


async def run_soak(server: ServerProcess, workload: Workload, config: Config) -> report.Soak:
    """Constant mixed load (Q1-Q4 round robin) while the RSS of the process tree is sampled."""
    spec = server.spec
    mixed: list[Request] = []
    per_query = [requests_for(spec, workload, q) for q in config.queries if supports(spec, q)]
    for index in range(max(len(r) for r in per_query)):
        mixed += [r[index % len(r)] for r in per_query]
    interval = 5.0 if config.soak_s >= 60 else 1.0
    warmup = min(60.0, config.soak_s * 0.2)
    sampler = load.RssSampler(server.pid, interval)
    sampler.record_series()
    sampler.start()
    try:
        async with load.new_client(server.base_url, SOAK_CONCURRENCY) as client:
            driven = await load.drive(client, mixed, SOAK_CONCURRENCY, config.soak_s)
    finally:
        sampler.stop()
    samples = sampler.take_series()
    total, _, _ = load.tree_rss(server.pid)
    samples.append((config.soak_s, total / MIB))
    if driven.errors:
        raise RuntimeError(f"soak: {driven.errors} failed requests, first: {driven.first_error}")
    return report.Soak(
        server=spec.name,
        seconds=config.soak_s,
        concurrency=SOAK_CONCURRENCY,
        interval_s=interval,
        warmup_s=warmup,
        requests=driven.completed,
        errors=driven.errors,
        throughput_rps=throughput(driven.completed, driven.elapsed_s),
        trend=memory_trend(samples, warmup),
        samples=samples,
    )


def cpu_model() -> str:
    """The processor's name. Ratios to the Node.js peers differ between machines of this kind
    (the same code's Q3 was 1.25x graphql-jit on one, 0.86-0.91x on the next), so a run says
    which processor it had."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown processor"


def machine_info(mongod_version: str) -> dict[str, Any]:
    memory = psutil.virtual_memory().total / 1024**3
    cpus = os.cpu_count() or 0
    cpu = cpu_model()
    summary = (
        f"{cpus} CPUs ({cpu}), {memory:.0f} GiB, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, MongoDB {mongod_version}; load generator "
        f"(httpx) on the same machine"
    )
    return {
        "cpus": cpus,
        "cpu_model": cpu,
        "memory_gib": round(memory, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "mongod": mongod_version,
        "summary": summary,
    }


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


async def main(argv: Sequence[str] | None = None) -> None:
    config = parse_args(list(argv or []))
    if config.peers:
        check_peers_installed()
    signal.signal(signal.SIGTERM, _terminate)
    started = time.monotonic()
    settings = Settings()
    budget = config.budget_s()
    phases: dict[str, float] = {}
    mark = time.monotonic()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        phases[name] = phases.get(name, 0.0) + now - mark
        mark = now

    log(
        f"{config.mode} run: {config.products} products, {config.duration_s:g}s cells, "
        f"concurrency {list(config.concurrency)}, queries {','.join(config.queries)}, "
        f"gateway workers 1 and {config.workers}, soak {config.soak_s:g}s"
    )
    with (
        tempfile.TemporaryDirectory(prefix="bench-gateway-") as temp,
        embedded_mongo(find_mongod(settings.mongod), Path(temp) / "mongo") as mongo,
    ):
        assert mongo.process is not None
        mongo_reaper = watch(mongo.process.pid, budget)
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            mongo.uri, appname="bench-harness", tz_aware=True
        )
        servers: list[ServerProcess] = []
        try:
            catalog = Catalog(client[DB_NAME])
            build = await client.admin.command("buildInfo")
            log("seeding the benchmark catalog ...")
            seeded_at = datetime.now(UTC).replace(microsecond=0)
            seeded = await seed_bench_catalog(
                catalog, config.products, seed=config.seed, settings=settings, now=seeded_at
            )
            log(f"seeded: {seeded}")
            counts = summary_counts(
                await catalog.products.find({}, {"variants.sku": 1, "media.role": 1}).to_list()
            )
            workload = await build_workload(catalog)
            phase("seed")
            results = report.Results(
                date=datetime.now(UTC).strftime("%Y-%m-%d"),
                mode=config.mode,
                machine=machine_info(str(build.get("version", "?"))),
                config={
                    "products": config.products,
                    "duration_s": config.duration_s,
                    "warmup_s": config.warmup_s,
                    "soak_s": config.soak_s,
                    "workers": config.workers,
                    "queries": list(config.queries),
                    "concurrency": list(config.concurrency),
                    "command_requests": config.command_requests,
                    "seed": config.seed,
                    "page_sizes": [SMALL_PAGE_SIZE, PAGE_SIZE],
                },
                catalog={
                    **asdict(seeded),
                    "variants_per_product": counts["variants"],
                    "media_per_product": counts["media"],
                    "summary": (
                        f"{seeded.products} products, "
                        f"{counts['variants'][0]}-{counts['variants'][1]} variants and "
                        f"{counts['media'][0]}-{counts['media'][1]} media each, "
                        f"{seeded.assets} mirrored assets"
                    ),
                },
                method={"commands": COMMANDS_METHOD},
            )
            base_env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith("CATALOG_") and k not in ("MONGODB_URI", "CLOUDINARY_URL")
            }
            # Every request with a viewer key, every role's budget lifted: the cells measure
            # throughput from one address, not the token buckets.
            pepper = bench_pepper()
            roles = unthrottled_roles(Path(temp))
            authorization = await bench_key(catalog, pepper, roles, "viewer")
            base_env.update(
                {
                    "MONGODB_URI": mongo.uri,
                    "CATALOG_DB": DB_NAME,
                    "CATALOG_HOST": "127.0.0.1",
                    "CATALOG_LOG_LEVEL": "warning",
                    "CATALOG_KEY_PEPPER": pepper,
                    "CATALOG_ROLES": str(roles),
                    # Their change streams' getMores would count as the requests' commands
                    # (mongod's counters are global); they cost a request nothing.
                    "CATALOG_READINESS_FOLLOWER": "false",
                    "CATALOG_CACHE_INVALIDATION": "false",
                    "CATALOG_DAM_RECONCILE": "false",
                    "PYTHONDONTWRITEBYTECODE": "1",
                    # The one-worker gateway's emulator runs with it, so the multi-worker
                    # gateway can use that emulator (CATALOG_EMULATOR_URL needs the secret).
                    "CATALOG_EMULATOR_SECRET": secrets.token_urlsafe(32),
                }
            )
            emulator_port = free_port()
            peers_path = None
            if config.peers:
                # The peers build URLs from the templates of the one-worker gateway's emulator.
                peers_path = peer_config.write_peer_config(
                    settings.model_copy(
                        update={"emulator_port": emulator_port, "data_dir": Path(temp) / "peers"}
                    ),
                    Path(temp) / "peer-config.json",
                )
            for spec in server_specs(config, emulator_port, authorization, peers_path):
                server = ServerProcess(
                    spec, {**base_env, "CATALOG_DATA_DIR": str(Path(temp) / spec.name)}, Path(temp)
                )
                servers.append(server)
                server.start(budget)
            for server in servers:
                await server.wait_ready()
                log(f"{server.spec.name} ready on {server.base_url} (pid {server.pid})")
            phase("start servers")
            results.verified = await verify_payloads(servers, workload, config.queries)
            phase("verify payloads")
            load_before = os.getloadavg()[0]
            for server in servers:
                await run_cells(server, workload, config, results, mongo.process.pid)
                phase("cells")
                await run_command_counts(server, workload, config, catalog.db, results)
                phase("count commands")
            await run_peer_rounds(servers, workload, config, results, mongo.process.pid)
            phase("peer rounds")
            if config.soak_s > 0:
                soaked = servers[1] if config.workers > 1 else servers[0]
                log(
                    f"soak: {soaked.spec.name} for {config.soak_s:g}s at concurrency "
                    f"{SOAK_CONCURRENCY} ..."
                )
                results.soak = await run_soak(soaked, workload, config)
                trend = results.soak.trend
                log(
                    f"soak: RSS {trend.start_mib:.0f} → {trend.after_warmup_mib:.0f} (after "
                    f"warm-up) → {trend.end_mib:.0f} MiB, slope "
                    f"{trend.slope_mib_per_min:+.2f} MiB/min"
                )
                phase("soak")
            for server in servers:
                assert server.sampler is not None
                results.memory.append(
                    report.ServerMemory(
                        server=server.spec.name,
                        workers=server.spec.workers,
                        peak_rss_mib=server.sampler.peak_total / MIB,
                        peak_process_rss_mib=server.sampler.peak_process / MIB,
                    )
                )
            # Any asset the gateway looked up in Cloudinary was re-written with a newer checkedAt.
            results.admin_api_lookups = await catalog.assets.count_documents(
                {"checkedAt": {"$gt": seeded_at}}
            )
        finally:
            for server in servers:
                server.stop()
            await client.close()
            mongo_reaper.terminate()
            mongo_reaper.wait()
    phase("stop")
    results.phases = phases
    results.targets = report.evaluate_targets(results, (SMALL_PAGE_SIZE, PAGE_SIZE))
    cpus = os.cpu_count() or 1
    measured = [*results.cells, *(c for cells in results.peer_rounds for c in cells)]
    busiest = max([load_before, *(c.load1 for c in measured)])
    if busiest > cpus + 1:
        results.notes.append(
            f"The machine was busy with other work during this run (1-minute load average up to "
            f"{busiest:.1f} on {cpus} CPUs, of which this benchmark accounts for about 2-3): "
            "throughput and latency are inflated by CPU contention and vary between cells; CPU "
            "time per request and MongoDB commands per request are not affected that way."
        )
    if config.workers > 1:
        results.notes.append(
            f"gateway-{config.workers}w shares this machine's {os.cpu_count()} CPUs with mongod "
            "and the load generator, so its scaling is bounded by the machine, not the gateway."
        )
    stem = results.date if not config.quick else f"{results.date}-quick"
    figure = "latency.png" if not config.quick else "latency-quick.png"
    written = report.write(results, config.output, stem, figure)
    print()
    print(report.markdown(results))
    log(f"wrote {', '.join(str(p) for p in written)} in {time.monotonic() - started:.0f}s")
    misses = [t for t in results.targets if t.status == "MISS"]
    if misses:
        log(f"{len(misses)} target(s) missed: {', '.join(t.name for t in misses)}")
