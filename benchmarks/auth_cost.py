"""`python -m benchmarks auth`: what authenticating costs a Q1 request.

The gateway in this process (its lifespan, its /graphql handler, over httpx's ASGI transport)
on the bench catalog in an embedded mongod. Q1 (a listing page of 48) sent anonymously and with
a storefront API key (the same role, so the same products and the same MongoDB work), in
alternating rounds so that drift in the machine's load hits both alike. Reported: latency
p50/mean and this process's CPU time per request for each, the reads of key records during the
timed rounds (the key cache: 0 expected), and ``Authenticator.authenticate`` alone. Every
role's request budget is lifted (``benchmarks/access.py``). Takes about a minute.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import httpx

from benchmarks.access import bench_key, unthrottled_roles
from benchmarks.load import send
from benchmarks.queries import Request
from benchmarks.servers import in_process, seeded_mongo
from gateway.auth import Authenticator

PRODUCTS = 1_000
DB_NAME = "bench_auth"
WARMUP = 20
ROUNDS = 20
PER_ROUND = 25  # requests of each kind per round
DIRECT_CALLS = 20_000
CLIENT = "127.0.0.1"


@dataclass
class Timings:
    latencies_s: list[float]
    cpu_s: float = 0.0

    def line(self, label: str) -> str:
        ms = sorted(x * 1000 for x in self.latencies_s)
        count = len(ms)
        return (
            f"auth: {label:<22} p50 {statistics.median(ms):6.2f} ms  "
            f"mean {statistics.fmean(ms):6.2f} ms  "
            f"CPU {self.cpu_s / count * 1000:6.2f} ms/request  ({count} requests)"
        )


async def timed(client: httpx.AsyncClient, requests: Sequence[Request], into: Timings) -> None:
    cpu = time.process_time()
    for request in requests:
        started = time.perf_counter()
        response = await send(client, request)
        into.latencies_s.append(time.perf_counter() - started)
        if response.status_code != 200 or b'"errors":' in response.content:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
    into.cpu_s += time.process_time() - cpu


async def direct_cost(authenticator: Authenticator, authorization: str | None) -> float:
    """Microseconds per ``authenticate`` call (a cached key, or none)."""
    started = time.perf_counter()
    for _ in range(DIRECT_CALLS):
        await authenticator.authenticate(authorization, CLIENT)
    return (time.perf_counter() - started) / DIRECT_CALLS * 1e6


async def main() -> None:
    async with seeded_mongo(DB_NAME, PRODUCTS, "bench-auth-") as seeded:
        roles = unthrottled_roles(seeded.temp)
        authorization = await bench_key(seeded.catalog, seeded.pepper, roles, "storefront")
        settings = seeded.settings(roles=roles)
        pages = seeded.workload.graphql("Q1")
        key = (("authorization", authorization),)
        results = {"anonymous": Timings([]), "storefront key": Timings([])}
        async with in_process(settings) as (http, state, _):
            authenticator: Authenticator = state["authenticator"]
            warm = Timings([])
            warmup = [pages[i % len(pages)] for i in range(WARMUP)]
            await timed(http, warmup, warm)
            await timed(http, [replace(r, headers=key) for r in warmup], warm)
            reads, started = authenticator.lookups, time.monotonic()
            for round_ in range(ROUNDS):
                chosen = [pages[(round_ * PER_ROUND + i) % len(pages)] for i in range(PER_ROUND)]
                keyed = [replace(r, headers=key) for r in chosen]
                # Alternate which goes first: neither always follows the other's garbage.
                order = [("anonymous", chosen), ("storefront key", keyed)]
                for label, requests in order if round_ % 2 == 0 else order[::-1]:
                    await timed(http, requests, results[label])
            reads, elapsed = authenticator.lookups - reads, time.monotonic() - started
            direct_key = await direct_cost(authenticator, authorization)
            direct_anonymous = await direct_cost(authenticator, None)
    print(f"auth: Q1 (first: 48), {PRODUCTS} products, in process, sequential", flush=True)
    for label, timings in results.items():
        print(timings.line(label), flush=True)
    plain, keyed_timings = results["anonymous"], results["storefront key"]
    extra_ms = statistics.fmean(keyed_timings.latencies_s) - statistics.fmean(plain.latencies_s)
    extra_cpu = (keyed_timings.cpu_s - plain.cpu_s) / len(keyed_timings.latencies_s)
    print(
        f"auth: a key adds {extra_ms * 1000:+.3f} ms mean latency, "
        f"{extra_cpu * 1000:+.3f} ms CPU per request; key record reads from MongoDB during "
        f"{len(keyed_timings.latencies_s)} keyed requests: {reads} in {elapsed:.0f} s "
        f"(one per CATALOG_KEY_CACHE_S = {settings.key_cache_s:g} s at most)",
        flush=True,
    )
    print(
        f"auth: Authenticator.authenticate alone: cached key {direct_key:.1f} µs, "
        f"no key {direct_anonymous:.2f} µs",
        flush=True,
    )
