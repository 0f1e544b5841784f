"""`python -m benchmarks bombs`: does ``/healthz`` keep answering while validation bombs arrive?

The two documents of issue 11, item 1, each made unique by a comment so no cache answers them:
900 copies of ``products { edges { node { sku } } }`` (32 KB), and ``name(locale: "de-DE")``
1,600 times in a product selection. ``catalog-gateway serve`` (as deployed: its interpreter
settings, the thread offload of large documents) runs against an embedded mongod; ``--clients``
concurrent clients send ``--bombs`` documents back to back, and meanwhile one thread polls
``/healthz`` every ``POLL_INTERVAL_S`` on a connection of its own. Reported: the health checks'
p50/p99/max latency, the gateway's CPU seconds per bomb (its process tree, psutil) and every
bomb's status; the target is a health check p99 under ``--target-ms`` (100).

The poller is a blocking ``http.client`` in a thread, not a task on the clients' event loop, so
the clients' own work does not delay its timings. Results go to
``benchmarks/results/<date>-bombs.json`` and ``.md``. Takes well under a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from benchmarks.access import unthrottled_roles
from benchmarks.load import tree_cpu_s
from benchmarks.servers import watch
from benchmarks.stats import percentile
from gateway.embedded_mongo import embedded_mongo, find_mongod, free_port
from gateway.settings import Settings

RESULTS_DIR = Path(__file__).parent / "results"
POLL_INTERVAL_S = 0.01
STARTUP_TIMEOUT_S = 90.0
BUDGET_S = 300.0  # the reaper stops the gateway and mongod after this, whatever happens
Shape = Literal["products", "names"]
SHAPES: tuple[Shape, ...] = ("products", "names")


def bomb(shape: Shape) -> str:
    """One of the issue's documents, unique: a comment no cache has seen."""
    tag = f"# bomb {uuid.uuid4().hex}\n"
    if shape == "products":
        return tag + "{ " + "products { edges { node { sku } } } " * 900 + "}"
    return (
        tag + "{ products(first: 1) { edges { node { " + 'name(locale: "de-DE") ' * 1600 + "} } } }"
    )


@dataclass(frozen=True, slots=True)
class Config:
    bombs: int
    clients: int
    target_ms: float
    output: Path


def parse_args(argv: Sequence[str]) -> Config:
    parser = argparse.ArgumentParser(prog="python -m benchmarks bombs", description=__doc__)
    parser.add_argument("--bombs", type=int, default=80, help="documents to send (default 80)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent senders (default 4)")
    parser.add_argument(
        "--target-ms", type=float, default=100.0, help="health check p99 target (default 100)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help="results directory")
    args = parser.parse_args(argv)
    if args.bombs < 1 or args.clients < 1:
        parser.error("--bombs and --clients must be at least 1")
    return Config(args.bombs, args.clients, args.target_ms, args.output)


@dataclass
class Results:
    date: str
    config: dict[str, Any]
    machine: dict[str, Any]
    wall_s: float = 0.0
    cpu_s: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)  # "200 refused", "200 answered", ...
    healthz_ms: list[float] = field(default_factory=list)
    healthz_failures: int = 0
    load_before: float = 0.0
    load_after: float = 0.0

    @property
    def bombs(self) -> int:
        return sum(self.statuses.values())

    def summary(self) -> dict[str, float]:
        values = self.healthz_ms or [0.0]
        return {
            "healthz_checks": len(self.healthz_ms),
            "healthz_p50_ms": percentile(values, 50),
            "healthz_p99_ms": percentile(values, 99),
            "healthz_max_ms": max(values),
            "cpu_s_per_bomb": self.cpu_s / self.bombs if self.bombs else 0.0,
            "bombs_per_s": self.bombs / self.wall_s if self.wall_s else 0.0,
        }


def target(results: Results, target_ms: float) -> tuple[str, str]:
    """PASS or MISS, with what was measured: every health check answered, p99 under target."""
    summary = results.summary()
    p99 = summary["healthz_p99_ms"]
    passed = results.healthz_ms and not results.healthz_failures and p99 < target_ms
    detail = (
        f"/healthz p99 {p99:.1f} ms (target < {target_ms:g} ms) over "
        f"{len(results.healthz_ms)} checks, {results.healthz_failures} failed"
    )
    return ("PASS" if passed else "MISS"), detail


def markdown(results: Results, target_ms: float) -> str:
    s = results.summary()
    status, detail = target(results, target_ms)
    statuses = ", ".join(f"{n} x {k}" for k, n in sorted(results.statuses.items()))
    lines = [
        f"# Validation bombs against `catalog-gateway serve`, {results.date}",
        "",
        f"Machine: {results.machine['summary']}; 1-minute load average "
        f"{results.load_before:.1f} before, {results.load_after:.1f} after.",
        f"{results.bombs} unique bombs ({', '.join(SHAPES)} alternating) from "
        f"{results.config['clients']} clients in {results.wall_s:.1f} s: {statuses}.",
        "",
        "| /healthz checks | p50 ms | p99 ms | max ms | gateway CPU s per bomb | bombs/s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {s['healthz_checks']:.0f} | {s['healthz_p50_ms']:.1f} | {s['healthz_p99_ms']:.1f} "
        f"| {s['healthz_max_ms']:.1f} | {s['cpu_s_per_bomb']:.3f} | {s['bombs_per_s']:.1f} |",
        "",
        f"Target: {status}: {detail}.",
        "",
    ]
    return "\n".join(lines)


