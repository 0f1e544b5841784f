"""Reconciliation with Cloudinary: what no notification told the mirror, a sweep finds.

Notifications get lost (an endpoint down longer than Cloudinary retries, a misconfigured
notification URL, a change made while the gateway was not subscribed), and an asset uploaded
after a page first asked for it stays marked missing until the mark expires. The sweep reads
Cloudinary's Search API by last update, oldest first, and writes every listed asset to the
mirror exactly as an upload notification would (``upsert_assets``: a newer version is never
overwritten, a "missing" mark is replaced by the asset).

- One replica sweeps at a time (the ``cloudinary-reconcile`` lease).
- Resumable: the last update time seen and the Search API's ``next_cursor`` of a sweep under
  way are stored in MongoDB after every page, so a restart or another replica carries on
  where the last page ended.
- Only what differs is written: an asset listed as the mirror holds it already (its
  notification arrived) costs no write, so the readiness follower rescores nothing for it.
- Bounded: at most ``calls_per_hour`` Admin API calls per hour, counted in MongoDB too (a
  fail-over does not get a fresh budget); and no call at all while the breaker rests after a
  failure, so a failing Cloudinary costs the sweep nothing.
- Rescoring: with the readiness follower on, the mirror writes are its input and it rescores
  the products using them; without it, ``rescore`` is called with the changed public ids.

What the sweep cannot see: deletions (a deleted asset is not listed); their notifications, a
lookup of a referenced id or ``media audit`` are what record them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pymongo.errors import PyMongoError

from resolvers.assets.dam import DamClient, DamUnavailableError
from resolvers.assets.mirror import (
    PUBLISHED_REFERENCE,
    AssetKey,
    asset_from_resource,
    key_of,
    published_references,
    upsert_assets,
)
from resolvers.background import running_until_stopped
from resolvers.db import Catalog, Collection, Document, as_utc
from resolvers.leases import claim, new_owner, release

log = logging.getLogger(__name__)

LEASE = "cloudinary-reconcile"
CURSORS = "change_cursors"
CURSOR = "cloudinary-reconcile"
SOURCE = "reconcile"
HOUR = timedelta(hours=1)
MIN_LEASE = timedelta(minutes=1)
# The Search API's largest page.
PAGE_SIZE = 500

Stopped = Literal["caught-up", "budget", "breaker", "unavailable"]


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What one sweep did: Admin API calls made, assets listed and mirror records changed."""

    calls: int
    listed: int
    changed: int
    stopped: Stopped


@dataclass
class _Cursor:
    """The stored place of the sweep (one document of ``change_cursors``)."""

    # Last update time seen (Cloudinary's ISO instant, one-second resolution): the next sweep
    # asks from that second again (``>=``: a change later in the same second is not skipped).
    since: str | None = None
    # A sweep under way: where its query started and the Search API's cursor of its next page.
    started_from: str | None = None
    next_cursor: str | None = None
    # The hourly budget: when its hour began and the calls made in it.
    hour: datetime | None = None
    calls: int = 0

    @classmethod
    def of(cls, document: Document | None) -> _Cursor:
        if document is None:
            return cls()
        hour = document.get("hour")
        return cls(
            since=document.get("since"),
            started_from=document.get("startedFrom"),
            next_cursor=document.get("nextCursor"),
            hour=None if hour is None else as_utc(hour),
            calls=int(document.get("calls") or 0),
        )

    def fields(self) -> Document:
        return {
            "since": self.since,
            "startedFrom": self.started_from,
            "nextCursor": self.next_cursor,
            "hour": self.hour,
            "calls": self.calls,
        }


