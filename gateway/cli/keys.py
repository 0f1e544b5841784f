"""``catalog-gateway keys``: create, list, rotate and revoke API keys.

The first admin key can only come from here. A secret is printed once, at creation or
rotation, on stdout alone so that ``$(catalog-gateway keys create …)`` captures just the key;
everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.auth.setup import api_keys
from gateway.cli.common import CLIError
from gateway.services import load_profiles, open_catalog
from gateway.settings import Settings
from resolvers.access.api_keys import (
    DEFAULT_OVERLAP,
    ApiKey,
    ApiKeys,
    IssuedKey,
    KeySpec,
    parse_duration,
)
from resolvers.errors import CatalogError

NAME = "keys"


def _duration(value: str) -> timedelta:
    try:
        return parse_duration(value)
    except CatalogError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="manage API keys",
        description="API keys (cgw_<env>_<id>_<secret>) are stored as HMACs of their secret "
        "(CATALOG_KEY_PEPPER); a secret is printed once, when the key is created or rotated.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a key and print it once")
    create.add_argument("--name", required=True, help="who or what uses the key")
    create.add_argument("--role", required=True, help="a role of roles.toml")
    create.add_argument(
        "--scope",
        action="append",
        default=[],
        dest="scopes",
        metavar="SCOPE",
        help="narrow the role to these scopes (repeatable; default: all of the role's)",
    )
    create.add_argument(
        "--channel",
        action="append",
        default=None,
        dest="channels",
        metavar="CHANNEL",
        help="channels the key may read (repeatable; default: all)",
    )
    create.add_argument("--source", help="source system of the key (pim, erp, …)")
    create.add_argument(
        "--expires",
        type=_duration,
        metavar="DURATION",
        help="lifetime such as 90d or 12h (required for roles that can write)",
    )
    actions.add_parser("list", help="list keys with their state and last use")
    rotate = actions.add_parser("rotate", help="issue a new secret, keep the old one a while")
    rotate.add_argument("key_id", metavar="ID")
    rotate.add_argument(
        "--overlap",
        type=_duration,
        default=DEFAULT_OVERLAP,
        metavar="DURATION",
        help="how long the old secret keeps working (default 24h)",
    )
    revoke = actions.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key_id", metavar="ID")
    return parser


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    profiles = load_profiles(settings)
    async with open_catalog(settings, profiles, role="command", indexes=False) as connection:
        keys = api_keys(settings, connection.catalog, profiles.roles, profiles.channels)
        try:
            return await _act(keys, args)
        except CatalogError as exc:
            raise CLIError(exc.message) from exc


async def _act(keys: ApiKeys, args: argparse.Namespace) -> int:
    if args.action == "create":
        spec = KeySpec(
            name=args.name,
            role=args.role,
            scopes=args.scopes,
            channels=args.channels,
            source=args.source,
            expires_in=args.expires,
        )
        _issued(await keys.create(spec, created_by="cli"), "created")
    elif args.action == "rotate":
        issued = await keys.rotate(args.key_id, args.overlap)
        _issued(issued, f"rotated; the previous secret works until {_when(_until(args.overlap))}")
    elif args.action == "revoke":
        key = await keys.revoke(args.key_id)
        print(f"key {key.key_id} ({key.name}) revoked at {_when(key.revoked_at)}", file=sys.stderr)
    else:
        _table(await keys.list(), datetime.now(UTC))
    return 0


def _issued(issued: IssuedKey, what: str) -> None:
    key = issued.key
    print(
        f"key {key.key_id} ({key.name}, role {key.role}) {what}; expires {_when(key.expires_at)}."
        "\nStore the key now: it is not shown again.",
        file=sys.stderr,
    )
    print(issued.secret)


def _until(overlap: timedelta) -> datetime:
    return datetime.now(UTC) + overlap


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _table(keys: list[ApiKey], now: datetime) -> None:
    header = ("ID", "NAME", "ROLE", "STATE", "CHANNELS", "SOURCE", "EXPIRES", "LAST USED")
    rows = [
        (
            key.key_id,
            key.name,
            key.role,
            key.state(now),
            ",".join(key.channels) if key.channels is not None else "all",
            key.source or "-",
            _when(key.expires_at),
            _when(key.last_used_at),
        )
        for key in keys
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
