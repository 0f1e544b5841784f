"""Idempotency-Key: a mutation repeated with the same key and body answers the first result.

A client that lost a response (a timeout, a dropped connection) may send the mutation again
with the same key and be sure it runs at most once. Results are kept in ``Catalog.idempotency``
for ``TTL`` (its TTL index deletes them; a read checks ``expiresAt`` too, as the TTL monitor runs
only once a minute). A key is scoped to the principal and the mutation's response key, so two
clients' keys never meet, and carries the request's fingerprint: the same key with another
body is refused, never answered with a result that belongs to another request.

The first request claims the key (an insert: a concurrent second one finds the claim and is
told the key is in use), runs, then stores its result; a failure that escapes releases it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pymongo.errors import DuplicateKeyError

from resolvers.db import Collection, Document

TTL = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Claimed:
    """The key is this request's: run, then ``finish`` (or ``release`` on failure)."""

    id: str


@dataclass(frozen=True, slots=True)
class Replay:
    """The first request's result, as it stored it."""

    result: Document


@dataclass(frozen=True, slots=True)
class Refused:
    """``reused``: the key came with another body; ``in_use``: its first request still runs."""

    reason: Literal["reused", "in_use"]


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IdempotencyStore:
    collection: Collection
    ttl: timedelta = TTL

    async def begin(
        self, scope: str, key: str, request: str, now: datetime
    ) -> Claimed | Replay | Refused:
        """Claim ``key`` for ``request`` (a fingerprint of the body) within ``scope``."""
        id = fingerprint(scope, key)
        found = await self.collection.find_one({"_id": id})
        if found is not None and found["expiresAt"] <= now:
            # Expired but not yet collected by the TTL monitor: as good as gone.
            await self.collection.delete_one({"_id": id, "expiresAt": found["expiresAt"]})
            found = None
        if found is None:
            try:
                await self.collection.insert_one(
                    {"_id": id, "request": request, "createdAt": now, "expiresAt": now + self.ttl}
                )
            except DuplicateKeyError:
                return Refused("in_use")  # another request claimed it in between
            return Claimed(id)
        if found["request"] != request:
            return Refused("reused")
        if "result" not in found:
            return Refused("in_use")
        return Replay(found["result"])

    async def finish(self, claim: Claimed, result: Mapping[str, Any]) -> None:
        await self.collection.update_one({"_id": claim.id}, {"$set": {"result": dict(result)}})

    async def release(self, claim: Claimed) -> None:
        """Forget an unfinished claim, so the client's retry runs."""
        await self.collection.delete_one({"_id": claim.id, "result": {"$exists": False}})
