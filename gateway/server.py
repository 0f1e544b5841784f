"""How ``serve`` runs uvicorn: the server's limits, and several workers behind one socket.

``server_config`` is the uvicorn configuration of ``serve``, one process or several: uvicorn's
h11 protocol with a deadline for the request line and headers (``HeaderTimeoutH11Protocol``,
``CATALOG_HEADER_TIMEOUT_S``), which uvicorn lacks (its only timer is the keep-alive one, armed
after a response), and ``limit_concurrency`` from ``CATALOG_MAX_CONNECTIONS``. The body deadline
and the per-client cap live in the application (``gateway.client_limits``).

``catalog-gateway serve --workers N`` runs the gateway in several processes after refusing
settings that several processes cannot share. uvicorn >= 0.55 binds the shared socket as
IPPROTO_TCP, so its workers turn Nagle's algorithm off like one process does (uvicorn #3149,
fixed upstream).

A serving process also shortens the interpreter's thread switch interval
(``SWITCH_INTERVAL_S``), see ``GatewayServerConfig.load``.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState
from uvicorn.supervisors import Multiprocess

from gateway.settings import Settings

GATEWAY_FACTORY = "gateway.asgi:app_factory"
# What a server not configured by ``server_config`` gets (``uvicorn --http`` with this class).
DEFAULT_HEADER_TIMEOUT_S = 10.0
# How long a thread may hold the GIL while another waits for it (CPython's default is 5 ms).
# Large documents are parsed and validated in worker threads (schema.document_cache) so the
# event loop stays free, but a pure-Python parse holds the GIL and gives it up only when
# asked: each time the loop returns from a system call (every loop iteration, every socket
# read and write) it waits up to one interval, two when both workers are busy. Beside a
# stream of 32 KB validation bombs on two busy CPUs (benchmarks/bombs.py), /healthz took
# 16-29 ms at the median and 110-215 ms at p99 at 5 ms; 6-22 ms and 50-90 ms at 0.5 ms, with
# the same CPU per document. Process-wide, so the serving process sets it, never the library
# (tests and applications embedding create_app keep their own).
SWITCH_INTERVAL_S = 0.0005
_HEADERS_LATE = b"The request headers did not arrive in time.\n"
_REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_HEADERS_LATE), _HEADERS_LATE)
)


class GatewayServerConfig(uvicorn.Config):
    """uvicorn's configuration, the header deadline its protocol reads from it, and the
    thread switch interval of the process that serves it.

    A subclass rather than a setting on the side: ``--workers`` pickles the configuration
    into every worker process, and the deadline and the interval travel with it.
    """

    def __init__(
        self,
        app: ASGIApp | str,
        *,
        header_timeout_s: float,
        switch_interval_s: float | None = None,
        **options: Any,
    ) -> None:
        super().__init__(app, **options)
        self.header_timeout_s = header_timeout_s
        self.switch_interval_s = switch_interval_s

    def load(self) -> None:
        # uvicorn loads the configuration in the process that serves, before serving: the
        # one process of ``serve``, or each spawned worker of ``serve --workers``.
        if self.switch_interval_s is not None:
            sys.setswitchinterval(self.switch_interval_s)
        super().load()


class HeaderTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol that closes a connection whose request headers do not arrive.

    The deadline runs from the connection's opening, and on a kept-alive connection from the
    first byte of the next request (until then uvicorn's keep-alive timeout applies). A client
    that sent part of a request gets 408 before the close; one that sent nothing is closed.
    """

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout_s = (
            config.header_timeout_s
            if isinstance(config, GatewayServerConfig)
            else DEFAULT_HEADER_TIMEOUT_S
        )
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        waiting_for_headers = self.conn.their_state is h11.IDLE
        if waiting_for_headers:
            self._header_bytes += len(data)
            if self._header_timer is None:  # the first bytes of a kept-alive connection's next
                self._arm_header_timer()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._cancel_header_timer()
            self._header_bytes = 0

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_timed_out)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_timed_out(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self._header_bytes:
            # Written raw: h11 answers only requests it has parsed, and this one never was.
            self.transport.write(_REQUEST_TIMEOUT)
        self.transport.close()


def server_config(
    app: ASGIApp | str,
    settings: Settings,
    *,
    switch_interval_s: float | None = None,
    **options: Any,
) -> GatewayServerConfig:
    """uvicorn's configuration for ``serve``: limits and address from ``settings``.

    ``serve`` passes ``SWITCH_INTERVAL_S``; without it the serving process keeps its interval
    (a test serving in a thread of pytest must not change pytest's).
    """
    return GatewayServerConfig(
        app,
        header_timeout_s=settings.header_timeout_s,
        switch_interval_s=switch_interval_s,
        # h11 even where httptools is installed: the header deadline is written for h11.
        http=HeaderTimeoutH11Protocol,
        limit_concurrency=settings.max_connections,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,  # the gateway's own (CATALOG_ACCESS_LOG)
        proxy_headers=True,
        **options,
    )


class WorkersConfigError(ValueError):
    """Settings that one process can serve but several cannot."""


def check_workers(settings: Settings, *, reload: bool = False) -> None:
    """Refuse several workers where they would fight over what one process owns."""
    if settings.workers == 1:
        return
    if reload:
        raise WorkersConfigError(
            f"--reload serves from one process; it cannot run {settings.workers} workers "
            "(drop --workers or CATALOG_WORKERS)"
        )
    # Without these the gateway starts its own, bound to the data directory: every worker
    # would start one more over the same files. The emulator keeps its store in memory too,
    # so separate emulators would each know only the uploads made through their worker.
    owned = {"MONGODB_URI": "the embedded mongod", "CLOUDINARY_URL": "the Cloudinary emulator"}
    named = {
        "MONGODB_URI": "MONGODB_URI",
        "CLOUDINARY_URL": "CLOUDINARY_URL (or CATALOG_EMULATOR_URL)",
    }
    # An emulator run as its own service (CATALOG_EMULATOR_URL) is shared like Cloudinary.
    given = {
        "MONGODB_URI": settings.mongodb_uri,
        "CLOUDINARY_URL": settings.cloudinary_url or settings.emulator_url,
    }
    missing = [name for name, value in given.items() if value is None]
    if missing:
        raise WorkersConfigError(
            f"{settings.workers} workers need {' and '.join(named[name] for name in missing)}: "
            f"{' and '.join(owned[name] for name in missing)} cannot be shared between "
            f"processes (each worker would start its own over {settings.data_dir}); set "
            f"{'it' if len(missing) == 1 else 'them'}, or serve with one worker"
        )


def run_workers(config: uvicorn.Config) -> int:
    """Serve with ``config.workers`` processes until SIGINT/SIGTERM; 1 if a worker never started.

    What ``uvicorn.run`` does for ``workers > 1``, which exits 0 even when no worker started.
    """
    if config.workers < 2 or not isinstance(config.app, str):
        raise ValueError("run_workers needs workers > 1 and the app as an import string")
    sock = config.bind_socket()
    supervisor = Multiprocess(config, sockets=[sock])
    try:
        supervisor.run()
    finally:
        sock.close()
    # The supervisor gives up when a worker fails before serving (a lifespan that could not
    # start would fail the same way again); say so in the exit status, as uvicorn.run does for
    # one process.
    failed = any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes)
    return 1 if failed else 0
