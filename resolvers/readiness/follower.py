"""Stored readiness follows every write, whoever made it: a change-stream consumer.

Requests, imports and webhooks rescore what they change as they go, but a write that bypasses
the gateway (an ERP sync writing MongoDB directly, a fix in the shell) or a rescore lost to a
crash would leave stored scores disagreeing with the live ones until a cron. The follower
watches the database's change stream for the inputs of a score (products, the asset mirror,
categories, attribute definitions) and rescores the products they affect:

- products: the changed product (its own readiness writes are left out of the stream);
- assets: the products whose media reference the asset;
- categories: the products in the category;
- attribute definitions: the products of the categories that require the attribute.

One replica follows at a time (the ``readiness-follower`` lease; another takes over when its
holder stops renewing). The resume token is stored in ``change_cursors`` after each batch, so a
new holder carries on where the last one stopped: a change is handled at least once. A token
the oplog no longer covers (a follower stopped for longer than the oplog's window) is answered
by rescoring every product once, then following from now. Stored scores are written by
compare-and-set on the cluster time of their inputs' read (``store.BASED_ON``), so the
follower and a request rescoring the same product never leave the older result.

With a ``Heartbeat`` (``rollout``) the follower runs only on a replica of the rules stored
scores follow: it gives its lease up when a majority adopts other rules, a replica of those
takes it over, and the new holder first rescores every product stored under other rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.errors import OperationFailure, PyMongoError

from resolvers.background import running_until_stopped
from resolvers.channels import Channels
from resolvers.db import UPDATED_FIELD_NAMES, Catalog, Collection, Document
from resolvers.leases import Lease, claim, new_owner, release, renew
from resolvers.locales import LocaleResolver
from resolvers.readiness.rollout import Heartbeat
from resolvers.readiness.store import (
    materialize,
    rescore_query,
    rescore_stale,
    rules_hash,
    stale_query,
)

log = logging.getLogger(__name__)

LEASE = "readiness-follower"
CURSORS = "change_cursors"
CURSOR = "readiness"
INPUTS = ("products", "assets", "categories", "attributes")
# The server's error codes for a resume token the oplog no longer covers.
HISTORY_LOST = frozenset({136, 280, 286})
# Changes handled together: one rescore of their products.
MAX_BATCH = 1000
BATCH_WINDOW = timedelta(milliseconds=100)


def _pipeline(rules_hash: str) -> list[Document]:
    """The changes to follow; ``rules_hash``: the rules this follower scores with."""
    readiness_fields = {
        "$filter": {
            "input": {"$objectToArray": {"$ifNull": ["$updateDescription.updatedFields", {}]}},
            "cond": {"$eq": [{"$substrCP": ["$$this.k", 0, 9]}, "readiness"]},
        }
    }
    return [
        {
            "$match": {
                "ns.coll": {"$in": list(INPUTS)},
                "operationType": {"$in": ["insert", "update", "replace"]},
            }
        },
        # The changed fields' names only, and the rules of the scores written: a product's new
        # values can be large.
        {
            "$project": {
                "ns.coll": 1,
                "operationType": 1,
                "documentKey": 1,
                "fields": UPDATED_FIELD_NAMES,
                "scoredWith": {"$map": {"input": readiness_fields, "in": "$$this.v.rulesHash"}},
            }
        },
        # A product write that stored scores (the follower's own, an import's, a request's) was
        # scored by its writer with what it wrote, unless with other rules than these (an
        # import through a replica of the rules not adopted, during a rolling deploy).
        {
            "$match": {
                "$or": [
                    {"ns.coll": {"$ne": "products"}},
                    {"operationType": {"$ne": "update"}},
                    {"scoredWith": {"$size": 0}},
                    {"scoredWith": {"$elemMatch": {"$nin": [None, rules_hash]}}},
                ]
            }
        },
    ]


@dataclass
class Affected:
    """What a batch of changes touched, by the collection it changed."""

    ids: dict[str, set[Any]] = field(default_factory=lambda: {name: set() for name in INPUTS})
    rescored: set[Any] = field(default_factory=set)
    """Products whose scores alone were written, with other rules: rescored only while their
    stored scores are still those (a rolling deploy's former follower wrote them; since then
    the new rules' scores may have replaced them)."""

    def add(self, change: Mapping[str, Any]) -> None:
        collection, key = change["ns"]["coll"], change["documentKey"]["_id"]
        fields = change.get("fields") or []
        if collection == "products" and fields and all(f.startswith("readiness") for f in fields):
            self.rescored.add(key)
        else:
            self.ids[collection].add(key)

    def __bool__(self) -> bool:
        return bool(self.rescored) or any(self.ids.values())


async def products_query(
    catalog: Catalog, affected: Affected, channels: Channels
) -> dict[str, Any] | None:
    """The products whose scores read what changed; None when none can."""
    clauses: list[Document] = []
    if affected.rescored:
        clauses.append({"_id": {"$in": list(affected.rescored)}, **stale_query(channels)})
    if affected.ids["products"]:
        clauses.append({"_id": {"$in": list(affected.ids["products"])}})
    if affected.ids["assets"]:
        public_ids = await catalog.assets.distinct(
            "publicId", {"_id": {"$in": list(affected.ids["assets"])}}
        )
        if public_ids:
            clauses.append({"media.publicId": {"$in": public_ids}})
    slugs: set[str] = set()
    if affected.ids["categories"]:
        slugs.update(
            await catalog.categories.distinct(
                "slug", {"_id": {"$in": list(affected.ids["categories"])}}
            )
        )
    if affected.ids["attributes"]:
        codes = await catalog.attributes.distinct(
            "code", {"_id": {"$in": list(affected.ids["attributes"])}}
        )
        if codes:
            slugs.update(
                await catalog.categories.distinct("slug", {"requiredAttributes": {"$in": codes}})
            )
    if slugs:
        clauses.append({"categories": {"$in": sorted(slugs)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


@dataclass
class ReadinessFollower:
    catalog: Catalog
    channels: Channels
    locales: LocaleResolver
    lease_ttl: timedelta = timedelta(seconds=15)
    # How long one wait for changes lasts (a getMore's maxAwaitTimeMS).
    wait: timedelta = timedelta(milliseconds=200)
    owner: str = field(default_factory=lambda: new_owner("readiness:"))
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    handled: int = 0
    """Changes handled by this follower (for tests and logs)."""
    following: asyncio.Event = field(default_factory=asyncio.Event)
    """Set while this follower holds the lease and its change stream is open."""
    progressed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set after each batch of changes handled (a waiter clears it)."""
    rules: Heartbeat | None = None
    """This replica's heartbeat: the follower follows only while stored scores follow this
    replica's rules. None: always (one configuration, or a test)."""
    migrated: int = 0
    """Products rescored because their scores were stored under other rules."""

    @property
    def _may_follow(self) -> bool:
        return self.rules is None or self.rules.follows

    @property
    def leases(self) -> Collection:
        return self.catalog.db["leases"]

    @property
    def cursors(self) -> Collection:
        return self.catalog.db[CURSORS]

    async def run(self, stop: asyncio.Event) -> None:
        """Follow while this replica holds the lease; try to take it while another does."""
        while not stop.is_set():
            if self.rules is not None:
                # Before the check: a change of adoption from now on wakes the pause below.
                self.rules.changed.clear()
            try:
                lease = None
                if self._may_follow:
                    lease = await claim(self.leases, LEASE, self.owner, self.lease_ttl)
                if lease is not None:
                    try:
                        await self._follow(lease, stop)
                    finally:
                        self.following.clear()
                        with contextlib.suppress(PyMongoError):
                            await release(self.leases, lease)
            except PyMongoError as exc:
                log.warning("readiness follower: %s; trying again", exc)
            await self._pause(stop)

    async def _pause(self, stop: asyncio.Event) -> None:
        """Until the next try for the lease: a third of its time, or a heartbeat's interval
        (a replica of newly adopted rules takes over as soon as the former holder lets go)."""
        timeout = self.lease_ttl.total_seconds() / 3
        waits = [asyncio.ensure_future(stop.wait())]
        if self.rules is not None:
            timeout = min(timeout, self.rules.interval.total_seconds())
            waits.append(asyncio.ensure_future(self.rules.changed.wait()))
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

    async def _follow(self, lease: Lease, stop: asyncio.Event) -> None:
        saved = await self.cursors.find_one({"_id": CURSOR})
        token = None if saved is None else saved.get("token")
        try:
            stream = await self._watch(token)
        except OperationFailure as exc:
            if exc.code not in HISTORY_LOST:
                raise
            log.warning("readiness follower: the oplog no longer holds its place; rescoring all")
            stream = await self._watch(None)
            await materialize(
                self.catalog, self.channels, self.locales, self.clock(), overrule=True
            )
        renew_every = self.lease_ttl.total_seconds() / 3
        renew_at = time.monotonic() + renew_every
        async with stream:
            if self.rules is not None:
                # Opened first, so no change is missed while the former rules' scores go.
                self.migrated += await rescore_stale(
                    self.catalog, self.channels, self.locales, self.clock()
                )
            self.following.set()
            while not stop.is_set():
                if not self._may_follow:
                    log.info("readiness follower: stored scores follow other rules; letting go")
                    return
                affected, count = Affected(), 0
                # A batch ends when the stream is quiet, or after BATCH_WINDOW: under a steady
                # stream of writes it would otherwise never end, and nothing would be rescored.
                closes = time.monotonic() + BATCH_WINDOW.total_seconds()
                while count < MAX_BATCH and time.monotonic() < closes:
                    change = await stream.try_next()
                    if change is None:
                        break
                    affected.add(change)
                    count += 1
                if affected:
                    await self._rescore(affected)
                    self.handled += count
                    self.progressed.set()
                due = time.monotonic() >= renew_at
                # After changes; while idle, only now and then (the token moves with every
                # wait, and a write per wait would be a write every fraction of a second).
                if count or (due and token != stream.resume_token):
                    token = stream.resume_token
                    await self.cursors.update_one(
                        {"_id": CURSOR},
                        {"$set": {"token": token, "owner": self.owner, "at": self.clock()}},
                        upsert=True,
                    )
                if due:
                    renewed = await renew(self.leases, lease, self.lease_ttl)
                    if renewed is None:
                        log.warning("readiness follower: lost its lease; another replica follows")
                        return
                    lease = renewed
                    renew_at = time.monotonic() + renew_every

    async def _watch(self, token: Any) -> Any:
        return await self.catalog.db.watch(
            _pipeline(rules_hash(self.channels)),
            resume_after=token,
            max_await_time_ms=int(self.wait.total_seconds() * 1000),
        )

    async def _rescore(self, affected: Affected) -> None:
        query = await products_query(self.catalog, affected, self.channels)
        if query is not None:
            await rescore_query(
                self.catalog, self.channels, self.locales, self.clock(), query, overrule=True
            )


def following(
    follower: ReadinessFollower,
) -> contextlib.AbstractAsyncContextManager[asyncio.Task[None]]:
    """The follower as a task for the duration of the block (the app's lifespan)."""
    return running_until_stopped(follower.run, "readiness-follower")
