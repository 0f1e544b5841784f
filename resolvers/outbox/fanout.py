"""Fan-out: the events recorded since the last pass become deliveries, one per subscription
that wants them (``resolvers.outbox.store`` sends them).

``event_cursors``, one per (subscription, event collection): ``since``, the ObjectId from which
events are read. It trails the clock by ``SETTLE``, because an event's ``_id`` is made before
its transaction commits: re-reading that window (ids only, from the ``_id`` index) finds an
event that committed late, and the unique (subscription, eventId) index keeps re-reads and
several replicas from creating a delivery twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bson import ObjectId
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import BulkWriteError

from resolvers.db import Collection, Database, Document
from resolvers.outbox import payload
from resolvers.outbox.payload import Source
from resolvers.outbox.store import Status, deliveries
from resolvers.outbox.subscriptions import Subscription

CURSORS = "event_cursors"
DUPLICATE_KEY = 11000
# An event's _id is made by its writer before its transaction commits, which may take up to
# MongoDB's transactionLifetimeLimitSeconds (60 s by default), on a clock that may be a little
# off ours: fan-out reads back this far, so an event committed late is still found.
SETTLE = timedelta(minutes=2)
FAN_OUT_PAGE = 500


async def fan_out(
    db: Database,
    subscriptions: Sequence[Subscription],
    now: datetime,
    *,
    seen: set[tuple[str, ObjectId]] | None = None,
    sources: Sequence[Source] = payload.SOURCES,
) -> int:
    """Create the deliveries of the events recorded since the last pass; the number created.

    Safe to run from several replicas at once (the unique index keeps one delivery per event
    and subscription). ``seen`` (kept by the caller between passes) spares re-reading the
    events of the settle window that were already considered."""
    seen = seen if seen is not None else set()
    created = 0
    for subscription in subscriptions:
        for source in sources:
            created += await _fan_out(db, subscription, source, now, seen)
    return created


async def _fan_out(
    db: Database,
    subscription: Subscription,
    source: Source,
    now: datetime,
    seen: set[tuple[str, ObjectId]],
) -> int:
    cursors = db[CURSORS]
    cursor_id = f"{subscription.name}:{source.collection}"
    # A new subscription starts with the events of the settle window, not the whole history.
    cursor = await cursors.find_one_and_update(
        {"_id": cursor_id},
        {"$setOnInsert": {"since": ObjectId.from_datetime(now - SETTLE)}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    assert cursor is not None
    since: ObjectId = cursor["since"]
    events = db[source.collection]
    created = 0
    after: ObjectId | None = None
    while True:
        query: Document = {"_id": {"$gte": since} if after is None else {"$gt": after}}
        ids = [
            document["_id"]
            async for document in events.find(query, {"_id": 1})
            .sort("_id", ASCENDING)
            .limit(FAN_OUT_PAGE)
        ]
        if not ids:
            break
        after = ids[-1]
        fresh = [i for i in ids if (subscription.name, i) not in seen]
        if fresh:
            created += await _create(db, subscription, source, events, fresh, now)
            seen.update((subscription.name, i) for i in fresh)
        if len(ids) < FAN_OUT_PAGE:
            break
    settled = ObjectId.from_datetime(now - SETTLE)
    if settled > since:
        await cursors.update_one({"_id": cursor_id}, {"$max": {"since": settled}})
        # What the cursor passed is never read again.
        seen.difference_update(
            [item for item in seen if item[0] == subscription.name and item[1] < settled]
        )
    return created


async def _create(
    db: Database,
    subscription: Subscription,
    source: Source,
    events: Collection,
    ids: list[ObjectId],
    now: datetime,
) -> int:
    known = {
        document["eventId"]
        async for document in deliveries(db).find(
            {"subscription": subscription.name, "eventId": {"$in": ids}}, {"eventId": 1}
        )
    }
    wanted = [i for i in ids if i not in known]
    if not wanted:
        return 0
    new = []
    async for event in events.find({"_id": {"$in": wanted}}).sort("_id", ASCENDING):
        event_type = payload.event_type(source, event)
        channels = payload.event_channels(event)
        if not subscription.wants(event_type, channels, payload.actor_source(event)):
            continue
        new.append(
            {
                "subscription": subscription.name,
                "eventId": event["_id"],
                "key": f"{source.entity}:{event[source.key_field]}",
                "seq": int(event.get("revision", 0)),
                "type": event_type,
                "body": payload.body(source, event),
                "status": Status.PENDING.value,
                "attempts": 0,
                "maxAttempts": subscription.max_attempts,
                "nextAttemptAt": now,
                "token": 0,
                "createdAt": now,
            }
        )
    if not new:
        return 0
    try:
        result = await deliveries(db).insert_many(new, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        return int(exc.details.get("nInserted", 0))  # another replica created the rest
    return len(result.inserted_ids)
