"""The server ``serve`` configures: a deadline for request headers, which uvicorn itself lacks,
and its connection limit. A tiny ASGI app stands in for the gateway: these limits act before
any application is called.

Every wait is a blocking read on a socket (its timeout only bounds a failing test).
"""

from __future__ import annotations

import pickle
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from gateway.embedded_mongo import free_port
from gateway.server import (
    GATEWAY_FACTORY,
    SWITCH_INTERVAL_S,
    GatewayServerConfig,
    HeaderTimeoutH11Protocol,
    server_config,
)
from gateway.settings import Settings

pytestmark = pytest.mark.indexed

READ_TIMEOUT_S = 30.0
REQUEST = b"GET / HTTP/1.1\r\nHost: gateway\r\n\r\n"


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"
    headers = [(b"content-length", b"5")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"hello"})


def settings(**values: object) -> Settings:
    base: dict[str, object] = {"mongodb_uri": None, "cloudinary_url": None, "port": free_port()}
    return Settings(**{**base, **values})  # type: ignore[arg-type]


@contextmanager
def serving(config: uvicorn.Config) -> Iterator[tuple[str, int]]:
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="limits-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + READ_TIMEOUT_S
        while not server.started:
            assert thread.is_alive(), "the server did not start"
            assert time.monotonic() < deadline, "the server did not start in time"
            time.sleep(0.01)
        yield config.host, config.port
    finally:
        server.should_exit = True
        thread.join(READ_TIMEOUT_S)


@contextmanager
def limited_server(**values: object) -> Iterator[tuple[str, int]]:
    config = server_config(hello, settings(**values), log_config=None, lifespan="off")
    with serving(config) as address:
        yield address


def connect(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address, timeout=READ_TIMEOUT_S)


def read_to_close(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length body, leaving the connection open."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_headers_that_stall_get_408_and_the_connection_closes() -> None:
    with limited_server(header_timeout_s=0.3) as address, connect(address) as sock:
        sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Ty")
        answer = read_to_close(sock)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"connection: close\r\n" in answer
    assert answer.endswith(b"\r\n\r\nThe request headers did not arrive in time.\n")


def test_a_connection_that_sends_nothing_is_closed_without_an_answer() -> None:
    with limited_server(header_timeout_s=0.3) as address, connect(address) as sock:
        assert read_to_close(sock) == b""


def test_the_next_request_on_a_kept_alive_connection_has_the_same_deadline() -> None:
    with limited_server(header_timeout_s=0.3) as address, connect(address) as sock:
        sock.sendall(REQUEST)
        first = read_response(sock)
        assert first.startswith(b"HTTP/1.1 200 OK\r\n")
        assert first.endswith(b"\r\n\r\nhello")
        sock.sendall(b"GET / HTTP/1.1\r\nHo")
        assert read_to_close(sock).startswith(b"HTTP/1.1 408 Request Timeout\r\n")


def test_headers_in_time_are_served() -> None:
    with limited_server(header_timeout_s=5.0) as address, connect(address) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n")
        answer = read_to_close(sock)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b"hello")


def test_max_connections_answers_503_above_it() -> None:
    with limited_server(max_connections=2) as address, connect(address) as kept:
        # Served while it is the only connection, and kept alive after.
        kept.sendall(REQUEST)
        assert read_response(kept).startswith(b"HTTP/1.1 200 OK\r\n")
        with connect(address) as sock:
            sock.sendall(REQUEST)
            assert read_to_close(sock).startswith(b"HTTP/1.1 503 Service Unavailable\r\n")


def test_the_configuration_carries_the_limits_to_every_worker() -> None:
    config = server_config(
        GATEWAY_FACTORY,
        settings(header_timeout_s=2.5, max_connections=500, workers=2),
        switch_interval_s=SWITCH_INTERVAL_S,
        factory=True,
        workers=2,
    )
    # --workers pickles the configuration into each spawned worker.
    copy = pickle.loads(pickle.dumps(config))
    assert isinstance(copy, GatewayServerConfig)
    assert copy.header_timeout_s == 2.5
    assert copy.http is HeaderTimeoutH11Protocol
    assert copy.limit_concurrency == 500
    assert copy.proxy_headers is True
    assert copy.switch_interval_s == SWITCH_INTERVAL_S


def test_the_serving_process_switches_threads_more_often() -> None:
    """A thread parsing a large document gives the event loop the GIL every 0.5 ms, not 5."""
    config = server_config(
        hello, settings(), switch_interval_s=SWITCH_INTERVAL_S, log_config=None, lifespan="off"
    )
    default = sys.getswitchinterval()
    assert default != SWITCH_INTERVAL_S
    try:
        config.load()  # what uvicorn does in the process that serves, before serving
        assert sys.getswitchinterval() == SWITCH_INTERVAL_S
    finally:
        sys.setswitchinterval(default)
