"""`python -m benchmarks follower`: how soon stored readiness follows a direct MongoDB write.

Issue 16's target: after any write, stored equals live within 2 s at the 99th percentile, with
no cron. On the bench catalog (its stored scores computed first), the readiness follower
(``resolvers.readiness.follower``) runs in this process while writes that bypass the gateway
(an ERP sync's: a product's attributes removed or put back) arrive at ``RATE`` a second; for
each, the time from the write's acknowledgement to its product's stored scores being
rewritten (``readinessBasedOn`` moving past the write). Reported: p50, p95, p99 and max, and the
target line. The follower runs with its production settings (200 ms waits for changes).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from benchmarks.servers import seeded_mongo
from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.db import Catalog
from resolvers.readiness.follower import ReadinessFollower, following
from resolvers.readiness.store import BASED_ON, materialize

PRODUCTS = 2_000
DB_NAME = "bench_follower"
WRITES = 300
RATE = 20.0  # writes a second
TARGET_P99_S = 2.0
FOLLOW_TIMEOUT_S = 30.0


class Observer:
    """Times each write until its product's stored scores are rewritten, from one change
    stream of those rewrites (polling each product would load the follower it measures)."""

    def __init__(self) -> None:
        self.pending: dict[Any, list[float]] = {}  # product _id -> its writes' times
        self.latencies: list[float] = []
        self.done = asyncio.Event()
        self.expected = 0
        self.finished = False  # no more writes will come

    def wrote(self, product_id: Any) -> None:
        self.pending.setdefault(product_id, []).append(time.monotonic())
        self.expected += 1

    async def run(self, catalog: Catalog, opened: asyncio.Event) -> None:
        rewrites = [
            {
                "$match": {
                    "operationType": "update",
                    f"updateDescription.updatedFields.{BASED_ON}": {"$exists": True},
                }
            }
        ]
        async with await catalog.products.watch(rewrites) as stream:
            opened.set()
            async for change in stream:
                at = time.monotonic()
                # One rewrite follows every write made to the product before it.
                for written in self.pending.pop(change["documentKey"]["_id"], []):
                    self.latencies.append(at - written)
                if self.finished and not self.pending:
                    self.done.set()


async def main() -> None:
    settings = Settings()
    profiles = load_profiles(settings)
    async with seeded_mongo(DB_NAME, PRODUCTS, "bench-follower-") as seeded:
        catalog = seeded.catalog
        await materialize(catalog, profiles.channels, profiles.locales, datetime.now(UTC))
        ids = {p["sku"]: p["_id"] async for p in catalog.products.find({}, {"sku": 1})}
        skus = list(ids)
        follower = ReadinessFollower(catalog, profiles.channels, profiles.locales)
        observer, opened = Observer(), asyncio.Event()
        watching = asyncio.create_task(observer.run(catalog, opened))
        async with following(follower):
            await asyncio.wait_for(asyncio.gather(follower.following.wait(), opened.wait()), 60)
            random.seed(16)
            started = time.monotonic()
            for n in range(WRITES):
                sku = random.choice(skus)
                # An ERP sync: attributes gone, or back (alternating per write).
                change = (
                    {"$unset": {"attributes": ""}}
                    if n % 2 == 0
                    else {"$set": {"attributes.erpSynced": n}}
                )
                result = await catalog.products.update_one({"sku": sku}, change)
                if result.modified_count:  # a no-op (attributes gone already) changes nothing
                    observer.wrote(ids[sku])
                await asyncio.sleep(max(0.0, started + (n + 1) / RATE - time.monotonic()))
            observer.finished = True
            if not observer.pending:
                observer.done.set()
            await asyncio.wait_for(observer.done.wait(), FOLLOW_TIMEOUT_S)
        watching.cancel()
        await asyncio.wait([watching])
    latencies = sorted(observer.latencies)
    p = statistics.quantiles(latencies, n=100)
    p50, p95, p99 = p[49], p[94], p[98]
    print(
        f"follower: {WRITES} direct writes at {RATE:.0f}/s over {PRODUCTS} products; stored "
        f"readiness followed in p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms",
        flush=True,
    )
    verdict = "met" if p99 <= TARGET_P99_S else "NOT met"
    print(f"follower: target p99 <= {TARGET_P99_S:.0f} s: {verdict}", flush=True)
