"""Which rules stored scores follow while replicas run different ``channels.toml``.

A rolling deploy that changes channel profiles runs old and new replicas side by side. Were
each to store scores with its own rules, they would rewrite each other's scores for as long as
the rollout lasts (and an old replica's webhook would make a product stale for the new ones).
So stored scores follow one rules hash at a time, the *adopted* one:

- every live replica records a heartbeat (``replicas``: its rules hash, when it started, when
  the record expires); a replica that stops beating drops out after three intervals (at
  least ``SILENCE``: a replica whose event loop stalls must not hand the majority over);
- a heartbeat adopts the rules a strict majority of live replicas runs, when they are newer than
  the adopted ones (their replicas started after the adoption: a rollback is a new rollout too,
  and an adoption made by hand with ``readiness refresh --rules`` holds until the next one);
- the readiness follower runs only on a replica of the adopted rules and rescores every product
  stored under other rules once, when it takes the lease;
- any other rescoring (requests, webhooks, imports' scores) never overwrites scores stored under
  rules other than its own (``store.rescore_query``), so a minority replica leaves the majority's
  scores alone, and the majority's follower rewrites what a minority replica stored.

The adopted rules are one document of ``readiness_rules``: ``{_id: "stored", rulesHash, at,
by}``; every change is a compare-and-set on the hash it replaces, so replicas deciding at once
adopt once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pymongo.errors import DuplicateKeyError, PyMongoError

from resolvers.background import running_until_stopped
from resolvers.db import Collection, Database, Document, as_utc
from resolvers.leases import new_owner

log = logging.getLogger(__name__)

REPLICAS = "replicas"
RULES = "readiness_rules"
ADOPTED = "stored"
# The least time a silent replica still counts as live.
SILENCE = timedelta(seconds=10)


def _wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RulesInUse:
    """A rules hash live replicas run: how many, and since when the earliest of them runs."""

    rules_hash: str
    replicas: int
    since: datetime


@dataclass(frozen=True, slots=True)
class Adopted:
    rules_hash: str
    at: datetime
    by: str


async def live_rules(db: Database, now: datetime | None = None) -> list[RulesInUse]:
    """The rules hashes of the replicas beating now, most replicas first."""
    now = now or _wall_clock()
    pipeline: list[Document] = [
        {"$match": {"expiresAt": {"$gt": now}}},
        {"$group": {"_id": "$rulesHash", "replicas": {"$sum": 1}, "since": {"$min": "$startedAt"}}},
        {"$sort": {"replicas": -1, "since": -1}},
    ]
    rows = await (await db[REPLICAS].aggregate(pipeline)).to_list()
    return [RulesInUse(row["_id"], row["replicas"], as_utc(row["since"])) for row in rows]


async def adopted_rules(db: Database) -> Adopted | None:
    document = await db[RULES].find_one({"_id": ADOPTED})
    return None if document is None else _adopted(document)


async def adopt(db: Database, rules_hash: str, by: str, replacing: str | None) -> Adopted | None:
    """Adopt ``rules_hash`` in place of ``replacing`` (None: when nothing is adopted yet);
    None when another replica changed the adoption first."""
    at = _wall_clock()
    fields = {"rulesHash": rules_hash, "at": at, "by": by}
    rules = db[RULES]
    try:
        if replacing is None:
            await rules.insert_one({"_id": ADOPTED, **fields})
        else:
            changed = await rules.update_one(
                {"_id": ADOPTED, "rulesHash": replacing}, {"$set": fields}
            )
            if not changed.matched_count:
                return None
    except DuplicateKeyError:
        return None
    return Adopted(rules_hash, at, by)


def majority_choice(live: list[RulesInUse], adopted: Adopted | None) -> str | None:
    """The rules to adopt now, if any: those of a strict majority of live replicas, when newer
    than the adopted ones."""
    total = sum(rules.replicas for rules in live)
    for rules in live:
        if rules.replicas * 2 > total:
            if adopted is None:
                return rules.rules_hash
            if rules.rules_hash != adopted.rules_hash and rules.since > adopted.at:
                return rules.rules_hash
    return None


@dataclass
class Heartbeat:
    """This replica's record in ``replicas``, beaten every ``interval``; each beat also adopts
    what the majority runs and keeps the adopted rules in ``adopted`` for this process."""

    db: Database
    rules_hash: str
    interval: timedelta = timedelta(seconds=5)
    replica: str = field(default_factory=lambda: new_owner("replica:"))
    clock: Callable[[], datetime] = _wall_clock
    adopted: str | None = None
    """The rules stored scores follow, as of this replica's last beat."""
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when ``adopted`` changes (the follower wakes to claim or give up its lease)."""
    started_at: datetime | None = None

    @property
    def follows(self) -> bool:
        """Stored scores follow this replica's rules (or nothing is adopted yet)."""
        return self.adopted is None or self.adopted == self.rules_hash

    @property
    def replicas(self) -> Collection:
        return self.db[REPLICAS]

    async def start(self) -> None:
        """The first beat, before the replica serves: a TTL index removes what dead replicas
        left behind (``live_rules`` reads the expiry, not the index's slow sweep)."""
        await self.replicas.create_index("expiresAt", expireAfterSeconds=0)
        await self.beat()

    async def beat(self) -> None:
        now = self.clock()
        if self.started_at is None:
            self.started_at = now
        await self.replicas.update_one(
            {"_id": self.replica},
            {
                "$set": {
                    "rulesHash": self.rules_hash,
                    "at": now,
                    "expiresAt": now + max(3 * self.interval, SILENCE),
                },
                "$setOnInsert": {"startedAt": self.started_at},
            },
            upsert=True,
        )
        adopted = await adopted_rules(self.db)
        choice = majority_choice(await live_rules(self.db, now), adopted)
        if choice is not None:
            replacing = None if adopted is None else adopted.rules_hash
            if await adopt(self.db, choice, "majority", replacing) is not None:
                log.info("stored readiness now follows rules %s (a majority runs them)", choice)
            adopted = await adopted_rules(self.db)
        self._learn(None if adopted is None else adopted.rules_hash)

    def _learn(self, adopted: str | None) -> None:
        if adopted != self.adopted:
            self.adopted = adopted
            self.changed.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval.total_seconds())
            if stop.is_set():
                break
            try:
                await self.beat()
            except PyMongoError as exc:
                # An election: the record lives 3 intervals, the next beat renews it.
                log.warning("replica heartbeat: %s; trying again", exc)
        with contextlib.suppress(PyMongoError):
            await self.replicas.delete_one({"_id": self.replica})


@contextlib.asynccontextmanager
async def beating(heartbeat: Heartbeat) -> AsyncIterator[asyncio.Task[None]]:
    """The heartbeat for the duration of the block; its record is removed at the end."""
    await heartbeat.start()
    async with running_until_stopped(heartbeat.run, "replica-heartbeat") as task:
        yield task


def _adopted(document: Document) -> Adopted:
    return Adopted(document["rulesHash"], as_utc(document["at"]), document.get("by", ""))
