"""``catalog-gateway audit``: argument parsing and the report as terminal tables or JSON.

The JSON is the report's dataclasses as they are (:func:`report_json`): every field, with the
camelCase names GraphQL gives them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass
from typing import Any, TextIO

from pymongo.errors import PyMongoError

from gateway.cli.common import print_error, print_mongo_error, whole_number
from gateway.services import load_profiles, open_catalog
from gateway.settings import Settings
from resolvers.audit import (
    MAX_LIMIT,
    AuditReport,
    FillRate,
    audit_fallbacks,
    configured_asset_ids,
    run_audit,
)
from resolvers.config_files import ConfigFileError

NAME = "audit"
DEFAULT_LIMIT = 20
NONE = "-"


def _limit(value: str) -> int:
    number = whole_number(value)
    if not 0 <= number <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and {MAX_LIMIT}")
    return number


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``audit`` to the top-level sub-commands."""
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="report data-quality problems",
        description="Audit the catalog: duplicate SKUs, near-duplicate names, fill rates and "
        "always-blank fields, missing required attributes, orphaned assets, references to "
        "missing assets or products, duplicate media. Exit status 0 whatever it finds; 1 when "
        "the database cannot be reached.",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--limit",
        type=_limit,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"examples per section (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})",
    )
    return parser


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(audit(args, settings))


async def audit(args: argparse.Namespace, settings: Settings) -> int:
    """Run the audit and print it; problems reaching MongoDB are one line with status 1."""
    try:
        profiles = load_profiles(settings)
    except ConfigFileError as exc:
        return print_error(str(exc))
    try:
        # No indexes: the audit only reads, so a read-only account must be able to run it.
        async with open_catalog(settings, profiles, role="command", indexes=False) as connection:
            report = await run_audit(
                connection.catalog,
                locales=profiles.locales.locales,
                limit=args.limit,
                fallbacks=audit_fallbacks(profiles.locales),
                linked=configured_asset_ids(profiles.channels),
            )
    except PyMongoError as exc:
        return print_mongo_error(exc)
    if args.json:
        print(json.dumps(report_json(report), indent=2, ensure_ascii=False))
    else:
        print_report(report, sys.stdout)
    return 0


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------


def report_json(report: AuditReport) -> dict[str, Any]:
    """The report with camelCase keys, as GraphQL names them (``seconds`` keeps its keys: they
    are section names, not fields)."""
    converted = _jsonable(report)
    assert isinstance(converted, dict)
    return converted


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {_camel(f.name): _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()
) -> list[str]:
    """Columns two spaces apart, indented under their section's header line; the columns whose
    indexes are in ``right`` (numbers) are right-aligned."""
    all_rows = [tuple(headers), *(tuple(row) for row in rows)]
    widths = [max(len(row[i]) for row in all_rows) for i in range(len(headers))]
    lines = []
    for row in all_rows:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append(("  " + "  ".join(cells)).rstrip())
    return lines


def _section(
    title: str,
    total: int,
    unit: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    shown: int,
) -> list[str]:
    lines = [f"{title}: {total} {unit}"]
    if not total:
        return lines
    lines += table(headers, rows)
    if total > shown:
        lines.append(f"  ... {total - shown} more (raise --limit to see them)")
    return lines


def _percent(rate: FillRate) -> str:
    return NONE if rate.rate is None else f"{rate.rate * 100:.1f}%"


def report_lines(report: AuditReport) -> list[str]:
    """The report as plain-text tables: one header line per section, with its count."""
    blocks: list[list[str]] = []

    skus = report.duplicate_skus
    blocks.append(
        _section(
            "Duplicate SKUs (case, spaces, - and _ ignored)",
            skus.total,
            "group(s)",
            ("normalized", "sku", "kind", "product"),
            [
                (
                    group.normalized if i == 0 else "",
                    o.sku,
                    "variant" if o.variant else "product",
                    o.product_sku,
                )
                for group in skus.examples
                for i, o in enumerate(group.occurrences)
            ],
            len(skus.examples),
        )
    )

    names = report.duplicate_names
    blocks.append(
        _section(
            "Near-duplicate names (per brand and locale)",
            names.total,
            "group(s)",
            ("brand", "locale", "sku", "name"),
            [
                # Quoted: the names of a group often differ only in whitespace.
                (
                    group.brand if i == 0 else "",
                    group.locale if i == 0 else "",
                    p.sku,
                    json.dumps(p.name, ensure_ascii=False),
                )
                for group in names.examples
                for i, p in enumerate(group.products)
            ],
            len(names.examples),
        )
    )

    rates = report.fill_rates
    rate_rows = [
        (
            rate.field,
            rate.locale or NONE,
            str(rate.scope),
            str(rate.filled),
            _percent(rate),
            "ALWAYS BLANK" if rate.always_blank else "",
        )
        for rate in rates.rates
    ]
    fill = [f"Fill rates over {rates.products} product(s): {rates.total} always-blank field(s)"]
    fill += table(("field", "locale", "scope", "filled", "rate", ""), rate_rows, right=(2, 3, 4))
    if rates.unused_attributes:
        fill.append(f"  defined but unused: {', '.join(rates.unused_attributes)}")
    blocks.append(fill)

    required = report.missing_required_attributes
    blocks.append(
        _section(
            "Missing required attributes",
            required.total,
            "(product, category) pair(s)",
            ("sku", "category", "missing", "untranslated"),
            [
                (
                    row.sku,
                    row.category,
                    ", ".join(row.missing) or NONE,
                    "; ".join(f"{g.code} ({', '.join(g.locales)})" for g in row.untranslated)
                    or NONE,
                )
                for row in required.examples
            ],
            len(required.examples),
        )
    )

    orphans = report.orphaned_assets
    blocks.append(
        _section(
            "Orphaned assets (used by no product or channel)",
            orphans.total,
            "asset(s)",
            ("public id", "type", "status", "claimed sku"),
            [(a.public_id, a.resource_type, a.status, a.sku or NONE) for a in orphans.examples],
            len(orphans.examples),
        )
    )

    assets = report.missing_asset_references
    blocks.append(
        _section(
            "References to missing assets",
            assets.total,
            "reference(s)",
            ("sku", "public id", "role", "mirror status"),
            [(r.sku, r.public_id, r.role, r.status) for r in assets.examples],
            len(assets.examples),
        )
    )

    products = report.missing_product_references
    blocks.append(
        _section(
            "References to missing products",
            products.total,
            "reference(s)",
            ("sku", "field", "missing sku"),
            [(r.sku, r.field, r.missing_sku) for r in products.examples],
            len(products.examples),
        )
    )

    media = report.duplicate_media
    blocks.append(
        _section(
            "Duplicate media (equal perceptual hash)",
            media.total,
            "group(s)",
            ("phash", "public id", "type", "sku"),
            [
                (group.phash if i == 0 else "", a.public_id, a.resource_type, a.sku or NONE)
                for group in media.examples
                for i, a in enumerate(group.assets)
            ],
            len(media.examples),
        )
    )

    footer = (
        f"Audited in {report.seconds['total']:.2f} s; locales {', '.join(report.locales)}; "
        f"at most {report.limit} example(s) per section."
    )
    lines: list[str] = []
    for block in blocks:
        lines += [*block, ""]
    lines.append(footer)
    return lines


def print_report(report: AuditReport, out: TextIO) -> None:
    out.write("\n".join(report_lines(report)) + "\n")