@dataclass
class Reconciler:
    catalog: Catalog
    dam: DamClient
    calls_per_hour: int = 60
    every: timedelta = timedelta(minutes=5)
    # Called with the public ids whose mirror records changed; None where the readiness
    # follower rescores from the mirror's change stream (rescoring twice would waste a pass).
    rescore: Callable[[list[str]], Awaitable[Any]] | None = None
    page_size: int = PAGE_SIZE
    owner: str = field(default_factory=lambda: new_owner("reconcile:"))
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    swept: asyncio.Event = field(default_factory=asyncio.Event)
    """Set after each sweep this replica ran (a waiter clears it)."""

    @property
    def cursors(self) -> Collection:
        return self.catalog.db[CURSORS]

    @property
    def leases(self) -> Collection:
        return self.catalog.db["leases"]

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep every ``every`` while this replica holds the lease."""
        # Held across sweeps, for three periods but at least a minute (a sweep of many pages
        # must not outlast it): a replica that died is replaced after that.
        ttl = max(self.every * 3, MIN_LEASE)
        lease = None
        try:
            while not stop.is_set():
                try:
                    lease = await claim(self.leases, LEASE, self.owner, ttl)
                    if lease is not None:
                        await self.sweep()
                        self.swept.set()
                except PyMongoError as exc:
                    log.warning("Cloudinary reconciliation: %s; trying again", exc)
                except Exception:
                    # A resource the mirror cannot take must not end the sweeps for good (nor
                    # fail the shut-down that awaits this task); the next turn tries again.
                    log.exception("Cloudinary reconciliation failed; trying again next period")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.every.total_seconds())
        finally:
            if lease is not None:
                with contextlib.suppress(PyMongoError):
                    await release(self.leases, lease)

    async def sweep(self) -> SweepResult:
        """Read pages of changes until caught up, out of budget, or Cloudinary fails."""
        cursor = _Cursor.of(await self.cursors.find_one({"_id": CURSOR}))
        calls = listed = changed = 0
        while True:
            now = self.clock()
            if cursor.hour is None or now >= cursor.hour + HOUR:
                cursor.hour, cursor.calls = now, 0
            if cursor.calls >= self.calls_per_hour:
                stopped: Stopped = "budget"
                break
            if self.dam.admin_resting:
                stopped = "breaker"
                break
            if cursor.next_cursor is None:
                cursor.started_from = cursor.since
            cursor.calls += 1
            calls += 1
            try:
                resources, next_cursor = await self.dam.updated_since(
                    cursor.started_from, cursor.next_cursor, self.page_size
                )
            except DamUnavailableError as exc:
                log.warning("Cloudinary reconciliation paused: %s", exc)
                await self._save(cursor)
                stopped = "unavailable"
                break
            listed += len(resources)
            changed_ids = await self._mirror(resources, cursor, now)
            changed += len(changed_ids)
            cursor.next_cursor = next_cursor
            # Saved before rescoring: a crash then rescores nothing twice, and the follower
            # (or the next request) has the mirror's word anyway.
            await self._save(cursor)
            if changed_ids and self.rescore is not None:
                await self.rescore(changed_ids)
            if next_cursor is None:
                stopped = "caught-up"
                break
        await self._refresh_published_marks()
        if calls:
            log.info(
                "Cloudinary reconciliation: %d Admin API call(s), %d asset(s) listed, "
                "%d mirror record(s) changed (%s)",
                calls,
                listed,
                changed,
                stopped,
            )
        return SweepResult(calls, listed, changed, stopped)

    async def _mirror(
        self, resources: list[dict[str, Any]], cursor: _Cursor, now: datetime
    ) -> list[str]:
        """Write the listed assets the mirror does not hold as listed; their public ids."""
        documents = [asset_from_resource(resource, now, SOURCE) for resource in resources]
        for resource in resources:
            updated = _updated_at(resource)
            if updated is not None and (cursor.since is None or updated > cursor.since):
                cursor.since = updated
        stored: dict[AssetKey, Document] = {}
        query = {"publicId": {"$in": [document["publicId"] for document in documents]}}
        async for document in self.catalog.assets.find(query, {"_id": 0}):
            stored[key_of(document)] = document
        # Each sweep starts at the second it stopped in, listing those assets again; and most
        # changes arrived by notification: writing them again would only make the follower
        # rescore their products for nothing.
        changed = [d for d in documents if _differs(d, stored.get(key_of(d)))]
        await upsert_assets(self.catalog.assets, changed)
        return [document["publicId"] for document in changed]

    async def _save(self, cursor: _Cursor) -> None:
        await self.cursors.update_one(
            {"_id": CURSOR},
            {"$set": {**cursor.fields(), "owner": self.owner, "at": self.clock()}},
            upsert=True,
        )

    async def _refresh_published_marks(self) -> None:
        """Missing marks of assets that products published since the mark now reference get
        the shorter TTL (``mark_missing`` decides it only when it marks)."""
        assets = self.catalog.assets
        marked = await assets.distinct(
            "publicId", {"status": "missing", PUBLISHED_REFERENCE: {"$ne": True}}
        )
        referenced = await published_references(assets, marked)
        if referenced:
            await assets.update_many(
                {"status": "missing", "publicId": {"$in": sorted(referenced)}},
                {"$set": {PUBLISHED_REFERENCE: True}},
            )


# Bookkeeping of the mirror's own, not news from Cloudinary.
_BOOKKEEPING = frozenset({"checkedAt", "updatedAt", "source"})


def _differs(listed: Document, stored: Document | None) -> bool:
    if stored is None:
        return True
    return any(
        _comparable(stored.get(name)) != _comparable(value)
        for name, value in listed.items()
        if name not in _BOOKKEEPING
    )


def _comparable(value: Any) -> Any:
    return as_utc(value) if isinstance(value, datetime) else value


def _updated_at(resource: dict[str, Any]) -> str | None:
    """The Search API's last update of a resource (ISO, UTC, seconds), else its creation."""
    last = resource.get("last_updated")
    if isinstance(last, dict) and isinstance(last.get("updated_at"), str):
        return str(last["updated_at"])
    created = resource.get("created_at")
    return created if isinstance(created, str) else None


def reconciling(
    reconciler: Reconciler,
) -> contextlib.AbstractAsyncContextManager[asyncio.Task[None]]:
    """The reconciler as a task for the duration of the block (the app's lifespan)."""
    return running_until_stopped(reconciler.run, "cloudinary-reconcile")
