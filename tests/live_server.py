"""The gateway under a real uvicorn server on 127.0.0.1, in a thread that stops by itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette

from gateway.embedded_mongo import free_port


@dataclass(frozen=True)
class LiveServer:
    url: str
    server: uvicorn.Server

    @property
    def state(self) -> dict[str, Any]:
        """What the app's lifespan yielded (services, clients)."""
        return dict(self.server.lifespan.state)


@contextmanager
def live_server(
    app: Starlette, port: int | None = None, timeout: float = 30.0
) -> Iterator[LiveServer]:
    """Serve ``app``; shut it down when the block ends."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-gateway", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the gateway did not start")
            time.sleep(0.02)
        yield LiveServer(f"http://127.0.0.1:{port}", server)
    finally:
        # Also when it did not start: a half-started server still holds its socket and clients.
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            raise RuntimeError(f"the gateway did not stop within {timeout} s")
