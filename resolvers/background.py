"""Work a request starts but must not wait for (rescoring after new assets were mirrored)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Background:
    """Tasks owned by the app's lifespan: tracked, logged when they fail, cancelled at exit."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for the work under way (tests; a graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def running_until_stopped(
    work: Callable[[asyncio.Event], Coroutine[Any, Any, None]], name: str
) -> AsyncIterator[asyncio.Task[None]]:
    """``work(stop)`` as a task for the duration of the block (the app's lifespan): at the end
    ``stop`` is set and the task awaited, so a round under way finishes rather than being cut
    off half-way through a MongoDB operation."""
    stop = asyncio.Event()
    task = asyncio.create_task(work(stop), name=name)
    try:
        yield task
    finally:
        stop.set()
        await task
