"""``catalog-gateway seed --demo``: load the deterministic demo catalog."""

from __future__ import annotations

import argparse
import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

from gateway.cli.common import CLIError, whole_number
from gateway.dam_setup import emulator_for_uploads, emulator_storage
from gateway.services import Profiles, load_profiles, open_catalog
from gateway.settings import Settings
from resolvers.assets import DamClient
from resolvers.db import Catalog
from resolvers.readiness import materialize
from resolvers.validation import Validator

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
        description="Load the deterministic demo catalog into the configured database. Without "
        "CLOUDINARY_URL, also draw its pictures and upload them into the built-in emulator's "
        "storage under CATALOG_DATA_DIR (through the emulator of a running `serve`, on "
        "CATALOG_EMULATOR_PORT, when it has one), as `serve` with CATALOG_DEMO=true does.",
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
    async with AsyncExitStack() as stack:
        catalog = (
            await stack.enter_async_context(open_catalog(settings, profiles, role="command"))
        ).catalog
        # What `serve` with CATALOG_DEMO does: the pictures go into the emulator's storage under
        # CATALOG_DATA_DIR, where the next `serve` finds them (a real Cloudinary is left alone).
        # Its emulator is settled first: a seed that cannot upload writes nothing.
        dam = None
        if settings.cloudinary_url is None:
            dam = await stack.enter_async_context(emulator_for_uploads(settings))
        try:
            report = await seed_demo_catalog(
                catalog.db,
                products=products,
                seed=seed,
                locales=settings.locales,
                replace=replace,
                validator=Validator(profiles.validation),
            )
        except CatalogNotEmptyError as exc:
            raise CLIError(str(exc)) from exc
        await materialize(catalog, profiles.channels, profiles.locales, datetime.now(UTC))
        if replace:
            # The replaced catalog's publications went with it.
            for channel in profiles.channels.names():
                await catalog.publications(channel).delete_many({})
        from demo.workflow import publish_demo

        publishing = await publish_demo(
            catalog, profiles.channels, profiles.locales, datetime.now(UTC)
        )
        print(f"seeded database {settings.db!r}: {report}")
        print(
            f"published {publishing.published} product-channel pairs; other workflow states: "
            + (", ".join(f"{n} {state}" for state, n in publishing.staged.items()) or "none")
        )
        if dam is not None:
            await _upload_pictures(settings, profiles, catalog, dam)
    return 0


async def _upload_pictures(
    settings: Settings, profiles: Profiles, catalog: Catalog, dam: DamClient
) -> None:
    from demo.upload import upload_demo_pictures

    media = await upload_demo_pictures(
        catalog, dam, profiles.channels, profiles.locales, lambda: datetime.now(UTC), concurrency=8
    )
    if media is None:
        raise CLIError("uploading the demo pictures failed (MongoDB): see the log above")
    failed = f", {len(media.failed)} failed" if media.failed else ""
    print(
        f"demo pictures in {emulator_storage(settings)}: {media.uploaded} uploaded, "
        f"{media.skipped} there already{failed}; readiness scored with them"
    )
    if media.failed:
        raise CLIError(
            f"{len(media.failed)} demo pictures could not be uploaded (see the log above); "
            "`seed --demo --replace` uploads what is missing"
        )
