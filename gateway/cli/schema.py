"""``catalog-gateway schema``: print the subgraph's SDL."""

from __future__ import annotations

import argparse
from typing import Any

from gateway.settings import Settings

NAME = "schema"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME, help="print the SDL", description="Print the subgraph's SDL (Federation 2)."
    )
    return parser


def run(args: argparse.Namespace, settings: Settings | None = None) -> int:
    """Needs no settings: the SDL is the same whatever the environment says."""
    from schema import build_schema

    print(build_schema().as_str())
    return 0
