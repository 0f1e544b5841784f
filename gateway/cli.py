"""The ``catalog-gateway`` command: parses arguments and calls into the library."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from gateway.cli_audit import add_audit_parser, run_audit_command
from gateway.cli_media import add_media_parser, run_media
from gateway.dam_setup import (
    EMULATOR_CLOUD,
    EMULATOR_KEY,
    DamNotConfiguredError,
    emulator_secret,
    emulator_storage,
)
from gateway.embedded_mongo import EmbeddedMongo, MongodNotFoundError, MongodStartError, find_mongod
from gateway.server import (
    GATEWAY_FACTORY,
    WorkersConfigError,
    check_workers,
    run_workers,
    worker_log_config,
)
from gateway.settings import Settings, SettingsError, load_settings
from resolvers.channels import ChannelConfigError, load_channels

log = logging.getLogger("gateway.cli")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class CLIError(Exception):
    """A failure to report in one line, with exit status 1."""


def _demo_size(value: str) -> int:
    from demo.catalog import MIN_PRODUCTS

    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < MIN_PRODUCTS:
        raise argparse.ArgumentTypeError(
            f"{value} is too few: the demo catalog plants each defect on two or more of at "
            f"least {MIN_PRODUCTS} products"
        )
    return number


def _workers(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is too few: at least 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="catalog-gateway",
        description="GraphQL gateway over the product catalog (MongoDB) and its media "
        "(Cloudinary). Settings come from the environment: MONGODB_URI and CATALOG_*.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
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

    seed = commands.add_parser(
        "seed",
        help="load a catalog",
        description="Load the deterministic demo catalog into the configured database.",
    )
    seed.add_argument("--demo", action="store_true", required=True, help="the demo catalog")
    seed.add_argument(
        "--products", type=_demo_size, default=300, help="how many, at least 50 (default 300)"
    )
    seed.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    seed.add_argument("--replace", action="store_true", help="delete the existing catalog first")

    commands.add_parser(
        "schema", help="print the SDL", description="Print the subgraph's SDL (Federation 2)."
    )

    add_media_parser(commands)
    add_audit_parser(commands)

    readiness = commands.add_parser(
        "readiness",
        help="recompute stored readiness scores",
        description="Recompute the readiness scores stored on products (filters, sorts and "
        "catalogReadiness use them). The gateway does this itself when products, assets or "
        "channels.toml change; run it from cron too, because promotional windows open and close "
        "with time.",
    )
    readiness.add_argument("action", choices=["refresh"], help="refresh: recompute every score")

    emulator = commands.add_parser(
        "cloudinary-emulator",
        help="run the Cloudinary emulator on its own",
        description="Serve the built-in Cloudinary emulator (Upload, Admin and delivery APIs) "
        "for pre-production testing; uploads persist under CATALOG_DATA_DIR/cloudinary. "
        "Point the official SDK at it with upload_prefix=http://HOST:PORT.",
    )
    emulator.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    emulator.add_argument("--port", type=int, default=8001, help="port (default 8001)")
    emulator.add_argument("--cloud-name", default=EMULATOR_CLOUD)
    emulator.add_argument("--api-key", default=EMULATOR_KEY)
    emulator.add_argument(
        "--api-secret",
        help="API secret (default: CATALOG_EMULATOR_SECRET, else the random one kept in "
        "CATALOG_DATA_DIR/cloudinary, which `serve` and `media ingest` use too)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "schema":
            return cmd_schema()
        settings = _settings(args)
        logging.basicConfig(
            level=settings.log_level.upper(),
            format=LOG_FORMAT,
        )
        # The Cloudinary SDK shares one small urllib3 pool between threads; the pool's notes
        # about discarded connections are noise, not problems.
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
        if args.command == "serve":
            return cmd_serve(settings, reload=args.reload)
        if args.command == "seed":
            return asyncio.run(cmd_seed(settings, args.products, args.seed, args.replace))
        if args.command == "audit":
            return asyncio.run(run_audit_command(args, settings, connected_database))
        if args.command == "media":
            return asyncio.run(run_media(args, settings))
        if args.command == "readiness":
            return asyncio.run(cmd_readiness_refresh(settings))
        if args.command == "cloudinary-emulator":
            return cmd_emulator(settings, args)
    except (
        CLIError,
        SettingsError,
        MongodNotFoundError,
        MongodStartError,
        ChannelConfigError,
        DamNotConfiguredError,
        WorkersConfigError,
    ) as exc:
        print(f"catalog-gateway: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    raise AssertionError(f"unhandled command {args.command}")


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None):
        overrides["port"] = args.port
    if getattr(args, "workers", None) is not None:
        overrides["workers"] = args.workers
    return load_settings(**overrides)


async def cmd_readiness_refresh(settings: Settings) -> int:
    from resolvers.db import Catalog, ensure_indexes
    from resolvers.locales import LocaleResolver
    from resolvers.readiness import materialize

    locales = LocaleResolver(settings.locales, settings.default_locale, settings.fallback_chains)
    channels = load_channels(settings.channels_path, locales)
    async with connected_database(settings) as db:
        catalog = Catalog(db)
        await ensure_indexes(catalog, locales.locales, channels.names())
        count = await materialize(catalog, channels, locales, datetime.now(UTC))
    print(f"readiness recomputed for {count} products on {', '.join(channels.names())}")
    return 0


def cmd_emulator(settings: Settings, args: argparse.Namespace) -> int:
    from cloudinary_emulator import run_emulator

    run_emulator(
        args.host,
        args.port,
        args.cloud_name,
        args.api_key,
        args.api_secret or emulator_secret(settings),
        storage_dir=emulator_storage(settings),
    )
    return 0


def cmd_schema() -> int:
    from schema import build_schema

    print(build_schema().as_str())
    return 0


def cmd_serve(settings: Settings, *, reload: bool) -> int:
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
    from resolvers.locales import LocaleResolver

    # A worker whose factory raises is restarted again and again; fail here instead, with the
    # file and line, as one process does.
    locales = LocaleResolver(settings.locales, settings.default_locale, settings.fallback_chains)
    load_channels(settings.channels_path, locales)
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


@asynccontextmanager
async def connected_database(settings: Settings) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    """The configured database: MONGODB_URI, the running embedded mongod, or a temporary one."""
    server: EmbeddedMongo | None = None
    uri = settings.mongodb_uri
    if uri is None:
        server = EmbeddedMongo(
            binary=find_mongod(settings.mongod),
            dbpath=settings.data_dir / "mongo",
            port=settings.mongod_port,
        )
        if await _answers(server.uri):
            server = None  # `serve` owns it; share it rather than fight over the data files
        else:
            await asyncio.to_thread(server.start)
        uri = f"mongodb://127.0.0.1:{settings.mongod_port}/?replicaSet=rs0"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        uri, tz_aware=True, serverSelectionTimeoutMS=settings.mongo_timeout_ms
    )
    try:
        yield client[settings.db]
    finally:
        await client.close()
        if server is not None:
            await asyncio.to_thread(server.stop)


async def _answers(uri: str) -> bool:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, serverSelectionTimeoutMS=700)
    try:
        await client.admin.command("ping")
        return True
    except Exception:
        return False
    finally:
        await client.close()


async def cmd_seed(settings: Settings, products: int, seed: int, replace: bool) -> int:
    from demo.seeding import CatalogNotEmptyError, seed_demo_catalog
    from resolvers.db import Catalog, ensure_indexes
    from resolvers.locales import LocaleResolver
    from resolvers.readiness import materialize

    locales = LocaleResolver(settings.locales, settings.default_locale, settings.fallback_chains)
    channels = load_channels(settings.channels_path, locales)
    async with connected_database(settings) as db:
        catalog = Catalog(db)
        await ensure_indexes(catalog, locales.locales, channels.names())
        try:
            report = await seed_demo_catalog(
                db, products=products, seed=seed, locales=settings.locales, replace=replace
            )
        except CatalogNotEmptyError as exc:
            raise CLIError(str(exc)) from exc
        await materialize(catalog, channels, locales, datetime.now(UTC))
    print(f"seeded database {settings.db!r}: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
