"""Deliveries of events to subscriptions, in MongoDB: what is due, who is sending it, what came
of it. Every state lives here, so any replica can take over from one that stopped.

``event_deliveries``, one document per (subscription, event)::

    {subscription, eventId, key: "product:<sku>", seq: revision, type, body, status,
     attempts, maxAttempts, nextAttemptAt, token, owner, createdAt, claimedAt,
     lastStatus, lastError, deliveredAt, deadAt, redeliveries}

``status``: ``pending`` (waiting for ``nextAttemptAt``) → ``delivering`` (claimed by ``owner``
until ``nextAttemptAt``: a claim is a lease) → ``delivered``, or back to ``pending`` after a
failure, or ``dead`` after ``maxAttempts``. A delivery whose claim ran out (its worker died
mid-request) is due again: at-least-once, and receivers deduplicate by the event id.

Order per product: only the head of a (subscription, key) queue, its lowest
``(seq, eventId)`` still pending or delivering, is ever claimed, so a product's later event
waits until the earlier ones are delivered or dead; the claim is one conditional update, so
two replicas never send the same delivery at once. Deliveries are created by
``resolvers.outbox.fanout``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument, UpdateMany

from resolvers.db import Collection, Database, Document

log = logging.getLogger(__name__)

DELIVERIES = "event_deliveries"
KEEP_DELIVERED = timedelta(days=30)


class Status(StrEnum):
    PENDING = "pending"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    DEAD = "dead"


ACTIVE = [Status.PENDING.value, Status.DELIVERING.value]


class DeliveryNotFoundError(LookupError):
    def __init__(self, delivery_id: str) -> None:
        super().__init__(f"no event delivery {delivery_id!r}")
        self.message = str(self)


class NotRedeliverableError(ValueError):
    def __init__(self, delivery_id: str, status: str) -> None:
        super().__init__(f"event delivery {delivery_id} is {status}: it will be sent anyway")
        self.message = str(self)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event's delivery to one subscription, as admins see it (never its body)."""

    id: str
    subscription: str
    event_id: str
    type: str
    key: str
    seq: int
    status: Status
    attempts: int
    max_attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None

    @classmethod
    def from_document(cls, document: Document) -> Delivery:
        status = Status(document["status"])
        return cls(
            id=str(document["_id"]),
            subscription=document["subscription"],
            event_id=str(document["eventId"]),
            type=document["type"],
            key=document["key"],
            seq=int(document["seq"]),
            status=status,
            attempts=int(document.get("attempts", 0)),
            max_attempts=int(document["maxAttempts"]),
            next_attempt_at=document.get("nextAttemptAt") if status.value in ACTIVE else None,
            created_at=document["createdAt"],
            last_status=document.get("lastStatus"),
            last_error=document.get("lastError"),
            delivered_at=document.get("deliveredAt"),
        )


def deliveries(db: Database) -> Collection:
    return db[DELIVERIES]


def delivery_indexes() -> list[IndexModel]:
    return [
        # One delivery per event and subscription, however many replicas fan out at once.
        IndexModel(
            [("subscription", ASCENDING), ("eventId", ASCENDING)],
            name="subscription_event",
            unique=True,
        ),
        # What is due: pending ones by their next attempt, claimed ones by their lease's end.
        IndexModel([("status", ASCENDING), ("nextAttemptAt", ASCENDING)], name="due"),
        # The head of each (subscription, product) queue.
        IndexModel(
            [
                ("subscription", ASCENDING),
                ("key", ASCENDING),
                ("seq", ASCENDING),
                ("eventId", ASCENDING),
            ],
            name="queue",
        ),
        # `events list [--dead]`, newest first.
        IndexModel([("status", ASCENDING), ("_id", DESCENDING)], name="status_id"),
        # Delivered ones are forgotten after a while; dead ones (no deliveredAt) are kept.
        IndexModel(
            [("deliveredAt", ASCENDING)],
            name="delivered_ttl",
            expireAfterSeconds=int(KEEP_DELIVERED.total_seconds()),
        ),
    ]


