"""``catalog-gateway readiness refresh``: recompute every stored readiness score."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

from gateway.services import load_profiles, open_catalog
from gateway.settings import Settings
from resolvers.readiness import materialize

NAME = "readiness"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    readiness: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="recompute stored readiness scores",
        description="Recompute the readiness scores stored on products (filters, sorts and "
        "catalogReadiness use them). The gateway does this itself when products, assets or "
        "channels.toml change; run it from cron too, because promotional windows open and close "
        "with time.",
    )
    readiness.add_argument("action", choices=["refresh"], help="refresh: recompute every score")
    return readiness


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(refresh(settings))


async def refresh(settings: Settings) -> int:
    profiles = load_profiles(settings)
    async with open_catalog(settings, profiles, role="command") as connection:
        count = await materialize(
            connection.catalog, profiles.channels, profiles.locales, datetime.now(UTC)
        )
    print(f"readiness recomputed for {count} products on {', '.join(profiles.channels.names())}")
    return 0
