"""Product changes as they happen: what the ``productChanged`` subscription streams.

One MongoDB change stream per product source and process (``ChangeHub``), shared by every
subscriber to that source: a thousand storefront tabs watching one channel cost one cursor, not
a thousand. A subscriber reads the source its request reads (``resolvers.workflow.source``):
a channel's storefront sees its publications change (``CREATED`` when a product is first
published, ``UPDATED`` when republished, ``REMOVED`` when unpublished); an editor sees the
working copy. The stream is resumed by PyMongo after a transient error (an election); a stream
that cannot go on ends every subscription to it with ``ChangeFeedError``.

A subscriber that falls more than ``backlog`` changes behind is ended with
``SubscriberLaggedError`` rather than buffering without bound: it should read the catalog again
and subscribe anew.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncGenerator, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pymongo.errors import PyMongoError

from resolvers.db import Collection, Document
from resolvers.errors import CatalogError
from resolvers.workflow.source import ProductSource

log = logging.getLogger("gateway.product_changes")

ChangeKind = Literal["CREATED", "UPDATED", "REMOVED"]

# Changes a subscriber may have waiting before it is ended as lagging.
DEFAULT_BACKLOG = 1000
_PIPELINE: list[Document] = [
    {"$match": {"operationType": {"$in": ["insert", "update", "replace", "delete"]}}},
]


class ChangeFeedError(CatalogError):
    """The change stream behind a subscription stopped for good."""

    code = "CHANGE_FEED_UNAVAILABLE"


class SubscriberLaggedError(CatalogError):
    """The subscriber read changes slower than they came."""

    code = "SUBSCRIBER_LAGGED"


@dataclass(frozen=True, slots=True)
class ProductChange:
    sku: str
    kind: ChangeKind
    channel: str | None
    """The channel whose publications changed; None: the working copy."""
    revision: int | None
    """The product's revision after the change; None when removed."""
    at: datetime | None
    """When MongoDB committed the change."""


class _Subscriber:
    """One subscription's queue: changes in order, or the error that ended it."""

    def __init__(self, skus: frozenset[str] | None, backlog: int) -> None:
        self.skus = skus
        self.backlog = backlog
        self.changes: deque[ProductChange] = deque()
        self.error: CatalogError | None = None
        self.ready = asyncio.Event()

    def push(self, change: ProductChange) -> None:
        if self.skus is not None and change.sku not in self.skus:
            return
        if len(self.changes) >= self.backlog:
            self.fail(
                SubscriberLaggedError(
                    f"this subscription fell {self.backlog} changes behind and was ended; "
                    "read the products again and subscribe anew"
                )
            )
            return
        self.changes.append(change)
        self.ready.set()

    def fail(self, error: CatalogError) -> None:
        if self.error is None:
            self.error = error
        self.ready.set()

    async def next(self) -> ProductChange:
        while not self.changes:
            if self.error is not None:
                raise self.error
            self.ready.clear()
            await self.ready.wait()
        if isinstance(self.error, SubscriberLaggedError):  # behind: what it has is stale
            raise self.error
        return self.changes.popleft()


@dataclass(eq=False)
class _Feed:
    """The change stream of one source, read while anyone subscribes to it."""

    source: ProductSource
    products: Collection
    subscribers: set[_Subscriber] = field(default_factory=set)
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        try:
            stream = await self.source.collection.watch(_PIPELINE, full_document="updateLookup")
            async with stream:
                self.opened.set()
                async for event in stream:
                    change = await self._change(event)
                    if change is not None:
                        for subscriber in list(self.subscribers):
                            subscriber.push(change)
        except PyMongoError as exc:
            log.warning("change stream of %s stopped: %s", self.source.collection.name, exc)
            self._fail_all(ChangeFeedError(f"the change feed stopped: {exc}"))
        else:  # the collection was dropped or renamed
            self._fail_all(ChangeFeedError("the change feed ended"))
        finally:
            self.opened.set()  # a subscriber waiting for the start learns of the failure

    def _fail_all(self, error: ChangeFeedError) -> None:
        for subscriber in self.subscribers:
            subscriber.fail(error)

    async def _change(self, event: Mapping[str, Any]) -> ProductChange | None:
        document: Document | None = event.get("fullDocument")
        at = event.get("wallTime")
        if document is not None and _matches(document, self.source.clause):
            kind: ChangeKind = "CREATED" if event["operationType"] == "insert" else "UPDATED"
            return ProductChange(
                str(document["sku"]), kind, self.source.channel, document.get("revision"), at
            )
        if document is not None:
            sku = document.get("sku")
        else:
            # Deleted (unpublished), or gone again before the lookup: the working copy keeps
            # every product's SKU under the same _id (products are archived, never deleted).
            found = await self.products.find_one({"_id": event["documentKey"]["_id"]}, {"sku": 1})
            sku = None if found is None else found.get("sku")
        if sku is None:
            return None
        return ProductChange(str(sku), "REMOVED", self.source.channel, None, at)


def _matches(document: Document, clause: Mapping[str, Any] | None) -> bool:
    return all(document.get(key) == value for key, value in (clause or {}).items())


class ChangeHub:
    """The process's change streams of product sources, each shared by its subscribers."""

    def __init__(self, backlog: int = DEFAULT_BACKLOG) -> None:
        self.backlog = backlog
        self._feeds: dict[Hashable, _Feed] = {}

    def watching(self, source: ProductSource) -> int:
        """How many subscriptions read this source's stream (0: none is open)."""
        feed = self._feeds.get(source.key)
        return 0 if feed is None else len(feed.subscribers)

    async def subscribe(
        self, source: ProductSource, products: Collection, skus: frozenset[str] | None = None
    ) -> AsyncGenerator[ProductChange, None]:
        """The source's changes (of ``skus`` only, when given) from now on.

        Returns once the change stream is open, so a change committed after this returns is
        in what the iterator yields.
        """
        feed = self._feeds.get(source.key)
        if feed is None or feed.task is None or feed.task.done():
            feed = self._feeds[source.key] = _Feed(source, products)
            feed.task = asyncio.create_task(feed.run(), name=f"changes:{source.collection.name}")
        subscriber = _Subscriber(skus, self.backlog)
        feed.subscribers.add(subscriber)
        try:
            await feed.opened.wait()
        except BaseException:
            await self._leave(feed, subscriber)
            raise
        if feed.task is not None and feed.task.done() and subscriber.error is None:
            subscriber.fail(ChangeFeedError("the change feed could not be opened"))
        return self._changes(feed, subscriber)

    async def _changes(
        self, feed: _Feed, subscriber: _Subscriber
    ) -> AsyncGenerator[ProductChange, None]:
        try:
            while True:
                yield await subscriber.next()
        finally:
            await self._leave(feed, subscriber)

    async def _leave(self, feed: _Feed, subscriber: _Subscriber) -> None:
        feed.subscribers.discard(subscriber)
        if feed.subscribers:
            return
        if self._feeds.get(feed.source.key) is feed:
            del self._feeds[feed.source.key]
        await _stop(feed.task)

    async def aclose(self) -> None:
        """Stop every stream; their subscriptions end with ``ChangeFeedError``."""
        feeds, self._feeds = list(self._feeds.values()), {}
        for feed in feeds:
            await _stop(feed.task)
            feed._fail_all(ChangeFeedError("the gateway is shutting down"))


async def _stop(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    # wait(), not await task: a cancellation of the caller itself must not be swallowed here.
    await asyncio.wait([task])
    if not task.cancelled() and task.exception() is not None:
        log.error("change stream task failed", exc_info=task.exception())
