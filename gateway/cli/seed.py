"""``catalog-gateway seed --demo``: load the deterministic demo catalog."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

from gateway.cli.common import CLIError, whole_number
from gateway.services import load_profiles, open_catalog
from gateway.settings import Settings
from resolvers.readiness import materialize

NAME = "seed"


def _demo_size(value: str) -> int:
    from demo.catalog import MIN_PRODUCTS

    number = whole_number(value)
    if number < MIN_PRODUCTS:
        raise argparse.ArgumentTypeError(
            f"{value} is too few: the demo catalog plants each defect on two or more of at "
            f"least {MIN_PRODUCTS} products"
        )
    return number


def add_parser(commands: Any) -> argparse.ArgumentParser:
    seed: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="load a catalog",
        description="Load the deterministic demo catalog into the configured database.",
    )
    seed.add_argument("--demo", action="store_true", required=True, help="the demo catalog")
    seed.add_argument(
        "--products", type=_demo_size, default=300, help="how many, at least 50 (default 300)"
    )
    seed.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    seed.add_argument("--replace", action="store_true", help="delete the existing catalog first")
    return seed


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(seed_demo(settings, args.products, args.seed, args.replace))


async def seed_demo(settings: Settings, products: int, seed: int, replace: bool) -> int:
    from demo.seeding import CatalogNotEmptyError, seed_demo_catalog

    profiles = load_profiles(settings)
    async with open_catalog(settings, profiles, role="command") as connection:
        catalog = connection.catalog
        try:
            report = await seed_demo_catalog(
                catalog.db, products=products, seed=seed, locales=settings.locales, replace=replace
            )
        except CatalogNotEmptyError as exc:
            raise CLIError(str(exc)) from exc
        await materialize(catalog, profiles.channels, profiles.locales, datetime.now(UTC))
    print(f"seeded database {settings.db!r}: {report}")
    return 0
