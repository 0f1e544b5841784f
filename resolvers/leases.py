"""Leases in MongoDB: at most one holder of a named piece of work across replicas and restarts.

A lease is one document of the ``leases`` collection, ``_id`` its name::

    {_id: name, owner: str, token: int, expiresAt: datetime, claimedAt: datetime}

``claim`` takes it when nobody holds it or the holder's lease has expired (a replica that died
mid-work stops renewing, so its lease runs out and another replica takes over); ``renew`` keeps
it while the work goes on; ``release`` gives it back early. Every operation is one conditional
update on the document, so two replicas racing for the same name cannot both win: the loser's
upsert collides with the winner's document on ``_id`` and is answered "not yours".

``token`` grows by one at every change of holder (a fencing token): work guarded by a lease can
write it beside its result and refuse a write from a holder with an older token.

Owners are free-form strings; make them unique per process (e.g. ``new_owner()``) so a restarted
replica never mistakes the lease of its previous life for its own. Times come from the caller
(``now``) when it matters to a test; by default the wall clock in UTC.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from resolvers.db import Collection, Database, Document, as_utc

COLLECTION = "leases"


@dataclass(frozen=True, slots=True)
class Lease:
    """A lease held by ``owner`` until ``expires_at``; ``token`` orders its holders."""

    name: str
    owner: str
    token: int
    expires_at: datetime


def leases(db: Database) -> Collection:
    return db[COLLECTION]


def new_owner(prefix: str = "") -> str:
    """An owner name unique to this process life: host, pid and a random part."""
    random = uuid.uuid4().hex[:8]
    return f"{prefix}{socket.gethostname()}:{os.getpid()}:{random}"


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _lease(document: Document) -> Lease:
    expires_at = as_utc(document["expiresAt"])
    return Lease(document["_id"], document["owner"], int(document["token"]), expires_at)


async def claim(
    collection: Collection,
    name: str,
    owner: str,
    ttl: timedelta,
    *,
    now: datetime | None = None,
) -> Lease | None:
    """Take the lease ``name`` for ``ttl`` if it is free, expired or already ``owner``'s.

    Returns the lease, or None when another owner holds it. Claiming a lease one already holds
    extends it (and keeps its token); a released or expired lease claimed again gets a new
    token."""
    at = _now(now)
    # $literal: an owner string that starts with "$" is not a field path here.
    same_owner = {"$eq": ["$owner", {"$literal": owner}]}
    try:
        document = await collection.find_one_and_update(
            {"_id": name, "$or": [{"owner": owner}, {"expiresAt": {"$lte": at}}]},
            [
                {
                    "$set": {
                        # A new holder gets the next token; the same holder keeps its own.
                        "token": {
                            "$cond": [
                                same_owner,
                                "$token",
                                {"$add": [{"$ifNull": ["$token", 0]}, 1]},
                            ]
                        },
                        "claimedAt": {"$cond": [same_owner, "$claimedAt", at]},
                        "owner": {"$literal": owner},
                        "expiresAt": at + ttl,
                    }
                }
            ],
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError:
        # The document exists and matched neither condition: someone else holds it. (The
        # upsert tried to insert a second document with the same _id.)
        return None
    return _lease(document) if document is not None else None


async def renew(
    collection: Collection,
    lease: Lease,
    ttl: timedelta,
    *,
    now: datetime | None = None,
) -> Lease | None:
    """Extend a held lease to ``now + ttl``; None when it was lost (expired and taken over).

    A lease that expired but nobody took yet is renewed: the work it guards was not duplicated."""
    at = _now(now)
    document = await collection.find_one_and_update(
        {"_id": lease.name, "owner": lease.owner, "token": lease.token},
        {"$set": {"expiresAt": at + ttl}},
        return_document=ReturnDocument.AFTER,
    )
    return _lease(document) if document is not None else None


async def release(collection: Collection, lease: Lease) -> bool:
    """Give the lease back so the next claim need not wait for it to expire.

    False when it was no longer held by this lease's owner and token (nothing is changed).
    The document stays, expired, so the next holder's token still grows."""
    result = await collection.update_one(
        {"_id": lease.name, "owner": lease.owner, "token": lease.token},
        {"$set": {"owner": None, "expiresAt": datetime.fromtimestamp(0, UTC)}},
    )
    return result.modified_count == 1


async def holder(collection: Collection, name: str, *, now: datetime | None = None) -> Lease | None:
    """The lease ``name`` while it is held (not expired), for status displays and tests."""
    document = await collection.find_one({"_id": name, "expiresAt": {"$gt": _now(now)}})
    return _lease(document) if document is not None else None