async def ensure_indexes(db: Database) -> None:
    await deliveries(db).create_indexes(delivery_indexes())


async def due_heads(
    db: Database, subscriptions: Iterable[str], now: datetime, limit: int
) -> list[Document]:
    """Deliveries due at ``now`` that head their (subscription, key) queue, at most one per
    queue, the longest waiting first."""
    names = list(subscriptions)
    candidates = (
        await deliveries(db)
        .find(
            {
                "status": {"$in": ACTIVE},
                "nextAttemptAt": {"$lte": now},
                "subscription": {"$in": names},
            },
            {"body": 0},
        )
        .sort("nextAttemptAt", ASCENDING)
        .limit(limit)
        .to_list()
    )
    if not candidates:
        return []
    heads: dict[tuple[str, str], Document] = {
        (row["_id"]["subscription"], row["_id"]["key"]): row
        async for row in await deliveries(db).aggregate(
            [
                {
                    "$match": {
                        "subscription": {"$in": names},
                        "key": {"$in": sorted({c["key"] for c in candidates})},
                        "status": {"$in": ACTIVE},
                    }
                },
                # Several events of one revision (a transition on several channels) go in
                # the order they were recorded.
                {"$sort": {"subscription": 1, "key": 1, "seq": 1, "eventId": 1}},
                {
                    "$group": {
                        "_id": {"subscription": "$subscription", "key": "$key"},
                        "head": {"$first": "$_id"},
                        "seq": {"$first": "$seq"},
                        "eventId": {"$first": "$eventId"},
                        "next": {"$first": "$nextAttemptAt"},
                    }
                },
            ]
        )
    }
    chosen: dict[tuple[str, str], Document] = {}
    waiting: set[tuple[str, str]] = set()
    for candidate in candidates:
        queue = (candidate["subscription"], candidate["key"])
        head = heads.get(queue)
        if head is not None and head["head"] == candidate["_id"]:
            chosen.setdefault(queue, candidate)
        elif head is not None:
            waiting.add(queue)
    await _defer(db, {queue: heads[queue] for queue in waiting})
    return list(chosen.values())


async def _defer(db: Database, heads: dict[tuple[str, str], Document]) -> None:
    """Move the events queued behind a head that is not due to the head's next attempt, so
    they stop filling the due batches and starving other products' queues; ``_release``
    brings them forward when the head is done."""
    requests = [
        UpdateMany(
            {
                "subscription": subscription,
                "key": key,
                "status": Status.PENDING.value,
                **_after(head["seq"], head["eventId"]),
                "nextAttemptAt": {"$lt": head["next"]},
            },
            {"$set": {"nextAttemptAt": head["next"]}},
        )
        for (subscription, key), head in heads.items()
    ]
    if requests:
        await deliveries(db).bulk_write(requests, ordered=False)


def _after(seq: int, event_id: ObjectId) -> Document:
    """The deliveries after (seq, eventId) in their queue."""
    return {"$or": [{"seq": {"$gt": seq}}, {"seq": seq, "eventId": {"$gt": event_id}}]}


async def _release(db: Database, claimed: Document, now: datetime) -> None:
    """The head of a queue is done: the next event of the product is due now."""
    await deliveries(db).update_many(
        {
            "subscription": claimed["subscription"],
            "key": claimed["key"],
            "status": Status.PENDING.value,
            **_after(claimed["seq"], claimed["eventId"]),
            "nextAttemptAt": {"$gt": now},
        },
        {"$set": {"nextAttemptAt": now}},
    )


