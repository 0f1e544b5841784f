"""``catalog-gateway readiness refresh``: recompute every stored readiness score."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

from gateway.cli.common import CLIError
from gateway.services import load_profiles, open_catalog
from gateway.settings import Settings
from resolvers.readiness import materialize
from resolvers.readiness.rollout import adopt, adopted_rules, live_rules
from resolvers.readiness.store import rules_hash

NAME = "readiness"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    readiness: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="recompute stored readiness scores",
        description="Recompute the readiness scores stored on products (filters, sorts and "
        "catalogReadiness use them). The gateway does this itself when products, assets or "
        "channels.toml change; run it from cron too, because promotional windows open and close "
        "with time. Stored scores follow one channels.toml at a time: the one a majority of live "
        "replicas runs, or the one chosen with --rules.",
    )
    readiness.add_argument("action", choices=["refresh"], help="refresh: recompute every score")
    readiness.add_argument(
        "--rules",
        metavar="HASH",
        help="make stored scores follow these rules (a hash catalogReadiness { rules } lists: "
        "a live replica's, or this channels.toml's) from now on, instead of the majority's",
    )
    return readiness


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(refresh(settings, args.rules))


async def refresh(settings: Settings, rules: str | None = None) -> int:
    profiles = load_profiles(settings)
    channels = profiles.channels
    current = rules_hash(channels)
    async with open_catalog(settings, profiles, role="command") as connection:
        db = connection.catalog.db
        adopted = await adopted_rules(db)
        followed = None if adopted is None else adopted.rules_hash
        if rules is None and followed not in (None, current):
            raise CLIError(
                f"stored scores follow rules {followed}, and this channels.toml is {current}: "
                f"run `readiness refresh --rules {current}` to switch them to these"
            )
        if rules is not None and rules != followed:
            live = {row.rules_hash: row.replicas for row in await live_rules(db)}
            # Rules no live replica runs would have no follower to keep the scores current;
            # with no replica beating (no followers anywhere), this channels.toml's will do.
            known = live or {current: 0}
            if rules not in known:
                listed = ", ".join(f"{h} ({n} live replicas)" for h, n in known.items())
                raise CLIError(f"unknown rules {rules}: the rules known are {listed}")
            if await adopt(db, rules, "command", followed) is None:
                raise CLIError("the adopted rules changed meanwhile; run the command again")
        elif followed is None:
            await adopt(db, current, "command", None)
        if rules is not None and rules != current:
            # Only a replica running those rules can score with them: its follower does.
            print(
                f"stored readiness follows rules {rules}; the readiness follower of a replica "
                "running them recomputes the scores"
            )
            return 0
        count = await materialize(
            connection.catalog, channels, profiles.locales, datetime.now(UTC), overrule=True
        )
    print(
        f"readiness recomputed for {count} products on {', '.join(channels.names())} "
        f"(rules {current})"
    )
    return 0
