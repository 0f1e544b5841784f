"""``catalog-gateway cloudinary-emulator``: the built-in Cloudinary emulator on its own."""

from __future__ import annotations

import argparse
from typing import Any

from gateway.cli.common import CLIError
from gateway.dam_setup import (
    EMULATOR_CLOUD,
    EMULATOR_KEY,
    emulator_secret,
    emulator_storage,
    emulator_storage_lock,
)
from gateway.ports import ensure_port_free
from gateway.settings import Settings

NAME = "cloudinary-emulator"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    emulator: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="run the Cloudinary emulator on its own",
        description="Serve the built-in Cloudinary emulator (Upload, Admin and delivery APIs) "
        "for pre-production testing; uploads persist under CATALOG_DATA_DIR/cloudinary. "
        "Point the official SDK at it with upload_prefix=http://HOST:PORT. Its test controls "
        "under /_emulator/ (stats, faults, reset, notifications) take the same HTTP Basic "
        "api_key:api_secret as the Admin API.",
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
    emulator.add_argument(
        "--notification-url",
        metavar="URL",
        help="where to notify uploads, changes and deletions, like Cloudinary's notification "
        "URL (e.g. http://gateway:8000/webhooks/cloudinary); default: nowhere",
    )
    return emulator


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cloudinary_emulator import run_emulator

    with emulator_storage_lock(settings) as owned:
        if not owned:
            raise CLIError(
                f"another process runs the Cloudinary emulator over {emulator_storage(settings)} "
                "(a `serve` without CLOUDINARY_URL, or another `cloudinary-emulator`): stop it, or "
                "set CATALOG_DATA_DIR to another directory"
            )
        ensure_port_free(args.host, args.port, what="the Cloudinary emulator", variable="--port")
        run_emulator(
            args.host,
            args.port,
            args.cloud_name,
            args.api_key,
            args.api_secret or emulator_secret(settings),
            storage_dir=emulator_storage(settings),
            notification_url=args.notification_url,
        )
    return 0