async def claim(
    db: Database, candidate: Document, owner: str, now: datetime, lease: timedelta
) -> Document | None:
    """Take a due delivery for ``lease`` (one conditional update); None when another worker
    took it first. Counts the attempt now, so a delivery that kills its worker still ends
    up dead after its attempts."""
    return await deliveries(db).find_one_and_update(
        {"_id": candidate["_id"], "status": {"$in": ACTIVE}, "nextAttemptAt": {"$lte": now}},
        {
            "$set": {
                "status": Status.DELIVERING.value,
                "owner": owner,
                "claimedAt": now,
                "nextAttemptAt": now + lease,
            },
            "$inc": {"attempts": 1, "token": 1},
        },
        return_document=ReturnDocument.AFTER,
    )


async def delivered(db: Database, claimed: Document, now: datetime, status: int) -> bool:
    """Record a successful attempt; False when the claim had been lost meanwhile."""
    result = await deliveries(db).update_one(
        _fence(claimed),
        {
            "$set": {
                "status": Status.DELIVERED.value,
                "deliveredAt": now,
                "lastStatus": status,
                "lastError": None,
            },
            "$unset": {"owner": ""},
        },
    )
    if result.modified_count != 1:
        return False
    await _release(db, claimed, now)
    return True


async def failed(
    db: Database,
    claimed: Document,
    now: datetime,
    error: str,
    status: int | None,
    retry_at: datetime,
) -> Status | None:
    """Record a failed attempt: pending again until ``retry_at``, or dead after the last one.
    None when the claim had been lost meanwhile."""
    dead = int(claimed["attempts"]) >= int(claimed["maxAttempts"])
    update: dict[str, Any] = {
        "lastStatus": status,
        "lastError": error[:500],
        "lastAttemptAt": now,
    }
    if dead:
        update |= {"status": Status.DEAD.value, "deadAt": now}
    else:
        update |= {"status": Status.PENDING.value, "nextAttemptAt": retry_at}
    result = await deliveries(db).update_one(
        _fence(claimed), {"$set": update, "$unset": {"owner": ""}}
    )
    if result.modified_count != 1:
        return None
    if dead:
        await _release(db, claimed, now)
    return Status.DEAD if dead else Status.PENDING


def _fence(claimed: Document) -> Document:
    # The token grows at every claim: a worker whose lease ran out and was taken over cannot
    # overwrite what the new holder records.
    return {"_id": claimed["_id"], "token": claimed["token"], "status": Status.DELIVERING.value}


def delivery_object_id(delivery_id: str) -> ObjectId:
    try:
        return ObjectId(delivery_id)
    except (InvalidId, TypeError):
        raise DeliveryNotFoundError(delivery_id) from None


async def redeliver(db: Database, delivery_id: str, now: datetime) -> Delivery:
    """Send a dead (or delivered) delivery again, with a fresh count of attempts and the same
    event id; NotRedeliverableError when it is still on its way."""
    oid = delivery_object_id(delivery_id)
    document = await deliveries(db).find_one_and_update(
        {"_id": oid, "status": {"$in": [Status.DEAD.value, Status.DELIVERED.value]}},
        {
            "$set": {
                "status": Status.PENDING.value,
                "attempts": 0,
                "nextAttemptAt": now,
                "redeliveredAt": now,
            },
            "$unset": {"deliveredAt": "", "deadAt": ""},  # the TTL index must not take it
            "$inc": {"redeliveries": 1},
        },
        projection={"body": 0},
        return_document=ReturnDocument.AFTER,
    )
    if document is not None:
        return Delivery.from_document(document)
    current = await deliveries(db).find_one({"_id": oid}, {"status": 1})
    if current is None:
        raise DeliveryNotFoundError(delivery_id)
    raise NotRedeliverableError(delivery_id, current["status"])


async def list_deliveries(
    db: Database, *, status: Status | None = None, limit: int = 50
) -> list[Delivery]:
    """Deliveries, newest first; only those in ``status`` when given."""
    query: Document = {"status": status.value} if status is not None else {}
    documents = (
        await deliveries(db).find(query, {"body": 0}).sort("_id", DESCENDING).limit(limit).to_list()
    )
    return [Delivery.from_document(d) for d in documents]
