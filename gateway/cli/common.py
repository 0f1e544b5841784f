"""What every ``catalog-gateway`` command shares: its name in messages, one-line errors."""

from __future__ import annotations

import argparse
import sys

from pymongo.errors import PyMongoError, ServerSelectionTimeoutError

PROG = "catalog-gateway"


class CLIError(Exception):
    """A failure to report in one line, with exit status 1."""


def print_error(message: str) -> int:
    """Print ``message`` to stderr, each of its lines as one error line; the exit status 1."""
    for line in message.splitlines():
        print(f"{PROG}: error: {line}", file=sys.stderr)
    return 1


def print_mongo_error(exc: PyMongoError) -> int:
    """A MongoDB failure as one error line (``cannot reach MongoDB: ...`` when no server
    answered); the exit status 1."""
    if isinstance(exc, ServerSelectionTimeoutError):
        # The topology description that follows is a wall of text repeating the same error.
        reason = str(exc).split(", Topology Description")[0]
        return print_error(f"cannot reach MongoDB: {reason}")
    return print_error(f"MongoDB: {exc}")


def whole_number(value: str) -> int:
    """An argparse type: ``value`` as an int, or the usage error naming it."""
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
