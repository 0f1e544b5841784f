"""Persisted queries in MongoDB: one document per SHA-256 of a query text, shared by replicas.

Two sources write here. Clients register operations by Automatic Persisted Queries (APQ): such
an entry expires (``expiresAt``, a TTL index) and is registered again by the client that misses
it. The operation manifest of the repository (``catalog-gateway operations register``) writes
entries marked ``safelisted``, which never expire and which are the only ones a principal held
to the safelist may run. An APQ registration never changes an existing entry, so a client
cannot unmark or rewrite a safelisted operation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo import UpdateOne

from resolvers.db import SAFELIST_INDEX, Collection


def query_hash(query: str) -> str:
    """The APQ hash of a query text: SHA-256 of its UTF-8 bytes, lower-case hex."""
    return hashlib.sha256(query.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ManifestOperation:
    id: str
    name: str | None
    type: str
    body: str


@dataclass(frozen=True, slots=True)
class Registered:
    added: int
    changed: int
    unchanged: int


class PersistedQueryStore:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def query(self, sha256: str) -> str | None:
        """The text registered under ``sha256``, or None (never registered, or expired)."""
        found = await self.collection.find_one({"_id": sha256}, {"query": 1})
        return None if found is None else str(found["query"])

    async def register(self, sha256: str, query: str, now: datetime, ttl: timedelta) -> None:
        """Remember an APQ registration, unless the hash is known already (first writer wins;
        every writer checked that the hash is the text's)."""
        await self.collection.update_one(
            {"_id": sha256},
            {
                "$setOnInsert": {
                    "query": query,
                    "source": "apq",
                    "registeredAt": now,
                    "expiresAt": now + ttl,
                }
            },
            upsert=True,
        )

    async def safelisted_ids(self) -> frozenset[str]:
        cursor = self.collection.find({"safelisted": True}, {"_id": 1}).hint(SAFELIST_INDEX)
        return frozenset([str(doc["_id"]) async for doc in cursor])

    async def register_manifest(
        self, operations: Iterable[ManifestOperation], now: datetime
    ) -> Registered:
        """Safelist ``operations`` (an APQ entry of the same hash becomes safelisted and stops
        expiring); one bulk write. Operations no longer in the manifest stay safelisted: a
        client of an older release may still send them."""
        operations = list(operations)
        if not operations:
            return Registered(0, 0, 0)
        known = {
            doc["_id"]: doc
            async for doc in self.collection.find(
                {"_id": {"$in": [op.id for op in operations]}},
                {"query": 1, "name": 1, "safelisted": 1},
            )
        }
        writes = []
        added = changed = 0
        for op in operations:
            entry = {"query": op.body, "name": op.name, "type": op.type, "safelisted": True}
            before = known.get(op.id)
            if before is None:
                added += 1
            elif before.get("safelisted") and all(
                before.get(key) == entry[key] for key in ("query", "name")
            ):
                continue
            else:
                changed += 1
            writes.append(
                UpdateOne(
                    {"_id": op.id},
                    {
                        "$set": {**entry, "source": "manifest", "safelistedAt": now},
                        "$unset": {"expiresAt": ""},
                        "$setOnInsert": {"registeredAt": now},
                    },
                    upsert=True,
                )
            )
        if writes:
            await self.collection.bulk_write(writes, ordered=False)
        return Registered(added, changed, len(operations) - added - changed)
