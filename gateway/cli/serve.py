"""``catalog-gateway serve``: the GraphQL API, from one process or several workers."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import socket
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from gateway.auth.setup import check_key_pepper
from gateway.cli.common import whole_number
from gateway.embedded_mongo import find_mongod
from gateway.logs import logging_config
from gateway.ports import bind_port, ensure_port_free
from gateway.server import (
    GATEWAY_FACTORY,
    SWITCH_INTERVAL_S,
    HeaderTimeoutH11Protocol,
    check_workers,
    run_workers,
    server_config,
)
from gateway.services import check_serve_ports, load_profiles
from gateway.settings import Settings

log = logging.getLogger(__name__)

NAME = "serve"
GATEWAY = "the gateway"
PORT_SETTING = "CATALOG_PORT (or --port)"


def _workers(value: str) -> int:
    number = whole_number(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is too few: at least 1")
    return number


def add_parser(commands: Any) -> argparse.ArgumentParser:
    serve: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="serve the GraphQL API",
        description="Serve /graphql, /healthz and /readyz. Without MONGODB_URI, start and own "
        "an embedded mongod (single-node replica set) with data under CATALOG_DATA_DIR.",
    )
    serve.add_argument("--host", help="interface to bind (CATALOG_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (CATALOG_PORT, default 8000)")
    serve.add_argument(
        "--workers",
        type=_workers,
        help="worker processes (CATALOG_WORKERS, default 1); more than one needs MONGODB_URI "
        "and CLOUDINARY_URL",
    )
    serve.add_argument("--reload", action="store_true", help="restart on code changes (dev)")
    return serve


def run(args: argparse.Namespace, settings: Settings) -> int:
    return serve(settings, reload=args.reload)


def serve(settings: Settings, *, reload: bool) -> int:
    check_workers(settings, reload=reload)
    check_key_pepper(settings)
    if settings.workers > 1:
        return _serve_workers(settings)
    if settings.mongodb_uri is None:
        find_mongod(settings.mongod)  # fail now with the full message, not inside the lifespan
    if reload:
        check_serve_ports(settings)
        ensure_port_free(settings.host, settings.port, what=GATEWAY, variable=PORT_SETTING)
        # The reloader imports the app in a child process that rebuilds settings from the
        # environment, so command-line overrides travel through it.
        os.environ["CATALOG_HOST"] = settings.host
        os.environ["CATALOG_PORT"] = str(settings.port)
        uvicorn.run(
            "gateway.asgi:app_factory",
            factory=True,
            host=settings.host,
            port=settings.port,
            reload=True,
            reload_dirs=["gateway", "schema", "resolvers", "cloudinary_emulator", "demo"],
            log_level=settings.log_level,
            log_config=logging_config(settings.log_level, settings.log_format),
            access_log=False,
            # uvicorn.run builds its own configuration: the header deadline is the default one.
            http=HeaderTimeoutH11Protocol,
            limit_concurrency=settings.max_connections,
        )
        return 0
    from gateway.app import create_app
    from gateway.gc_freeze import freeze_startup_objects

    # The gateway's socket is bound before anything starts and kept: a port another instance
    # holds stops start-up here, in one line, not after mongod and the emulator started.
    with bind_port(settings.host, settings.port, what=GATEWAY, variable=PORT_SETTING) as sock:
        check_serve_ports(settings)
        app = create_app(settings)
        freeze_startup_objects()
        # log_config None: configured by the command line (gateway.logs).
        config = server_config(app, settings, switch_interval_s=SWITCH_INTERVAL_S, log_config=None)
        server = _Server(config)
        with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run: Ctrl-C is a clean stop
            server.run(sockets=[sock])
    # As uvicorn.run: a lifespan that failed to start is a failed start-up.
    return 0 if server.started else STARTUP_FAILURE


class _Server(uvicorn.Server):
    """uvicorn's server on the socket ``serve`` bound; says where it listens once started."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and sockets:
            host, port = sockets[0].getsockname()[:2]
            log.info("serving http://%s:%d/graphql (Ctrl-C to stop)", _url_host(host), port)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _serve_workers(settings: Settings) -> int:
    # A worker whose factory raises is restarted again and again; fail here instead, with the
    # file and line, as one process does.
    load_profiles(settings)
    ensure_port_free(settings.host, settings.port, what=GATEWAY, variable=PORT_SETTING)
    # Each worker builds its settings from the environment, so overrides travel through it.
    os.environ["CATALOG_HOST"] = settings.host
    os.environ["CATALOG_PORT"] = str(settings.port)
    config = server_config(
        GATEWAY_FACTORY,
        settings,
        factory=True,
        workers=settings.workers,
        switch_interval_s=SWITCH_INTERVAL_S,
        # Workers are spawned, not forked: they start with logging unconfigured and apply
        # only the configuration uvicorn hands them.
        log_config=logging_config(settings.log_level, settings.log_format),
    )
    return run_workers(config)
