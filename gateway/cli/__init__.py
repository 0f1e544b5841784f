"""The ``catalog-gateway`` command: parses arguments and hands each command to its module.

Every command module (``serve``, ``seed``, ``schema``, ``media``, ``audit``, ``readiness``,
``migrate``, ``import``, ``keys``, ``events``, ``operations``, ``simulate``, ``emulator``) has
``add_parser(commands)`` and ``run(args, settings)``.
This package imports them; none of them imports this package.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, Protocol

from gateway.cli import (
    audit,
    emulator,
    events,
    import_,
    keys,
    media,
    migrate,
    operations,
    readiness,
    schema,
    seed,
    serve,
    simulate,
)
from gateway.cli.common import PROG, CLIError
from gateway.dam_setup import DamNotConfiguredError, EmulatorStorageBusyError
from gateway.embedded_mongo import MongodNotFoundError, MongodStartError
from gateway.logs import configure_logging
from gateway.ports import PortUnavailableError
from gateway.server import WorkersConfigError
from gateway.settings import Settings, SettingsError, load_settings
from resolvers.config_files import ConfigFileError


class Command(Protocol):
    NAME: str

    def add_parser(self, commands: Any) -> argparse.ArgumentParser: ...

    def run(self, args: argparse.Namespace, settings: Settings) -> int: ...


# In the order `catalog-gateway --help` lists them.
COMMANDS: tuple[Command, ...] = (
    serve,
    seed,
    schema,
    media,
    audit,
    readiness,
    migrate,
    import_,
    keys,
    events,
    operations,
    simulate,
    emulator,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="GraphQL gateway over the product catalog (MongoDB) and its media "
        "(Cloudinary). Settings come from the environment: MONGODB_URI and CATALOG_*.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = next(c for c in COMMANDS if args.command == c.NAME)
    try:
        if command is schema:
            return schema.run(args)
        settings = _settings(args)
        configure_logging(settings.log_level, settings.log_format)
        return command.run(args, settings)
    except (
        CLIError,
        SettingsError,
        MongodNotFoundError,
        MongodStartError,
        ConfigFileError,
        DamNotConfiguredError,
        EmulatorStorageBusyError,
        PortUnavailableError,
        WorkersConfigError,
    ) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None):
        overrides["port"] = args.port
    if getattr(args, "workers", None) is not None:
        overrides["workers"] = args.workers
    return load_settings(**overrides)
