"""``catalog-gateway media ingest``: argument parsing and the report table."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pymongo.errors import PyMongoError

from gateway.cli.common import print_error
from gateway.dam_setup import DamNotConfiguredError
from gateway.services import load_profiles, open_services
from gateway.settings import Settings
from resolvers.config_files import ConfigFileError
from resolvers.documents import MEDIA_ROLES
from resolvers.locales import LocaleError, canonical_tag
from resolvers.readiness import rescore_skus

if TYPE_CHECKING:
    # Ingest imports Pillow, which building the parser for every other command need not load.
    from resolvers.assets.ingest import IngestRequest, IngestResult

NAME = "media"
COLUMNS = ("file", "sku", "role", "public_id", "status", "reasons", "near-duplicates")


def _alt_pair(value: str) -> tuple[str, str]:
    tag, sep, text = value.partition("=")
    if not sep or not text.strip():
        raise argparse.ArgumentTypeError(f"expected LOCALE=TEXT, got {value!r}")
    try:
        return canonical_tag(tag.strip()), text.strip()
    except LocaleError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _MediaParser(argparse.ArgumentParser):
    """Checks combinations argparse cannot express at parse time, so misuse exits 2 with the
    usage like any other argparse error, before settings, MongoDB or the DAM are touched."""

    usage_check: Callable[[argparse.Namespace], str | None] | None = None

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, rest = super().parse_known_args(args, namespace)
        problem = self.usage_check(parsed) if self.usage_check else None
        if problem:
            self.error(problem)
        return parsed, rest


def _ingest_usage_problem(args: argparse.Namespace) -> str | None:
    if args.manifest is not None:
        if args.paths:
            return "give files or --manifest, not both"
        given = [f"--{name}" for name in ("sku", "role", "variant", "alt") if getattr(args, name)]
        if given:
            return f"{', '.join(given)} come from the manifest's columns with --manifest"
        return None
    if not args.paths:
        return "give the files to ingest, or --manifest CSV"
    missing = [f"--{name}" for name in ("sku", "role") if not getattr(args, name)]
    if missing:
        return f"the following arguments are required with files: {', '.join(missing)}"
    tags = [tag for tag, _ in args.alt or []]
    repeated = sorted({tag for tag in tags if tags.count(tag) > 1})
    if repeated:
        return f"--alt given twice for {', '.join(repeated)}"
    return None


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``media`` (with ``ingest``) to the top-level sub-commands."""
    media: argparse.ArgumentParser = commands.add_parser(
        NAME, help="manage product media", description="Manage product media in the DAM."
    )
    actions = media.add_subparsers(
        dest="media_command", required=True, metavar="ACTION", parser_class=_MediaParser
    )
    ingest: _MediaParser = actions.add_parser(
        "ingest",
        help="upload media files for products",
        description="Check files against the channel rules (format, resolution, sRGB, size, alt "
        "text), upload them as catalog/{sku}/{role}-{n}, and reference them from their product. "
        "Files failing a check are uploaded but rejected (never delivered). Exit status: 0 when "
        "every file was accepted (now or by an earlier run), 1 otherwise.",
    )
    ingest.add_argument("paths", nargs="*", metavar="PATH", help="files for one product and role")
    ingest.add_argument(
        "--manifest",
        type=Path,
        metavar="CSV",
        help="a CSV with columns path (relative to the CSV), sku, role, variant, alt_<locale>",
    )
    ingest.add_argument("--sku", help="the product's SKU")
    ingest.add_argument("--role", choices=MEDIA_ROLES, help="the media role")
    ingest.add_argument("--variant", metavar="SKU", help="a variant of the product")
    ingest.add_argument(
        "--alt",
        type=_alt_pair,
        action="append",
        metavar="LOCALE=TEXT",
        help="alt text for one locale (repeatable)",
    )
    ingest.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ingest.usage_check = _ingest_usage_problem
    return media


def requests_from_args(args: argparse.Namespace) -> list[IngestRequest]:
    """Files given on the command line (``--manifest`` is read by ``ingest``)."""
    from resolvers.assets.ingest import IngestRequest

    alt = dict(args.alt or [])
    return [
        IngestRequest(Path(path), args.sku, args.role, args.variant, alt, label=path)
        for path in args.paths
    ]


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(ingest(args, settings))


async def ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``media ingest``; errors are printed here, as one line each, with exit status 1."""
    # Imported here, not above: ingest loads Pillow.
    from resolvers.assets.ingest import ManifestError, ingest_files, read_manifest

    try:
        profiles = load_profiles(settings)
        requests = read_manifest(args.manifest) if args.manifest else requests_from_args(args)
    except (ConfigFileError, ManifestError) as exc:
        return print_error(str(exc))
    try:
        # No indexes: ingest writes a few documents, it does not rebuild indexes (a changed list
        # of locales rebuilds the text index); `serve`, `seed` and `readiness refresh` do.
        async with open_services(settings, profiles, role="command", indexes=False) as opened:
            services = opened.services
            now = services.clock()
            results = await ingest_files(
                services.catalog,
                services.dam,
                services.channels,
                services.locales,
                requests,
                now,
                validation=profiles.validation,
            )
            # New or rejected media changes what the products are ready for.
            touched = sorted({r.request.sku for r in results if r.public_id})
            if touched:
                await rescore_skus(
                    services.catalog, services.channels, services.locales, now, touched
                )
    except DamNotConfiguredError as exc:
        return print_error(str(exc))
    except PyMongoError as exc:
        return print_error(f"MongoDB: {exc}")
    if args.json:
        print(json.dumps([r.to_json() for r in results], indent=2))
    else:
        print_table(results, sys.stdout)
    return 0 if all(r.passed for r in results) else 1


def table_rows(results: Sequence[IngestResult]) -> list[tuple[str, ...]]:
    return [
        (
            r.request.display,
            r.request.sku,
            r.request.role,
            r.public_id or "-",
            r.status,
            "; ".join(r.reasons) or "-",
            ", ".join(f"{d.public_id} ({d.distance})" for d in r.near_duplicates) or "-",
        )
        for r in results
    ]


def print_table(results: Sequence[IngestResult], out: TextIO) -> None:
    rows = [COLUMNS, *table_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    for row in rows:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        out.write("\n")
    counts = {s: sum(r.status == s for r in results) for s in _STATUSES}
    out.write(f"{len(results)} file(s): " + ", ".join(f"{n} {s}" for s, n in counts.items()) + "\n")


_STATUSES = ("accepted", "rejected", "failed", "unchanged")
