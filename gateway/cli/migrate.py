"""``catalog-gateway migrate``: upgrade stored product documents to the current schemaVersion."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import PyMongoError

from gateway.cli.common import print_error, print_mongo_error, whole_number
from gateway.services import load_profiles, open_catalog
from gateway.settings import Settings
from resolvers.config_files import ConfigFileError
from resolvers.documents import SCHEMA_VERSION
from resolvers.upcasting import (
    DEFAULT_BATCH_SIZE,
    FIRST_VERSION,
    MAX_BATCH_SIZE,
    MigrationReport,
    migrate_products,
    step_descriptions,
)
from resolvers.workflow.publications import backfill

NAME = "migrate"


def _batch_size(value: str) -> int:
    number = whole_number(value)
    if not 1 <= number <= MAX_BATCH_SIZE:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and {MAX_BATCH_SIZE}")
    return number


def add_parser(commands: Any) -> argparse.ArgumentParser:
    migrate: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="upgrade stored products to the current schemaVersion",
        description=f"Upgrade every product document stored in an older schemaVersion to the "
        f"current one ({SCHEMA_VERSION}), in batches, while the gateway keeps serving. The "
        "gateway reads older documents in the current shape anyway; this saves the upgrade on "
        "every read. A document written by someone else meanwhile is left as they wrote it. "
        "Products whose status is published but that were never published through the "
        "workflow are published on every channel (storefronts read publications only). "
        "Stopped halfway, run it again: it continues with what is still outdated.",
    )
    migrate.add_argument(
        "--dry-run", action="store_true", help="print what would change and write nothing"
    )
    migrate.add_argument(
        "--batch-size",
        type=_batch_size,
        default=DEFAULT_BATCH_SIZE,
        help=f"documents per read and per bulk write (default {DEFAULT_BATCH_SIZE}, "
        f"at most {MAX_BATCH_SIZE})",
    )
    return migrate


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(migrate(args, settings))


async def migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Run the migration and print its counts; failures are one line with status 1."""
    try:
        profiles = load_profiles(settings)
    except ConfigFileError as exc:
        return print_error(str(exc))
    try:
        # No indexes: migrating needs none beyond _id, and must not wait on index builds.
        async with open_catalog(settings, profiles, role="command", indexes=False) as connection:
            report = await migrate_products(
                connection.catalog.products, batch_size=args.batch_size, dry_run=args.dry_run
            )
            # Storefronts read publications only: what was published before they existed is
            # published on every channel, so nothing disappears from a storefront.
            published = await backfill(
                connection.catalog,
                profiles.channels,
                profiles.locales,
                datetime.now(UTC),
                batch=args.batch_size,
                dry_run=args.dry_run,
            )
    except PyMongoError as exc:
        return print_mongo_error(exc)
    print_report(report)
    print_publications(published, args.dry_run)
    return 0


def print_publications(published: int, dry_run: bool) -> None:
    pairs = f"{published} product-channel pair{'' if published == 1 else 's'}"
    if dry_run:
        print(f"dry run: would publish {pairs} published before publications existed")
    else:
        print(f"published {pairs} that were published before publications existed")


def print_report(report: MigrationReport) -> None:
    print(f"products by schemaVersion before: {_counts(report.before)}")
    if report.dry_run:
        print(
            f"dry run: would upgrade {_products(report.total_upgraded)} to v{SCHEMA_VERSION}"
            f"{_by_version(report.upgraded)}; nothing written"
        )
        for version in sorted(report.upgraded):
            for line in step_descriptions(version):
                print(f"  {line}")
    else:
        skipped = (
            f"; {report.skipped} written by someone else meanwhile, left as they are"
            if report.skipped
            else ""
        )
        print(
            f"upgraded {_products(report.total_upgraded)} to v{SCHEMA_VERSION}"
            f"{_by_version(report.upgraded)} in {report.batches} "
            f"batch{'' if report.batches == 1 else 'es'}{skipped}"
        )
        print(f"products by schemaVersion after: {_counts(report.after)}")
    unreadable = sum(n for v, n in report.before.items() if v is not None and not _readable(v))
    if unreadable:
        print(
            f"{_products(unreadable)} with a schemaVersion this gateway cannot read (newer than "
            f"{SCHEMA_VERSION}, or malformed): left alone; the gateway refuses to serve them"
        )


def _products(count: int) -> str:
    return f"{count} product{'' if count == 1 else 's'}"


def _readable(version: Any) -> bool:
    return type(version) is int and FIRST_VERSION <= version <= SCHEMA_VERSION


def _counts(counts: dict[Any, int]) -> str:
    if not counts:
        return "no products"
    return ", ".join(f"{_version_name(version)}: {n}" for version, n in counts.items())


def _version_name(version: Any) -> str:
    if version is None:
        return "none (v1)"
    return f"v{version}" if type(version) is int else repr(version)


def _by_version(upgraded: dict[Any, int]) -> str:
    if not upgraded:
        return ""
    return " (" + ", ".join(f"from v{v}: {n}" for v, n in sorted(upgraded.items())) + ")"