def log(message: str) -> None:
    print(f"[bombs {time.strftime('%H:%M:%S')}] {message}", flush=True)


def outcome(response: httpx.Response) -> str:
    """How the gateway answered a bomb: refused (GraphQL errors, nothing executed) or not."""
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} not JSON"
    refused = isinstance(body, dict) and body.get("errors") and body.get("data") is None
    return f"{response.status_code} {'refused' if refused else 'answered'}"


class HealthPoller:
    """Polls ``/healthz`` on one kept-alive connection in a thread until stopped."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.latencies_ms: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="healthz-poller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    connection.request("GET", "/healthz")
                    response = connection.getresponse()
                    response.read()
                    ok = response.status == 200
                except (OSError, http.client.HTTPException):
                    ok = False
                    connection.close()
                if ok:
                    self.latencies_ms.append((time.perf_counter() - started) * 1000)
                else:
                    self.failures += 1
                self._stop.wait(POLL_INTERVAL_S)
        finally:
            connection.close()


async def fire(base_url: str, config: Config, results: Results) -> None:
    queue: asyncio.Queue[Shape] = asyncio.Queue()
    for n in range(config.bombs):
        queue.put_nowait(SHAPES[n % len(SHAPES)])

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
            while not queue.empty():
                response = await http.post("/graphql", json={"query": bomb(queue.get_nowait())})
                key = outcome(response)
                results.statuses[key] = results.statuses.get(key, 0) + 1

    await asyncio.gather(*(client() for _ in range(config.clients)))


async def wait_ready(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as http:
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]  # noqa: ASYNC240 (failing)
                raise RuntimeError(f"the gateway did not start:\n{tail}")
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)


async def run(config: Config, results: Results, mongo_uri: str, temp: Path) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    env.pop("CLOUDINARY_URL", None)  # the gateway's own emulator: no Cloudinary call is made
    env.update(
        {
            "MONGODB_URI": mongo_uri,
            "CATALOG_DB": "bombs",
            "CATALOG_PORT": str(port),
            "CATALOG_EMULATOR_PORT": str(free_port()),
            "CATALOG_DATA_DIR": str(temp / "gateway"),
            "CATALOG_LOG_LEVEL": "warning",
            "CATALOG_KEY_PEPPER": "benchmark-pepper-" + uuid.uuid4().hex,
            # Anonymous bombs from one address: lift the token buckets, or the benchmark
            # measures our 429s rather than what a bomb costs.
            "CATALOG_ROLES": str(unthrottled_roles(temp)),
        }
    )
    log_path = temp / "gateway.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(  # noqa: ASYNC220 (returns once started)
            [sys.executable, "-m", "gateway.cli", "serve"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    reaper = watch(process.pid, BUDGET_S)
    try:
        await wait_ready(process, base_url, log_path)
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
            for shape in SHAPES:  # warm-up: imports, first thread of the offload pool
                warm = outcome(await http.post("/graphql", json={"query": bomb(shape)}))
                log(f"warm-up {shape}: {warm}")
        poller = HealthPoller(port)
        results.load_before = os.getloadavg()[0]
        cpu_before = tree_cpu_s(process.pid)
        started = time.perf_counter()
        poller.start()
        try:
            await fire(base_url, config, results)
        finally:
            results.wall_s = time.perf_counter() - started
            poller.stop()
        results.cpu_s = tree_cpu_s(process.pid) - cpu_before
        results.load_after = os.getloadavg()[0]
        results.healthz_ms = poller.latencies_ms
        results.healthz_failures = poller.failures
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reaper.wait(5)


def machine() -> dict[str, Any]:
    from benchmarks.gateway_bench import machine_info

    return machine_info("embedded")


async def main(argv: Sequence[str] | None = None) -> None:
    config = parse_args(list(argv or []))
    settings = Settings()
    results = Results(
        date=datetime.now(UTC).strftime("%Y-%m-%d"),
        config={"bombs": config.bombs, "clients": config.clients, "target_ms": config.target_ms},
        machine=machine(),
    )
    with (
        tempfile.TemporaryDirectory(prefix="bench-bombs-") as temp,
        embedded_mongo(find_mongod(settings.mongod), Path(temp) / "mongo") as mongo,
    ):
        assert mongo.process is not None
        mongo_reaper = watch(mongo.process.pid, BUDGET_S)
        try:
            log(f"{config.bombs} bombs from {config.clients} clients, /healthz polled meanwhile")
            await run(config, results, mongo.uri, Path(temp))
        finally:
            mongo_reaper.terminate()
            mongo_reaper.wait()
    config.output.mkdir(parents=True, exist_ok=True)
    stem = config.output / f"{results.date}-bombs"
    document = {**asdict(results), "summary": results.summary()}
    status, detail = target(results, config.target_ms)
    document["target"] = {"status": status, "detail": detail}
    stem.with_suffix(".json").write_text(json.dumps(document, indent=2) + "\n")
    text = markdown(results, config.target_ms)
    stem.with_suffix(".md").write_text(text)
    print()
    print(text)
    log(f"target {status}: {detail}; wrote {stem}.json and .md")
