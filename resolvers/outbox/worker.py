"""The delivery worker: fans new events out to subscriptions and sends what is due.

``run_once(now)`` is one pass (tests call it with a made-up clock); ``run`` repeats it every
``poll`` seconds until cancelled, one loop per subscription (the app's lifespan runs it).
Every replica may run one: a subscription's fan-out is done by whichever holds its
``outbox:fan-out:<name>`` lease, and each delivery is claimed by one conditional update
(``resolvers.outbox.store``).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from bson import ObjectId

from resolvers import leases
from resolvers.db import Database, Document
from resolvers.outbox import fanout, store
from resolvers.outbox.signing import signed_headers
from resolvers.outbox.subscriptions import Subscription

log = logging.getLogger(__name__)

FAN_OUT_LEASE = "outbox:fan-out"
# Backoff: 2 s, 4 s, 8 s … at most an hour, each scaled by a random 50-100 % (jitter) so a
# receiver that comes back is not hit by every retry at once.
BACKOFF_BASE = timedelta(seconds=2)
BACKOFF_CAP = timedelta(hours=1)
MAX_PAUSE_S = 60.0


def backoff(attempts: int, jitter: float) -> timedelta:
    """The wait after the ``attempts``-th failed attempt; ``jitter`` in [0, 1)."""
    delay: timedelta = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempts - 1)))
    return delay * (0.5 + jitter / 2)


@dataclass(frozen=True, slots=True)
class PassReport:
    """What one pass did: deliveries created, sent, and how the attempts ended."""

    created: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0


@dataclass
class DeliveryWorker:
    """Delivers events to ``subscriptions`` over ``http`` (the caller owns and closes it)."""

    db: Database
    subscriptions: Sequence[Subscription]
    http: httpx.AsyncClient
    owner: str = field(default_factory=lambda: leases.new_owner("outbox:"))
    batch: int = 100
    # Requests in flight at once: receivers answer in tens to hundreds of milliseconds, and
    # a pass waits for its slowest one (at most the subscription's timeout).
    concurrency: int = 32
    jitter: Callable[[], float] = random.random
    _seen: set[tuple[str, ObjectId]] = field(default_factory=set, init=False)
    _indexed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._by_name = {s.name: s for s in self.subscriptions}

    async def run(self, poll_s: float) -> None:
        """Passes every ``poll_s`` seconds until cancelled, one loop per subscription, so a
        slow or hanging receiver delays only its own deliveries."""
        await asyncio.gather(*(self._loop(s.name, poll_s) for s in self.subscriptions))

    async def _loop(self, name: str, poll_s: float) -> None:
        # A failed pass (MongoDB away) is logged and retried, less often while failures go
        # on (at most every minute); all state is in MongoDB, so nothing is lost meanwhile.
        failures = 0
        while True:
            busy = False
            try:
                if not self._indexed:
                    await store.ensure_indexes(self.db)
                    self._indexed = True
                report = await self.run_once(only={name})
                busy = report.delivered + report.retrying + report.dead >= self.batch
                failures = 0
            except Exception:
                failures += 1
                if failures == 1 or failures % 10 == 0:
                    log.exception("event delivery pass for %s failed (%d in a row)", name, failures)
            if not busy:  # a full batch: more is due, go on at once
                await asyncio.sleep(min(MAX_PAUSE_S, poll_s * 2 ** min(failures, 10)))

    async def run_once(
        self, now: datetime | None = None, *, only: AbstractSet[str] | None = None
    ) -> PassReport:
        """Fan out new events (for the subscriptions whose fan-out lease this worker holds),
        then send what is due at ``now``, one delivery per (subscription, product) at a time;
        for every subscription, or ``only`` those named."""
        now = now or datetime.now(UTC)
        chosen = [s for s in self.subscriptions if only is None or s.name in only]
        created = 0
        for subscription in chosen:
            lease = await leases.claim(
                leases.leases(self.db),
                f"{FAN_OUT_LEASE}:{subscription.name}",
                self.owner,
                self._lease_time(subscription),
                now=now,
            )
            if lease is not None:
                created += await fanout.fan_out(self.db, [subscription], now, seen=self._seen)
        heads = await store.due_heads(self.db, [s.name for s in chosen], now, self.batch)
        limit = asyncio.Semaphore(self.concurrency)

        async def one(candidate: Document) -> store.Status | None:
            async with limit:
                return await self._deliver(candidate, now)

        outcomes = await asyncio.gather(*(one(c) for c in heads))
        return PassReport(
            created=created,
            delivered=outcomes.count(store.Status.DELIVERED),
            retrying=outcomes.count(store.Status.PENDING),
            dead=outcomes.count(store.Status.DEAD),
        )

    def _lease_time(self, subscription: Subscription) -> timedelta:
        # Longer than one request can take, so a live worker never loses its claim mid-request.
        return timedelta(seconds=subscription.timeout_s * 2 + 10)

    async def _deliver(self, candidate: Document, now: datetime) -> store.Status | None:
        subscription = self._by_name[candidate["subscription"]]
        claimed = await store.claim(
            self.db, candidate, self.owner, now, self._lease_time(subscription)
        )
        if claimed is None:
            return None  # another worker has it
        body = bytes(claimed["body"])
        headers = signed_headers(
            subscription.secrets, str(claimed["eventId"]), int(now.timestamp()), body
        )
        headers["content-type"] = "application/json"
        status: int | None = None
        try:
            response = await self.http.post(
                subscription.url,
                content=body,
                headers=headers,
                timeout=httpx.Timeout(subscription.timeout_s),
            )
            status = response.status_code
            error = None if response.is_success else f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if error is None:
            await store.delivered(self.db, claimed, now, status or 200)
            return store.Status.DELIVERED
        retry_at = now + backoff(int(claimed["attempts"]), self.jitter())
        outcome = await store.failed(self.db, claimed, now, error, status, retry_at)
        if outcome is store.Status.DEAD:
            log.warning(
                "event %s to %s dead after %d attempts: %s",
                claimed["eventId"],
                subscription.name,
                claimed["attempts"],
                error,
            )
        return outcome
