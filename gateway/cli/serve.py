"""``catalog-gateway serve``: the GraphQL API, from one process or several workers."""

from __future__ import annotations

import argparse
import os
from typing import Any

from gateway.cli.common import LOG_FORMAT, whole_number
from gateway.embedded_mongo import find_mongod
from gateway.server import GATEWAY_FACTORY, check_workers, run_workers, worker_log_config
from gateway.services import load_profiles
from gateway.settings import Settings

NAME = "serve"


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
    import uvicorn

    check_workers(settings, reload=reload)
    if settings.workers > 1:
        return _serve_workers(settings)
    if settings.mongodb_uri is None:
        find_mongod(settings.mongod)  # fail now with the full message, not inside the lifespan
    if reload:
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
        )
        return 0
    from gateway.app import create_app
    from gateway.gc_freeze import freeze_startup_objects

    app = create_app(settings)
    freeze_startup_objects()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        proxy_headers=True,
    )
    return 0


def _serve_workers(settings: Settings) -> int:
    # A worker whose factory raises is restarted again and again; fail here instead, with the
    # file and line, as one process does.
    load_profiles(settings)
    # Each worker builds its settings from the environment, so overrides travel through it.
    os.environ["CATALOG_HOST"] = settings.host
    os.environ["CATALOG_PORT"] = str(settings.port)
    import uvicorn

    config = uvicorn.Config(
        GATEWAY_FACTORY,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        log_config=worker_log_config(settings.log_level, LOG_FORMAT),
        proxy_headers=True,
    )
    return run_workers(config)
