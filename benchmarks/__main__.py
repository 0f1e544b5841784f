"""`python -m benchmarks [NAME ...] [OPTIONS]`: run the named benchmarks (all by default).

Options after the names go to the benchmarks that take options (see `OPTIONS`), e.g.
`python -m benchmarks gateway --quick --only Q1,Q3`; `python -m benchmarks gateway --help`.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from benchmarks import (
    audit,
    auth_cost,
    bombs,
    edge_cost,
    follower,
    gateway_bench,
    imports,
    seed_demo,
    storefront,
)

BENCHMARKS: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {
    "seed": seed_demo.main,
    "audit": audit.main,
    "gateway": gateway_bench.main,
    "bombs": bombs.main,
    "auth": auth_cost.main,
    "imports": imports.main,
    "storefront": storefront.main,
    "edge": edge_cost.main,
    "follower": follower.main,
}
# Benchmarks that parse options of their own (given after the names on the command line).
OPTIONS: dict[str, Callable[[Sequence[str]], Coroutine[Any, Any, None]]] = {
    "gateway": gateway_bench.main,
    "bombs": bombs.main,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        add_help=False,
        epilog=f"Options after the names go to {', '.join(OPTIONS)}; e.g. "
        "`python -m benchmarks gateway --help`.",
    )
    parser.add_argument("names", nargs="*", help=f"any of: {', '.join(BENCHMARKS)} (default: all)")
    args, options = parser.parse_known_args()
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark {', '.join(sorted(unknown))}")
    names = args.names or list(BENCHMARKS)
    if set(options) & {"-h", "--help"}:
        takers = [name for name in args.names if name in OPTIONS]
        if not takers:
            parser.print_help()
        for name in takers:
            asyncio.run(OPTIONS[name](["--help"]))
        return
    if options and not any(name in OPTIONS for name in names):
        parser.error(f"{', '.join(names)}: no options accepted (got {' '.join(options)})")
    for name in names:
        if name in OPTIONS:
            asyncio.run(OPTIONS[name](options))
        else:
            asyncio.run(BENCHMARKS[name]())


if __name__ == "__main__":
    main()
