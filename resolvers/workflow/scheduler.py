"""Scheduled publishing: fire due schedules, once, whichever replicas run.

Schedules live in the products' ``workflow`` entries (SCHEDULED with ``scheduledAt``), so they
survive restarts. Every ``poll`` each replica tries to take the ``workflow-scheduler`` lease
(``resolvers.leases``); the holder fires what is due through ``Workflow.fire_due``, which runs
the gates again and writes each firing guarded by the schedule it read. The lease keeps the
replicas from doing the work side by side; the guard makes a firing happen once even if two
ever do (a lease that expired under a stalled holder).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pymongo.errors import PyMongoError

from resolvers.background import running_until_stopped
from resolvers.db import Collection
from resolvers.leases import claim, new_owner
from resolvers.workflow.service import Outcome, Workflow

log = logging.getLogger(__name__)

LEASE = "workflow-scheduler"


@dataclass
class Scheduler:
    workflow: Workflow
    leases: Collection
    poll: timedelta = timedelta(seconds=15)
    owner: str = field(default_factory=lambda: new_owner("scheduler:"))
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    async def tick(self) -> list[Outcome]:
        """One round: fire what is due if this replica holds the lease (else nothing)."""
        now = self.clock()
        # Longer than a round, so a holder keeps it from one round to the next.
        lease = await claim(self.leases, LEASE, self.owner, self.poll * 3, now=now)
        if lease is None:
            return []
        outcomes = await self.workflow.fire_due(now)
        for outcome in outcomes:
            if outcome.ok:
                log.info("scheduled publication of %s fired", outcome.sku)
            else:
                log.warning(
                    "scheduled publication of %s failed: %s",
                    outcome.sku,
                    "; ".join(e.message for e in outcome.errors),
                )
        return outcomes

    async def run(self, stop: asyncio.Event) -> None:
        """Round after round until ``stop`` is set; a round under way finishes first, so
        shutting down never leaves a MongoDB operation (or a publication) half done."""
        while not stop.is_set():
            try:
                await self.tick()
            except PyMongoError:
                # MongoDB away: schedules wait in the database for the next round.
                log.exception("scheduled publishing: a round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll.total_seconds())


def running(
    scheduler: Scheduler,
) -> contextlib.AbstractAsyncContextManager[asyncio.Task[None]]:
    """The scheduler's rounds as a task for the duration of the block (the app's lifespan)."""
    return running_until_stopped(scheduler.run, "scheduled-publishing")
