"""``catalog-gateway events``: list event deliveries (dead letters first of all) and send a
dead one again. The running gateways' delivery workers do the sending; this only changes the
delivery's state in MongoDB."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

from gateway.cli.common import CLIError, whole_number
from gateway.services import load_profiles, open_catalog
from gateway.settings import Settings
from resolvers.outbox import (
    Delivery,
    DeliveryNotFoundError,
    NotRedeliverableError,
    Status,
    list_deliveries,
    redeliver,
)

NAME = "events"
MAX_LIMIT = 1000


def _limit(value: str) -> int:
    number = whole_number(value)
    if not 1 <= number <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and {MAX_LIMIT}")
    return number


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="outbound event deliveries: list, redeliver",
        description="Deliveries of change events to the webhook subscriptions of "
        "event_subscriptions.toml (CATALOG_EVENT_SUBSCRIPTIONS). A delivery that failed every "
        "attempt is dead; `redeliver` sends it again, with the same event id.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="deliveries, newest first")
    listing.add_argument("--dead", action="store_true", help="only dead deliveries")
    listing.add_argument(
        "--status",
        choices=[s.value for s in Status],
        help="only deliveries in this state",
    )
    listing.add_argument(
        "--limit", type=_limit, default=50, help=f"at most this many (default 50, max {MAX_LIMIT})"
    )
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    again = actions.add_parser(
        "redeliver", help="send a dead (or delivered) delivery again, attempts counted afresh"
    )
    again.add_argument("delivery_id", metavar="ID", help="a delivery's id (events list)")
    return parser


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    profiles = load_profiles(settings)
    async with open_catalog(settings, profiles, role="command", indexes=False) as connection:
        db = connection.catalog.db
        if args.action == "redeliver":
            try:
                delivery = await redeliver(db, args.delivery_id, datetime.now(UTC))
            except (DeliveryNotFoundError, NotRedeliverableError) as exc:
                raise CLIError(exc.message) from exc
            print(
                f"delivery {delivery.id} of event {delivery.event_id} ({delivery.type}, "
                f"{delivery.key}) to {delivery.subscription} is pending again",
                file=sys.stderr,
            )
            return 0
        if args.dead and args.status not in (None, Status.DEAD.value):
            raise CLIError("--dead and --status name different states")
        status = Status.DEAD if args.dead else Status(args.status) if args.status else None
        found = await list_deliveries(db, status=status, limit=args.limit)
        if args.json:
            for delivery in found:
                print(json.dumps(_as_json(delivery)))
        else:
            _table(found)
        return 0


def _as_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "subscription": delivery.subscription,
        "eventId": delivery.event_id,
        "type": delivery.type,
        "key": delivery.key,
        "revision": delivery.seq,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "maxAttempts": delivery.max_attempts,
        "nextAttemptAt": _iso(delivery.next_attempt_at),
        "createdAt": _iso(delivery.created_at),
        "deliveredAt": _iso(delivery.delivered_at),
        "lastStatus": delivery.last_status,
        "lastError": delivery.last_error,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def _table(deliveries: list[Delivery]) -> None:
    header = ("ID", "SUBSCRIPTION", "TYPE", "ON", "REV", "STATUS", "ATTEMPTS", "CREATED", "LAST")
    rows = [
        (
            d.id,
            d.subscription,
            d.type,
            d.key,
            str(d.seq),
            d.status.value,
            f"{d.attempts}/{d.max_attempts}",
            _when(d.created_at),
            d.last_error or (str(d.last_status) if d.last_status else "-"),
        )
        for d in deliveries
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
