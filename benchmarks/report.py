"""Results of a gateway benchmark run: targets, ratios, the JSON file, the Markdown table and the
latency-versus-concurrency figure."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from benchmarks.peer_rounds import Series, paired_difference
from benchmarks.queries import LARGE_PAGE_SIZE, PAGE_SIZE
from benchmarks.stats import LatencySummary, MemoryTrend, ratio

GATEWAY = "gateway-1w"  # the gateway the targets compare with the baselines (same worker count)
NAIVE = "naive"
REST = "rest"  # the REST floor as written by hand (SDK per URL): the targets are judged with it
REST_TUNED = "rest-tuned"  # the same floor with the gateway's URL templates: GraphQL's cost alone
# The Node.js peers (benchmarks/peers): Apollo Server + DataLoader + mongodb with URL templates,
# and the same schema and resolvers executed by graphql-jit.
APOLLO = "apollo"
JIT = "graphql-jit"
# The baselines of the ratios: (server, label, JSON key infix).
BASELINES = (
    (REST, "REST", "rest"),
    (REST_TUNED, "REST-tuned", "rest_tuned"),
    (NAIVE, "naive", "naive"),
    (APOLLO, "Apollo", "apollo"),
    (JIT, "graphql-jit", "jit"),
)
# The cells of Q1 with the largest pages, measured at PEER_CONCURRENCY only: with Q1's cells at
# that concurrency they give the CPU per extra product on a page.
Q1_LARGE = f"Q1 first:{LARGE_PAGE_SIZE}"
# Where the gateway is compared with the peers (the concurrency of the comparison).
PEER_CONCURRENCY = 16
# Issue 17's targets against the peers.
JIT_FACTOR = 1.2
MARGINAL_MS = 0.35
Status = Literal["PASS", "MISS", "n/a"]


@dataclass(frozen=True, slots=True)
class Cell:
    server: str
    query: str
    concurrency: int
    requests: int
    errors: int
    elapsed_s: float
    throughput_rps: float
    latency: LatencySummary
    server_cpu_ms: float  # CPU time of the server's processes per request
    mongod_cpu_ms: float  # CPU time of mongod per request
    load1: float  # the machine's 1-minute load average when the cell ended


@dataclass(frozen=True, slots=True)
class Skipped:
    server: str
    query: str
    concurrency: int
    reason: str


@dataclass(frozen=True, slots=True)
class Commands:
    server: str
    query: str
    page_size: int | None
    requests: int
    per_request: float
    breakdown: dict[str, int]
    docs_examined_per_request: float = 0.0
    keys_examined_per_request: float = 0.0
    collscans_per_request: float = 0.0
    # Bytes of MongoDB's replies per request (the profiler's responseLength).
    bytes_per_request: float = 0.0


@dataclass(frozen=True, slots=True)
class ServerMemory:
    server: str
    workers: int
    peak_rss_mib: float  # the whole process tree
    peak_process_rss_mib: float  # the largest single process (a worker)


@dataclass(frozen=True, slots=True)
class Soak:
    server: str
    seconds: float
    concurrency: int
    interval_s: float
    warmup_s: float
    requests: int
    errors: int
    throughput_rps: float
    trend: MemoryTrend
    samples: list[tuple[float, float]]


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    status: Status
    detail: str


@dataclass
class Results:
    date: str
    mode: str
    machine: dict[str, Any]
    config: dict[str, Any]
    catalog: dict[str, Any]
    method: dict[str, str]
    cells: list[Cell] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    commands: list[Commands] = field(default_factory=list)
    memory: list[ServerMemory] = field(default_factory=list)
    soak: Soak | None = None
    admin_api_lookups: int | None = None
    verified: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The peer rounds (benchmarks.peer_rounds): each round's cells in the order they ran. When
    # present, the peer targets are judged on their medians instead of ``cells``.
    peer_rounds: list[list[Cell]] = field(default_factory=list)

    def cell(self, server: str, query: str, concurrency: int) -> Cell | None:
        for cell in self.cells:
            if (cell.server, cell.query, cell.concurrency) == (server, query, concurrency):
                return cell
        return None

    def peak_rps(self, server: str, query: str) -> float | None:
        values = [c.throughput_rps for c in self.cells if (c.server, c.query) == (server, query)]
        return max(values) if values else None

    def min_cpu_ms(self, server: str, query: str) -> float | None:
        """The lowest server CPU per request over the concurrency levels (its capacity)."""
        values = [c.server_cpu_ms for c in self.cells if (c.server, c.query) == (server, query)]
        return min(values) if values else None

    def commands_of(self, server: str, query: str, page_size: int | None = None) -> Commands | None:
        for entry in self.commands:
            if (entry.server, entry.query, entry.page_size) == (server, query, page_size):
                return entry
        return None

    def servers(self) -> list[str]:
        return list(dict.fromkeys(c.server for c in self.cells))

    def queries(self) -> list[str]:
        return sorted(dict.fromkeys(c.query for c in self.cells))

    def concurrencies(self) -> list[int]:
        return sorted({c.concurrency for c in self.cells})


# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _throughput_detail(results: Results, query: str, baseline: str) -> str | None:
    """The gateway against ``baseline`` at peak throughput; None if either is not measured."""
    gateway = results.peak_rps(GATEWAY, query)
    base = results.peak_rps(baseline, query)
    value = ratio(gateway, base)
    if gateway is None or base is None or value is None:
        return None
    detail = f"peak {gateway:.1f} vs {base:.1f} req/s = {value:.2f}x"
    cpu = ratio(results.min_cpu_ms(baseline, query), results.min_cpu_ms(GATEWAY, query))
    if cpu is not None:
        detail += f" (by server CPU per request: {cpu:.2f}x)"
    return detail


def _throughput_target(
    results: Results,
    query: str,
    baseline: str,
    factor: float,
    label: str,
    also: str | None = None,
) -> Target:
    """Judged against ``baseline``; the detail also gives the ratio against ``also``."""
    value = ratio(results.peak_rps(GATEWAY, query), results.peak_rps(baseline, query))
    name = f"{query} throughput ≥ {factor:g}x {label}"
    detail = _throughput_detail(results, query, baseline)
    if value is None or detail is None:
        return Target(name, "n/a", f"{query} not measured on both")
    status: Status = "PASS" if value >= factor else "MISS"
    extra = _throughput_detail(results, query, also) if also else None
    if extra is not None:
        detail += f"; against {also}: {extra}"
    return Target(name, status, detail)


def evaluate_targets(results: Results, page_sizes: tuple[int, int]) -> list[Target]:
    """The issue's targets, each PASS, MISS or n/a (not measured in this run).

    Throughput targets compare peak throughput (the best of the concurrency levels, i.e. the
    capacity of one worker) of the one-worker gateway and the one-worker baseline. The REST
    targets are judged against ``rest`` (the floor as written by hand); their details also give
    the ratio against ``rest-tuned`` when it was measured.
    """
    targets = [
        _throughput_target(results, "Q1", REST, 0.5, "REST", also=REST_TUNED),
        _throughput_target(results, "Q1", NAIVE, 5, "naive"),
        _throughput_target(results, "Q3", NAIVE, 10, "naive"),
    ]
    for query in ("Q1", "Q2"):
        gateway = results.cell(GATEWAY, query, 16)
        rest = results.cell(REST, query, 16)
        name = f"{query} p99 at c=16 ≤ 2x REST"
        if gateway is None or rest is None:
            targets.append(Target(name, "n/a", "not measured at concurrency 16 on both"))
            continue
        value = ratio(gateway.latency.p99_ms, rest.latency.p99_ms)
        status: Status = "PASS" if value is not None and value <= 2 else "MISS"
        detail = f"{gateway.latency.p99_ms:.1f} vs {rest.latency.p99_ms:.1f} ms = {_fmt(value)}x"
        tuned = results.cell(REST_TUNED, query, 16)
        if tuned is not None:
            tuned_ratio = ratio(gateway.latency.p99_ms, tuned.latency.p99_ms)
            detail += (
                f"; against {REST_TUNED}: {tuned.latency.p99_ms:.1f} ms = {_fmt(tuned_ratio)}x"
            )
        targets.append(Target(name, status, detail))
    small, large = page_sizes
    few = results.commands_of(GATEWAY, "Q1", small)
    many = results.commands_of(GATEWAY, "Q1", large)
    name = f"MongoDB commands per request constant in page size (Q1 first: {small} vs {large})"
    if few is None or many is None:
        targets.append(Target(name, "n/a", "Q1 commands not counted"))
    else:
        # Optional batches depend on a page's data (no product with the attribute asked for:
        # no definitions query), so averages over different pages differ by a fraction; a
        # per-item pattern would add at least one command per extra item.
        per_item = (many.per_request - few.per_request) / (large - small)
        constant = many.per_request - few.per_request < 1
        targets.append(
            Target(
                name,
                "PASS" if constant else "MISS",
                f"{few.per_request:.2f} vs {many.per_request:.2f} commands per request "
                f"({per_item:+.3f} per extra item)",
            )
        )
    targets += peer_targets(results)
    soak = results.soak
    name = "memory flat over the soak (end ≤ +10% of after warm-up)"
    if soak is None:
        targets.append(Target(name, "n/a", "no soak in this run (--soak 0)"))
    else:
        trend = soak.trend
        targets.append(
            Target(
                name,
                "PASS" if trend.flat else "MISS",
                f"{soak.server}, {soak.seconds:.0f}s: {trend.after_warmup_mib:.0f} → "
                f"{trend.end_mib:.0f} MiB (max {trend.max_mib:.0f}, slope "
                f"{trend.slope_mib_per_min:+.2f} MiB/min)",
            )
        )
    return targets


def marginal_ms(results: Results, server: str) -> float | None:
    """CPU ms per extra product on a Q1 page (PAGE_SIZE to LARGE_PAGE_SIZE) at PEER_CONCURRENCY."""
    small = results.cell(server, "Q1", PEER_CONCURRENCY)
    large = results.cell(server, Q1_LARGE, PEER_CONCURRENCY)
    if small is None or large is None:
        return None
    return (large.server_cpu_ms - small.server_cpu_ms) / (LARGE_PAGE_SIZE - PAGE_SIZE)


def _cpu(cell: Cell) -> float:
    return cell.server_cpu_ms


def _p99(cell: Cell) -> float:
    return cell.latency.p99_ms


def round_series(
    results: Results, server: str, query: str, metric: Callable[[Cell], float]
) -> Series | None:
    """``metric`` of ``server``'s ``query`` cell at PEER_CONCURRENCY in each peer round, or None
    when a round lacks it (then the targets fall back to the per-server cells)."""
    values = []
    for cells in results.peer_rounds:
        found = [
            metric(c)
            for c in cells
            if (c.server, c.query, c.concurrency) == (server, query, PEER_CONCURRENCY)
        ]
        if not found:
            return None
        values.append(found[0])
    return Series(tuple(values)) if values else None


def marginal_series(results: Results, server: str) -> Series | None:
    """CPU ms per extra product on a Q1 page, within each peer round."""
    small = round_series(results, server, "Q1", _cpu)
    large = round_series(results, server, Q1_LARGE, _cpu)
    if small is None or large is None:
        return None
    return paired_difference(small, large, LARGE_PAGE_SIZE - PAGE_SIZE)


def _rounds_basis(results: Results) -> str:
    return f"median of {len(results.peer_rounds)} interleaved rounds"


def _against_peer(
    results: Results, query: str, peer: str, metric: Callable[[Cell], float]
) -> tuple[float, float, str, str] | None:
    """The gateway's and ``peer``'s value of ``metric`` at PEER_CONCURRENCY, and what the detail
    says before and after their figures: the medians of the peer rounds when both ran in them
    (and every round's values), else their cells."""
    mine = round_series(results, GATEWAY, query, metric)
    theirs = round_series(results, peer, query, metric)
    if mine is not None and theirs is not None:
        rounds = f" (rounds: {GATEWAY} {mine.listed()}; {peer} {theirs.listed()})"
        return mine.median, theirs.median, _rounds_basis(results) + ": ", rounds
    gateway = results.cell(GATEWAY, query, PEER_CONCURRENCY)
    other = results.cell(peer, query, PEER_CONCURRENCY)
    if gateway is None or other is None:
        return None
    return metric(gateway), metric(other), "", ""


def _peer_target(
    results: Results,
    name: str,
    query: str,
    peer: str,
    metric: Callable[[Cell], float],
    factor: float,
) -> Target:
    compared = _against_peer(results, query, peer, metric)
    value = None if compared is None else ratio(compared[0], compared[1])
    if compared is None or value is None:
        return Target(name, "n/a", f"{query} not measured at c={PEER_CONCURRENCY} on both")
    mine, theirs, before, after = compared
    detail = f"{before}{mine:.1f} vs {theirs:.1f} ms = {value:.2f}x{after}"
    return Target(name, "PASS" if value <= factor else "MISS", detail)


def peer_targets(results: Results) -> list[Target]:
    """Issue 17: the gateway against the Node.js peers, by CPU per request (PASS/MISS reported,
    never failing the run, like every target here). With peer rounds in the results, each is
    judged on the median over the rounds; the detail says so and lists every round's value."""
    targets: list[Target] = []
    for query in ("Q1", "Q3"):
        prefix = f"{query} server CPU per request at c={PEER_CONCURRENCY} ≤ "
        targets.append(
            _peer_target(results, prefix + "Apollo Server (templates)", query, APOLLO, _cpu, 1)
        )
        targets.append(
            _peer_target(
                results, prefix + f"{JIT_FACTOR:g}x graphql-jit", query, JIT, _cpu, JIT_FACTOR
            )
        )
    targets.append(_marginal_target(results))
    name = f"Q1 p99 at c={PEER_CONCURRENCY} ≤ Apollo Server's p99"
    targets.append(_peer_target(results, name, "Q1", APOLLO, _p99, 1))
    return targets


def _marginal_target(results: Results) -> Target:
    name = (
        f"Q1 marginal server CPU per extra product ({PAGE_SIZE} → {LARGE_PAGE_SIZE}, "
        f"c={PEER_CONCURRENCY}) ≤ {MARGINAL_MS:g} ms"
    )
    rounds = marginal_series(results, GATEWAY)
    if rounds is not None:
        mine = rounds.median
        others = [
            f"{server} {series.median:.3f}"
            for server in (APOLLO, JIT, REST_TUNED)
            if (series := marginal_series(results, server)) is not None
        ]
        detail = f"{_rounds_basis(results)}: {mine:.3f} ms (rounds: {rounds.listed(3)})"
        if others:
            detail += f"; others' medians: {', '.join(others)} ms"
        return Target(name, "PASS" if mine <= MARGINAL_MS else "MISS", detail)
    single = marginal_ms(results, GATEWAY)
    if single is None:
        return Target(name, "n/a", "Q1 not measured at both page sizes")
    others = [
        f"{server} {value:.3f}"
        for server in (APOLLO, JIT, REST, REST_TUNED)
        if (value := marginal_ms(results, server)) is not None
    ]
    detail = f"{single:.3f} ms" + (f" (others: {', '.join(others)} ms)" if others else "")
    return Target(name, "PASS" if single <= MARGINAL_MS else "MISS", detail)


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def to_json(results: Results) -> dict[str, Any]:
    data = asdict(results)
    data["ratios"] = ratio_rows(results)
    return data


def ratio_rows(results: Results) -> list[dict[str, Any]]:
    rows = []
    for query in results.queries():
        for concurrency in results.concurrencies():
            gateway = results.cell(GATEWAY, query, concurrency)
            if gateway is None:
                continue
            row: dict[str, Any] = {
                "query": query,
                "concurrency": concurrency,
                "gateway_rps": gateway.throughput_rps,
            }
            for server, _, key in BASELINES:
                base = results.cell(server, query, concurrency)
                row[f"gateway_over_{key}_rps"] = ratio(
                    gateway.throughput_rps, base.throughput_rps if base else None
                )
                row[f"gateway_over_{key}_p99"] = ratio(
                    gateway.latency.p99_ms, base.latency.p99_ms if base else None
                )
                # CPU per request the other way round: > 1 means the gateway is cheaper.
                row[f"{key}_over_gateway_cpu"] = ratio(
                    base.server_cpu_ms if base else None, gateway.server_cpu_ms
                )
            rows.append(row)
    return rows


def markdown(results: Results) -> str:
    out: list[str] = [
        f"# Gateway benchmark, {results.date} ({results.mode})",
        "",
        f"Machine: {results.machine.get('summary', '')}.",
        f"Catalog: {results.catalog.get('summary', '')}.",
        "",
        "## Throughput and latency",
        "",
        "req/s is throughput; CPU ms/req is the CPU time the server's processes (and mongod) "
        "spent per request, which competing load on the machine does not inflate the way it "
        "inflates latency.",
        "",
        "| Query | Server | c | req/s | p50 ms | p95 ms | p99 ms | server CPU ms/req "
        "| mongod CPU ms/req | requests |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for query in results.queries():
        for server in results.servers():
            for concurrency in results.concurrencies():
                cell = results.cell(server, query, concurrency)
                if cell is None:
                    continue
                lat = cell.latency
                out.append(
                    f"| {query} | {server} | {concurrency} | {cell.throughput_rps:.1f} | "
                    f"{lat.p50_ms:.1f} | {lat.p95_ms:.1f} | {lat.p99_ms:.1f} | "
                    f"{cell.server_cpu_ms:.1f} | {cell.mongod_cpu_ms:.1f} | {cell.requests} |"
                )
    if results.cells:
        loads = [c.load1 for c in results.cells]
        out += [
            "",
            f"Machine 1-minute load average at the end of the cells: {min(loads):.1f} to "
            f"{max(loads):.1f} ({results.machine.get('cpus', '?')} CPUs).",
        ]
    for skipped in results.skipped:
        out.append(
            f"Skipped {skipped.query} on {skipped.server} at c={skipped.concurrency}: "
            f"{skipped.reason}."
        )
    out += [
        "",
        "## Ratios (gateway with 1 worker against the 1-worker baselines)",
        "",
        f"`{REST}` builds delivery URLs with the Cloudinary SDK per URL, as a hand-written "
        f"endpoint would (the targets are judged against it); `{REST_TUNED}` is the same floor "
        "with the gateway's per-slot URL templates, so gateway/REST-tuned is what GraphQL alone "
        f"costs. `{APOLLO}` and `{JIT}` are the Node.js peers (Apollo Server + DataLoader + "
        "mongodb with URL templates; the same on graphql-jit), Q1 and Q3 only. Throughput and "
        "p99 are gateway/baseline; CPU per request is baseline/gateway (above 1: the gateway "
        "spends less).",
        "",
        "| Query | c | against | gateway/baseline req/s | gateway/baseline p99 "
        "| baseline/gateway CPU per req |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for row in ratio_rows(results):
        for _, label, key in BASELINES:
            if row[f"gateway_over_{key}_rps"] is None:
                continue
            out.append(
                f"| {row['query']} | {row['concurrency']} | {label} | "
                f"{_fmt(row[f'gateway_over_{key}_rps'])} | "
                f"{_fmt(row[f'gateway_over_{key}_p99'])} | "
                f"{_fmt(row[f'{key}_over_gateway_cpu'])} |"
            )
    marginal = [(server, marginal_ms(results, server)) for server in results.servers()]
    if any(value is not None for _, value in marginal):
        out += [
            "",
            f"## Q1 cost per extra product (pages of {PAGE_SIZE} and {LARGE_PAGE_SIZE}, "
            f"c={PEER_CONCURRENCY})",
            "",
            f"| Server | CPU ms/req, first: {PAGE_SIZE} | CPU ms/req, first: {LARGE_PAGE_SIZE} "
            "| CPU ms per extra product |",
            "| --- | ---: | ---: | ---: |",
        ]
        for server, value in marginal:
            small = results.cell(server, "Q1", PEER_CONCURRENCY)
            large = results.cell(server, Q1_LARGE, PEER_CONCURRENCY)
            if value is None or small is None or large is None:
                continue
            out.append(
                f"| {server} | {small.server_cpu_ms:.1f} | {large.server_cpu_ms:.1f} "
                f"| {value:.3f} |"
            )
    out += peer_rounds_table(results)
    servers = list(dict.fromkeys(c.server for c in results.commands))
    out += [
        "",
        "## MongoDB commands per request",
        "",
        f"Counted with {results.method.get('commands', 'the profiler')}",
        "",
    ]
    out += _commands_table(results, servers, lambda entry: f"{entry.per_request:.1f}")
    out += [
        "",
        "Documents examined per request (keys examined; collection scans), from the same "
        "profiler entries:",
        "",
    ]
    out += _commands_table(
        results,
        servers,
        lambda entry: (
            f"{entry.docs_examined_per_request:.0f} "
            f"({entry.keys_examined_per_request:.0f}; {entry.collscans_per_request:g})"
        ),
    )
    out += [
        "",
        "Bytes MongoDB sent back per request (KiB; the profiler's responseLength, summed over "
        "the request's commands):",
        "",
    ]
    out += _commands_table(results, servers, lambda entry: f"{entry.bytes_per_request / 1024:.1f}")
    gateway_breakdown = [c for c in results.commands if c.server == GATEWAY]
    if gateway_breakdown:
        out += ["", "Gateway commands by operation and collection (per request):", ""]
        for entry in gateway_breakdown:
            label = f"{entry.query} (first: {entry.page_size})" if entry.page_size else entry.query
            parts = ", ".join(f"{k} {v / entry.requests:g}" for k, v in entry.breakdown.items())
            out.append(f"- {label}: {parts}")
    out += [
        "",
        "## Memory (peak RSS under load)",
        "",
        "| Server | workers | process tree MiB | largest process MiB |",
        "| --- | ---: | ---: | ---: |",
    ]
    for memory in results.memory:
        out.append(
            f"| {memory.server} | {memory.workers} | {memory.peak_rss_mib:.0f} | "
            f"{memory.peak_process_rss_mib:.0f} |"
        )
    if results.soak is not None:
        soak, trend = results.soak, results.soak.trend
        out += [
            "",
            f"Soak: {soak.server}, {soak.seconds:.0f}s at concurrency {soak.concurrency} "
            f"(Q1-Q4 round robin, {soak.requests} requests, {soak.errors} errors, "
            f"{soak.throughput_rps:.1f} req/s); RSS sampled every {soak.interval_s:g}s: start "
            f"{trend.start_mib:.0f} MiB, after {soak.warmup_s:.0f}s warm-up "
            f"{trend.after_warmup_mib:.0f} MiB, end {trend.end_mib:.0f} MiB, max "
            f"{trend.max_mib:.0f} MiB, slope {trend.slope_mib_per_min:+.2f} MiB/min.",
        ]
    out += ["", "## Targets", "", "| Target | Result | Detail |", "| --- | --- | --- |"]
    for target in results.targets:
        out.append(f"| {target.name} | **{target.status}** | {target.detail} |")
    if results.verified:
        out += ["", "Payloads verified equal before timing: " + "; ".join(results.verified) + "."]
    if results.admin_api_lookups is not None:
        out.append(
            f"Admin API lookups made by the gateway during the run: {results.admin_api_lookups}."
        )
    for note in results.notes:
        out += ["", note]
    if results.phases:
        phases = ", ".join(f"{name} {seconds:.0f}s" for name, seconds in results.phases.items())
        out += ["", f"Run time by phase: {phases}."]
    return "\n".join(out) + "\n"


def peer_rounds_table(results: Results) -> list[str]:
    """Every peer round's values and their median, per measure and server, with the spread
    (max/min over the rounds): the noise the peer targets' medians are taken through."""
    if not results.peer_rounds:
        return []
    count = len(results.peer_rounds)
    servers = list(dict.fromkeys(c.server for cells in results.peer_rounds for c in cells))
    measures: list[tuple[str, Callable[[str], Series | None], int]] = [
        (f"Q1 first:{PAGE_SIZE} CPU ms/req", lambda s: round_series(results, s, "Q1", _cpu), 1),
        ("Q3 CPU ms/req", lambda s: round_series(results, s, "Q3", _cpu), 1),
        (f"{Q1_LARGE} CPU ms/req", lambda s: round_series(results, s, Q1_LARGE, _cpu), 1),
        ("Q1 CPU ms per extra product", lambda s: marginal_series(results, s), 3),
        (f"Q1 first:{PAGE_SIZE} p99 ms", lambda s: round_series(results, s, "Q1", _p99), 1),
    ]
    orders = "; ".join(
        f"{index + 1}: " + " → ".join(dict.fromkeys(c.server for c in cells))
        for index, cells in enumerate(results.peer_rounds)
    )
    out = [
        "",
        f"## Peer rounds (c={PEER_CONCURRENCY})",
        "",
        f"The cells of the peer targets again, in {count} rounds: in each, every server one "
        "after another, round r starting with server r mod n and odd rounds going backward "
        "(so no server always follows the same one), much closer together in time than the "
        "per-server cells above. The peer targets are judged on the median over the rounds; "
        "the spread (max/min over the rounds) is how far the machine moved the same measure. "
        f"Order: {orders}.",
        "",
        "| Measure | Server | "
        + " | ".join(f"round {i + 1}" for i in range(count))
        + " | median | spread |",
        "| --- | --- | " + " | ".join("---:" for _ in range(count + 2)) + " |",
    ]
    for label, series_of, digits in measures:
        for server in servers:
            series = series_of(server)
            if series is None:
                continue
            values = " | ".join(f"{value:.{digits}f}" for value in series.values)
            spread = "—" if series.spread is None else f"{series.spread:.2f}"
            out.append(f"| {label} | {server} | {values} | {series.median:.{digits}f} | {spread} |")
    return out


def plot(results: Results, path: Path) -> None:
    """p50 (solid) and p99 (dashed) latency against concurrency, one panel per query."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    queries = results.queries()
    if not queries:
        return
    columns = min(2, len(queries))
    rows = (len(queries) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 4 * rows), squeeze=False)
    flat = [axis for row in axes for axis in row]
    for unused in flat[len(queries) :]:
        unused.set_visible(False)
    colours = {GATEWAY: "C0", NAIVE: "C3", REST: "C2", REST_TUNED: "C1", APOLLO: "C4", JIT: "C5"}
    for axis, query in zip(flat, queries, strict=False):
        for index, server in enumerate(results.servers()):
            cells = sorted(
                (c for c in results.cells if (c.server, c.query) == (server, query)),
                key=lambda c: c.concurrency,
            )
            if not cells:
                continue
            colour = colours.get(server, f"C{index + 4}")
            xs = [c.concurrency for c in cells]
            axis.plot(
                xs, [c.latency.p50_ms for c in cells], "o-", color=colour, label=f"{server} p50"
            )
            axis.plot(
                xs, [c.latency.p99_ms for c in cells], "s--", color=colour, label=f"{server} p99"
            )
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xticks(results.concurrencies())
        axis.set_xticklabels([str(c) for c in results.concurrencies()])
        axis.set_title(query)
        axis.set_xlabel("concurrency")
        axis.set_ylabel("latency (ms)")
        axis.grid(True, which="both", alpha=0.3)
    flat[0].legend(fontsize=7)
    figure.suptitle(f"Catalog gateway latency vs concurrency ({results.date}, {results.mode})")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(results: Results, directory: Path, stem: str, figure_name: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / f"{stem}.json"
    md_path = directory / f"{stem}.md"
    png_path = directory / figure_name
    json_path.write_text(json.dumps(to_json(results), indent=2, default=str) + "\n")
    md_path.write_text(markdown(results))
    plot(results, png_path)
    return [json_path, md_path, png_path]


def _commands_table(
    results: Results, servers: list[str], shown: Callable[[Commands], str]
) -> list[str]:
    """A table of one figure of the command counts: a row per query, a column per server."""
    rows = [
        "| Query | " + " | ".join(servers) + " |",
        "| --- | " + " | ".join("---:" for _ in servers) + " |",
    ]
    for query, page_size in dict.fromkeys((c.query, c.page_size) for c in results.commands):
        label = f"{query} (first: {page_size})" if page_size else query
        values = []
        for server in servers:
            entry = results.commands_of(server, query, page_size)
            values.append("—" if entry is None else shown(entry))
        rows.append(f"| {label} | " + " | ".join(values) + " |")
    return rows
