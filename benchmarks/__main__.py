"""`python -m benchmarks [NAME ...]`: run the named benchmarks (all by default)."""

from __future__ import annotations

import argparse
import asyncio

from benchmarks import seed_demo

BENCHMARKS = {"seed": seed_demo.main}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", help=f"any of: {', '.join(BENCHMARKS)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark {', '.join(sorted(unknown))}")
    for name in args.names or BENCHMARKS:
        asyncio.run(BENCHMARKS[name]())


if __name__ == "__main__":
    main()
