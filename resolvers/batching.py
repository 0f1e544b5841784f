"""The dataloader base class: batching per request, plus a synchronous view of settled keys.

A resolver that finds everything it needs already loaded (a page prefetched its media) can
answer without creating a coroutine; graphql-core then completes the field synchronously,
which on a 48-product listing saves most of the per-field asyncio scheduling.
"""

from __future__ import annotations

import asyncio
from asyncio import Future
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from aiodataloader import DataLoader

from resolvers.observe import OBSERVER, Observer

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


def retrieved(future: Future[T]) -> Future[T]:
    """``future``, its exception marked retrieved as soon as it fails; awaiters still get it.

    For a gather created before anything awaits it: when the awaiting coroutine never gets
    there (graphql-core cancels a failed non-null field's siblings; ``_settle_entities``
    closes the references it did not reach) and the gathered loads then fail, asyncio logs
    "_GatheringFuture exception was never retrieved" when the gather is collected.
    """
    future.add_done_callback(_mark_retrieved)
    return future


def _mark_retrieved(future: Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def succeeded(future: Future[Any]) -> bool:
    """``future`` is done with a result (not pending, cancelled or failed)."""
    return future.done() and not future.cancelled() and future.exception() is None


def _observed(
    batch_load_fn: Callable[[list[Any]], Awaitable[list[Any]]], name: str, observer: Observer
) -> Callable[[list[Any]], Awaitable[list[Any]]]:
    def observed(keys: list[Any]) -> Awaitable[list[Any]]:
        observer.batch(name, len(keys))
        return batch_load_fn(keys)

    return observed


class Loader(DataLoader[K, V], Generic[K, V]):
    """A DataLoader whose settled results can be read without awaiting."""

    def __init__(self, **options: Any) -> None:
        self._futures: dict[K, Future[V]] = {}
        super().__init__(cache_map=self._futures, **options)
        observer = OBSERVER.get()
        if observer is not None:
            # Per instance, so an unobserved request's batches go straight to the method.
            batch = _observed(self.batch_load_fn, type(self).__name__, observer)
            setattr(self, "batch_load_fn", batch)  # noqa: B010 (mypy: a method is read-only)

    def load_many(self, keys: Iterable[K]) -> Future[list[V]]:
        """aiodataloader's gather of ``load``s; entity references queue it before awaiting."""
        return retrieved(super().load_many(keys))

    async def prefetch(self, keys: Sequence[K]) -> None:
        """Load ``keys`` into this request's cache (errors are left for the later ``load``).

        Waits on the futures one by one rather than gathering them: a batch settles every
        future at once, and a gather would schedule a callback per key.
        """
        futures = [self.load(key) for key in keys]
        for future in futures:
            if not future.done():
                await asyncio.wait([future])
            if not future.cancelled():
                future.exception()  # retrieved: the failure is reported by the field's own load

    def peek_many(self, keys: Sequence[K]) -> list[V] | None:
        """The values of ``keys`` if every one is loaded already (and did not fail), else None."""
        values = []
        for key in keys:
            future = self._futures.get(key)
            if future is None or not succeeded(future):
                return None
            values.append(future.result())
        return values
