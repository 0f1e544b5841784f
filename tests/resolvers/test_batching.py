"""A failed batch leaves no gather with an unretrieved exception.

Entity references queue their loads before anything awaits them (``load_many`` gathers the
keys at once), so that one batch serves the request. When graphql-core cancels the field that
would have awaited them (a failed non-null sibling), or ``_settle_entities`` closes the
references it did not reach, and the batch then fails (MongoDB down), asyncio logged
"_GatheringFuture exception was never retrieved" at collection: 11 such lines in a fuzz.
"""

import asyncio
import gc
from collections.abc import AsyncIterator, Sequence

import pytest
from aiodataloader import DataLoader

from resolvers.batching import Loader


class BatchError(Exception):
    pass


class FailingLoader(Loader[int, int]):
    async def batch_load_fn(self, keys: Sequence[int]) -> list[int]:
        raise BatchError(keys)


class PlainFailingLoader(DataLoader[int, int]):
    async def batch_load_fn(self, keys: Sequence[int]) -> list[int]:
        raise BatchError(keys)


@pytest.fixture
async def unretrieved() -> AsyncIterator[list[str]]:
    """What the loop's exception handler received (asyncio's "never retrieved" reports)."""
    loop = asyncio.get_running_loop()
    reports: list[str] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: reports.append(context["message"]))
    yield reports
    loop.set_exception_handler(previous)


async def abandon_a_failed_load_many(loader: DataLoader[int, int]) -> None:
    """Queue a load_many nobody will await, let its batch fail, then drop it."""
    queued = loader.load_many([1, 2])
    await asyncio.wait([queued])  # waits without retrieving anything
    del queued
    gc.collect()


async def test_an_abandoned_load_many_is_not_reported(unretrieved: list[str]) -> None:
    await abandon_a_failed_load_many(FailingLoader())
    assert unretrieved == []


async def test_aiodataloaders_own_load_many_would_be(unretrieved: list[str]) -> None:
    """The staging reproduces the fuzz's report (so the test above can fail)."""
    await abandon_a_failed_load_many(PlainFailingLoader())
    assert unretrieved == ["_GatheringFuture exception was never retrieved"]


async def test_the_failure_still_reaches_an_awaiter() -> None:
    with pytest.raises(BatchError):
        await FailingLoader().load_many([1, 2])
