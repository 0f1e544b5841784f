"""The apps test_server's workers serve: a module of their own, importing only what they
need, since each spawned worker imports it before it serves (this module in ~0.1 s, the test
module with the gateway's settings and schema in ~1.5 s)."""

import os
import socket

from starlette.types import ASGIApp, Receive, Scope, Send


async def _lifespan(receive: Receive, send: Send, *, fail: bool) -> None:
    while True:
        message = await receive()
        if fail:
            await send({"type": "lifespan.startup.failed", "message": "no database"})
            return
        await send({"type": f"{message['type']}.complete"})
        if message["type"] == "lifespan.shutdown":
            return


def nodelay_of(peer: tuple[str, int]) -> int | None:
    """TCP_NODELAY of this process's connection to ``peer``, found among its descriptors."""
    for name in os.listdir("/proc/self/fd"):
        # A socket object over the worker's own descriptor, detached (never closed) after:
        # socket.fromfd would duplicate it first, and leak the duplicate of every descriptor
        # that is no socket, since the constructor fails after the dup.
        try:
            sock = socket.socket(fileno=int(name))
        except OSError:  # no socket, or closed since the listing
            continue
        try:
            if sock.family == socket.AF_INET and sock.getpeername() == peer:
                return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        except OSError:  # a socket without a peer: the listening one
            pass
        finally:
            sock.detach()
    return None


async def _nodelay_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send, fail=False)
        return
    body = str(nodelay_of(tuple(scope["client"]))).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def _failing_app(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "lifespan"
    await _lifespan(receive, send, fail=True)


def nodelay_app_factory() -> ASGIApp:
    """Answers with TCP_NODELAY of the connection it answers on, as the worker sees it."""
    return _nodelay_app


def failing_app_factory() -> ASGIApp:
    """Its lifespan never starts, as when the database is unreachable."""
    return _failing_app
