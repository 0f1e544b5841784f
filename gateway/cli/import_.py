"""``catalog-gateway import FILE``: a dry run or an apply of a CSV or JSONL product file."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from pymongo.errors import PyMongoError

from gateway.cli.common import PROG, print_error, print_mongo_error
from gateway.services import Profiles, load_profiles, open_catalog
from gateway.settings import Settings
from resolvers.access.principal import Principal
from resolvers.config_files import ConfigFileError
from resolvers.imports import (
    ERROR_POLICIES,
    ChecksumMismatchError,
    ImportJob,
    ImportParseError,
    ImportPlanner,
    ImportRaceError,
    ImportReport,
    checksum,
    detect_format,
    parse,
)
from resolvers.services import utc_now
from resolvers.validation import Validator
from resolvers.writes import Actor, validate_with

NAME = "import"
BAR_WIDTH = 30


def add_parser(commands: Any) -> argparse.ArgumentParser:
    command: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="import products from a CSV or JSONL file (with a dry run)",
        description="Create and update products from FILE: JSONL (one product document per "
        "line) or CSV (one row per product or variant; columns in docs/import.md). Every row "
        "is validated, checked for field ownership, its media references checked against the "
        "asset mirror, and its readiness per channel computed. --dry-run writes nothing and "
        "prints the file's checksum; give it to --expect-checksum so the apply writes the file "
        "the dry run checked. Rows that change nothing write nothing: importing a file twice "
        "changes nothing the second time. Exit status 1 when a row has errors.",
    )
    command.add_argument("file", type=Path, metavar="FILE")
    command.add_argument(
        "--format", choices=("csv", "jsonl"), help="default: from the file name's extension"
    )
    command.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    command.add_argument(
        "--error-policy",
        choices=ERROR_POLICIES,
        default="reject-all",
        help="reject-all (default): any row error and nothing is written; "
        "reject-failed-rows: write the rows without errors",
    )
    command.add_argument(
        "--source",
        metavar="SRC",
        help="write as this source system (pim, erp, …): fields another system owns are row "
        "errors (default: as the system, which may write every field)",
    )
    command.add_argument(
        "--expect-checksum",
        metavar="SHA256",
        help="refuse to apply unless the file's sha256 is this (the one its dry run printed)",
    )
    command.add_argument("--json", action="store_true", help="print the report as JSON")
    return command


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(import_file(args, settings))


async def import_file(args: argparse.Namespace, settings: Settings) -> int:
    """Run the import and print its report; failures are one line with status 1."""
    path: Path = args.file
    format = args.format or detect_format(path.name)
    if format is None:
        return print_error(f"{path}: give --format csv or jsonl (the extension does not say)")
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        return print_error(f"{path}: {exc.strerror or exc}")
    try:
        profiles = load_profiles(settings)
    except ConfigFileError as exc:
        return print_error(str(exc))
    actor = _actor(profiles, args.source)
    if actor is None:
        return print_error(
            f"--source {args.source}: not a source system of roles.toml "
            f"({', '.join(profiles.roles.sources)})"
        )
    try:
        rows = parse(data, format, profiles.validation)
    except ImportParseError as exc:
        return print_error(f"{path}:{exc.line}:{exc.column}: {exc.message}")
    progress = _Progress(sys.stderr) if sys.stderr.isatty() else None
    try:
        async with open_catalog(settings, profiles, role="command") as connection:
            planner = ImportPlanner(
                connection.catalog,
                validate_with(Validator(profiles.validation)),
                profiles.ownership,
                profiles.channels,
                profiles.locales,
                clock=utc_now,
            )
            job = ImportJob(planner, actor, args.error_policy)
            digest = checksum(data)
            if args.dry_run:
                report = await job.dry_run(rows, digest, format, progress)
            else:
                report = await job.apply(
                    rows, digest, format, expect_checksum=args.expect_checksum, progress=progress
                )
    except ChecksumMismatchError as exc:
        return print_error(f"{path}: {exc}")
    except ImportRaceError as exc:
        return print_error(f"{path}: {exc}")
    except PyMongoError as exc:
        return print_mongo_error(exc)
    finally:
        if progress is not None:
            progress.clear()
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print_report(report, path)
    return 0 if report.ok else 1


def _actor(profiles: Profiles, source: str | None) -> Actor | None:
    if source is None:
        return Actor(Principal.system())
    if source not in profiles.roles.sources:
        return None
    system = Principal.system()
    # A principal of that source system: ownership lets it write the fields its system owns.
    return Actor(Principal("key", system.role, f"{PROG} {NAME} --source {source}", source=source))


def print_report(report: ImportReport, path: Path) -> None:
    rows = _count(report.rows, "row")
    print(f"{path} ({report.format}, sha256 {report.checksum}): {rows}")
    counts = (
        f"create {report.created}, update {report.updated}, unchanged {report.unchanged}, "
        f"{_count(report.failed, 'row')} with errors"
    )
    if report.dry_run:
        print(f"dry run: would {counts}; nothing written")
    elif report.error_policy == "reject-all" and not report.ok:
        print(f"job {report.job_id}: {counts}; reject-all: nothing written")
    else:
        print(
            f"job {report.job_id}: {counts}; {_count(report.written, 'product')} written in "
            f"{_count(report.batches, 'transaction')}"
        )
    for channel, readiness in report.readiness.items():
        mean = "-" if readiness.mean_score is None else f"{readiness.mean_score:.1f}"
        print(
            f"  readiness {channel}: {readiness.ready}/{readiness.products} ready, "
            f"mean score {mean}"
        )
    for error in report.errors:
        place = ".".join(str(p) for p in error.path)
        print(f"{path}:{error.line}: {error.sku or '-'}: {place}: {error.code}: {error.message}")
    if report.dry_run and report.ok:
        print(f"apply with: {PROG} {NAME} {path} --expect-checksum {report.checksum}")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


class _Progress:
    """A progress bar on the terminal (stderr), redrawn in place."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, phase: str, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\r{phase:<8} [{bar}] {done}/{total}")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\033[K")
        self.stream.flush()
