"""A webhook receiver on 127.0.0.1 for the delivery tests: a bare asyncio HTTP/1.1 server that
records every request and answers what the test tells it; it stops when its block ends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]


Answer = Callable[[Received, int], int]
"""The status to answer a request with, given it and how many came before it."""


@dataclass
class Receiver:
    url: str
    answer: Answer = lambda received, index: 200
    received: list[Received] = field(default_factory=list)
    # While set, requests are recorded but not answered (a receiver that hangs).
    hold: asyncio.Event | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def wait_for(self, count: int) -> None:
        """Until ``count`` requests have arrived."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)

    async def _record(self, received: Received) -> int:
        async with self._arrived:
            index = len(self.received)
            self.received.append(received)
            self._arrived.notify_all()
        return index


@asynccontextmanager
async def receiver(answer: Answer | None = None) -> AsyncIterator[Receiver]:
    handlers: set[asyncio.Task[Any]] = set()
    box: list[Receiver] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")[1:]
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in lines if line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            target = box[0]
            received = Received(headers, body)
            index = await target._record(received)
            if target.hold is not None:
                await target.hold.wait()
            status = target.answer(received, index)
            writer.write(
                f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the sender gave up (a worker killed mid-delivery)
        finally:
            writer.close()
            handlers.discard(task)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    box.append(Receiver(f"http://127.0.0.1:{port}/hook"))
    if answer is not None:
        box[0].answer = answer
    try:
        async with server:
            yield box[0]
            server.close()
            for task in list(handlers):
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
    finally:
        server.close()
