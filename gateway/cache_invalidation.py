"""Per-process caches dropped as soon as MongoDB changes what they hold: a change stream.

Each process caches a few things for a few seconds: API key records (``CATALOG_KEY_CACHE_S``),
the operation safelist (``CATALOG_SAFELIST_REFRESH_S``) and the readiness dashboard
(``CATALOG_DASHBOARD_TTL_S``). With several workers and replicas those copies differed for up
to their TTL: a revoked key went on working on the other replicas, two dashboards disagreed.
Every process now follows one change stream and drops an entry when its source changes, on
every replica at once; the TTLs stay as the fallback while the stream is down (an election,
a restart of the stream):

- ``api_keys``: the key whose record changed (not its last-use stamp, written once a minute);
- ``persisted_queries``: the safelist, when an entry is safelisted or changes;
- ``products``: the dashboards (their numbers summarise the stored scores).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pymongo.errors import PyMongoError

from resolvers.background import running_until_stopped
from resolvers.db import UPDATED_FIELD_NAMES, Database, Document

log = logging.getLogger(__name__)

_PIPELINE: list[Document] = [
    {
        "$match": {
            "$or": [
                {
                    "ns.coll": "api_keys",
                    "operationType": {"$in": ["update", "replace", "delete"]},
                },
                {
                    "ns.coll": "persisted_queries",
                    "$or": [
                        {"fullDocument.safelisted": True},
                        {"updateDescription.updatedFields.safelisted": {"$exists": True}},
                    ],
                },
                {"ns.coll": "products"},
            ]
        }
    },
    {
        "$project": {
            "ns.coll": 1,
            "documentKey": 1,
            "fields": UPDATED_FIELD_NAMES,
        }
    },
]
# How long to wait before following again after the stream failed.
RETRY_S = 2.0


@dataclass
class CacheInvalidation:
    db: Database
    forget_key: Callable[[str], None]
    forget_safelist: Callable[[], None]
    forget_dashboards: Callable[[], None]
    following: asyncio.Event = field(default_factory=asyncio.Event)
    """Set while the change stream is open."""
    dropped: int = 0
    """Entries dropped so far (for tests)."""

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with await self.db.watch(_PIPELINE, max_await_time_ms=500) as stream:
                    self.following.set()
                    while not stop.is_set():
                        change = await stream.try_next()
                        if change is not None:
                            self._drop(change)
            except PyMongoError as exc:
                log.warning("cache invalidation stream stopped (%s); TTLs apply meanwhile", exc)
            finally:
                self.following.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_S)

    def _drop(self, change: dict[str, Any]) -> None:
        collection = change["ns"]["coll"]
        if collection == "api_keys":
            if change.get("fields") == ["lastUsedAt"]:
                return
            self.forget_key(str(change["documentKey"]["_id"]))
        elif collection == "persisted_queries":
            self.forget_safelist()
        else:
            self.forget_dashboards()
        self.dropped += 1


def invalidating(
    invalidation: CacheInvalidation,
) -> contextlib.AbstractAsyncContextManager[asyncio.Task[None]]:
    """The invalidation stream as a task for the duration of the block (the lifespan)."""
    return running_until_stopped(invalidation.run, "cache-invalidation")
