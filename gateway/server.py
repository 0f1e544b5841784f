"""Several uvicorn worker processes behind one listening socket that asyncio treats as TCP.

uvicorn's supervisor binds the shared socket with ``socket.socket(family)``, protocol number 0.
Accepted connections inherit that number, and asyncio turns Nagle's algorithm off only for
sockets whose ``proto`` is IPPROTO_TCP, so under ``uvicorn --workers`` every keep-alive response
after the first waits for the client's delayed ACK (about 40 ms on Linux): uvicorn issue #3149,
fix proposed in PR #3155. ``TcpConfig`` binds the same socket but says what it is.

``python -m gateway.server --workers N`` is uvicorn's multi-worker command line (the options the
benchmark uses) with that socket; ``catalog-gateway serve --workers N`` is the way to run the
gateway, because it also refuses settings that several processes cannot share.
"""

from __future__ import annotations

import argparse
import copy
import socket
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG, STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

if TYPE_CHECKING:
    # Only for annotations: the benchmark's supervisor imports this module and should weigh
    # what uvicorn's does (its RSS counts in the process tree).
    from gateway.settings import Settings

GATEWAY_FACTORY = "gateway.asgi:app_factory"


class WorkersConfigError(ValueError):
    """Settings that one process can serve but several cannot."""


class TcpConfig(uvicorn.Config):
    """uvicorn's configuration, binding a listening socket whose ``proto`` is IPPROTO_TCP."""

    def bind_socket(self) -> socket.socket:
        # uvicorn binds, logs "Uvicorn running on ..." and exits on errors as usual.
        sock = super().bind_socket()
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return sock  # a Unix socket: no Nagle to turn off
        # The same descriptor, bound and inheritable; only the Python object learns its
        # protocol, which accept() copies onto every connection.
        return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())


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
    given = {"MONGODB_URI": settings.mongodb_uri, "CLOUDINARY_URL": settings.cloudinary_url}
    missing = [name for name, value in given.items() if value is None]
    if missing:
        raise WorkersConfigError(
            f"{settings.workers} workers need {' and '.join(missing)}: "
            f"{' and '.join(owned[name] for name in missing)} cannot be shared between "
            f"processes (each worker would start its own over {settings.data_dir}); set "
            f"{'it' if len(missing) == 1 else 'them'}, or serve with one worker"
        )


def worker_log_config(level: str, log_format: str) -> dict[str, Any]:
    """uvicorn's logging plus a root handler like the one ``catalog-gateway`` sets up.

    Workers are spawned, not forked: they start with logging unconfigured and apply only the
    configuration uvicorn hands them, so the gateway's own loggers need it in there.
    """
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["gateway"] = {"format": log_format}
    config["handlers"]["gateway"] = {
        "class": "logging.StreamHandler",
        "formatter": "gateway",
        "stream": "ext://sys.stderr",
    }
    config["root"] = {"handlers": ["gateway"], "level": level.upper()}
    # As the command line does: the Cloudinary SDK's pool notes are noise.
    config["loggers"]["urllib3.connectionpool"] = {"level": "ERROR"}
    return config


def run_workers(config: TcpConfig) -> int:
    """Serve with ``config.workers`` processes until SIGINT/SIGTERM; 1 if a worker never started.

    What ``uvicorn.run`` does for ``workers > 1``, with the socket bound by ``TcpConfig``.
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


def _workers(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 2:
        raise argparse.ArgumentTypeError("at least 2 (one worker needs no supervisor: uvicorn)")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.server",
        description="uvicorn --workers with a listening socket that asyncio treats as TCP.",
    )
    parser.add_argument("app", nargs="?", default=GATEWAY_FACTORY, help="module:factory")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=_workers, required=True)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--no-access-log", dest="access_log", action="store_false")
    parser.add_argument("--timeout-keep-alive", type=int, default=5)
    args = parser.parse_args(argv)
    config = TcpConfig(
        args.app,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=args.access_log,
        timeout_keep_alive=args.timeout_keep_alive,
    )
    return run_workers(config)


if __name__ == "__main__":
    sys.exit(main())
