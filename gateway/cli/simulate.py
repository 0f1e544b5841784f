"""``catalog-gateway simulate``: run each channel's contract operations as its front end would.

Every operation of ``gateway/contracts.toml`` (or ``--contracts``) runs through the real HTTP
stack, the app in-process (its lifespan, as ``serve`` starts it) or a running gateway
(``--url``), as an anonymous storefront of the channel (or ``--key``). A sample of the
delivered images is fetched. Each violated expectation is printed with its operation, its
variables, its path and its product, then a table per channel; the exit status is 1 when
anything was violated, for CI. ``--schema FILE`` validates the operations against a proposed
schema instead, without running them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import secrets
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from gateway.cli.common import CLIError, whole_number
from gateway.contracts import (
    HttpImageFetcher,
    HttpTransport,
    load,
    manifest_bodies,
    schema_problems,
)
from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.channels import Channels
from resolvers.contracts.checks import Violation
from resolvers.contracts.config import Contracts
from resolvers.contracts.engine import (
    CATEGORY_SLUGS,
    PRODUCT_SKUS,
    DiscoveryError,
    Outcome,
    Simulation,
)
from resolvers.contracts.report import summarize, table

NAME = "simulate"
# In-process runs measure the catalog, not a client's token bucket: a few hundred requests in
# seconds would be refused 429 by the storefront role's rate.
_RATE = re.compile(r"^(\s*rate\s*=\s*)\{[^}]*\}", re.MULTILINE)
LIFTED_RATE = "{ burst = 1_000_000, per_minute = 1_000_000 }"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="run the channels' contract operations and report what they violate",
        description="Run each channel's operations of the contracts file through the HTTP "
        "stack (the app in-process, or --url) over the catalog or the given SKUs, fetch a "
        "sample of the delivered images, and report every violated expectation and a summary "
        "per channel. Exit status 1 when anything is violated.",
    )
    parser.add_argument(
        "--channel", action="append", metavar="C", help="only this channel (repeatable)"
    )
    parser.add_argument(
        "--sku",
        action="append",
        metavar="S",
        help="only the operations run per product, for this SKU (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--url", metavar="URL", help="a running gateway (default: the app, in-process)"
    )
    parser.add_argument("--key", metavar="KEY", help="an API key to call as (default: anonymous)")
    parser.add_argument(
        "--schema",
        type=Path,
        metavar="FILE",
        help="validate every contract operation against this schema.graphql; run nothing",
    )
    parser.add_argument(
        "--contracts", type=Path, metavar="FILE", help="default: gateway/contracts.toml"
    )
    parser.add_argument(
        "--concurrency",
        type=whole_number,
        metavar="N",
        help="operations in flight at once (default 1 in-process, where the runs share the "
        "app's one event loop and would count each other's time as server time; 4 with --url)",
    )
    return parser


def run(args: argparse.Namespace, settings: Settings) -> int:
    profiles = load_profiles(settings)
    contracts = load(profiles.channels, args.contracts or settings.contracts_path)
    if args.schema is not None:
        return check_schema(contracts, args.schema)
    channels = args.channel or contracts.channels()
    unknown = [c for c in channels if c not in contracts.channels()]
    if unknown:
        raise CLIError(
            f"--channel {unknown[0]}: no contract for it; channels with contracts: "
            f"{', '.join(contracts.channels())}"
        )
    if args.concurrency is None:
        args.concurrency = 1 if args.url is None else 4
    if args.concurrency < 1:
        raise CLIError("--concurrency must be at least 1")
    outcome = asyncio.run(_simulate(args, settings, profiles.channels, contracts, channels))
    print(json.dumps(report_document(outcome), indent=2) if args.json else report_text(outcome))
    return 0 if outcome.ok else 1


def check_schema(contracts: Contracts, path: Path) -> int:
    try:
        sdl = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CLIError(f"{path}: {exc.strerror or exc}") from None
    manifest = manifest_bodies()
    discovery = {n: manifest[n] for n in (CATEGORY_SLUGS, PRODUCT_SKUS) if n in manifest}
    problems = schema_problems(contracts, sdl, str(path), discovery)
    for problem in problems:
        print(f"{path}: {problem}")
    count = len(contracts.operations)
    if problems:
        print(f"{len(problems)} problem(s): the schema breaks contract operations", file=sys.stderr)
        return 1
    print(f"{count} contract operations of {len(contracts.channels())} channels are valid")
    return 0


async def _simulate(
    args: argparse.Namespace,
    settings: Settings,
    profiles: Channels,
    contracts: Contracts,
    channels: list[str],
) -> Outcome:
    headers = {"Authorization": f"Bearer {args.key}"} if args.key else {}
    async with (
        _client(args.url, settings) as client,
        httpx.AsyncClient() as images,
    ):
        simulation = Simulation(
            contracts,
            profiles,
            HttpTransport(client, headers),
            HttpImageFetcher(images),
            manifest_bodies(),
            concurrency=args.concurrency,
            progress=_progress("runs") if sys.stderr.isatty() and not args.json else None,
            image_progress=_progress("image fetches")
            if sys.stderr.isatty() and not args.json
            else None,
        )
        try:
            outcome = await simulation.run(channels, args.sku)
        except DiscoveryError as exc:
            raise CLIError(str(exc)) from None
        finally:
            if sys.stderr.isatty() and not args.json:
                print(file=sys.stderr)
    return outcome


@asynccontextmanager
async def _client(url: str | None, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    if url is not None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            yield client
        return
    from gateway.app import create_app  # only the in-process run needs the app

    # One access log line per run would bury the report.
    for name in ("gateway.access", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="catalog-simulate-") as scratch:
        roles = Path(scratch) / "roles.toml"
        roles.write_text(
            _RATE.sub(lambda m: m.group(1) + LIFTED_RATE, settings.roles_path.read_text()),
            encoding="utf-8",
        )
        # The replica's upkeep (change streams followed, the DAM swept) is no front end's
        # work: it would take CPU from the runs and count as their server time.
        update: dict[str, Any] = {
            "roles": roles,
            "readiness_follower": False,
            "cache_invalidation": False,
            "dam_reconcile": False,
        }
        if settings.key_pepper is None:
            # Anonymous storefront calls need no key; a serving app needs a pepper all the same.
            update["key_pepper"] = SecretStr(secrets.token_urlsafe(32))
        app = create_app(settings.model_copy(update=update))
        async with app.router.lifespan_context(app) as state:
            lifespan_state: dict[str, Any] = dict(state or {})

            async def with_state(scope: Any, receive: Any, send: Any) -> None:
                scope["state"] = dict(lifespan_state)
                await app(scope, receive, send)

            transport = httpx.ASGITransport(app=with_state)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://gateway", timeout=60
            ) as client:
                yield client


def _progress(what: str) -> Callable[[int, int], None]:
    def show(done: int, planned: int) -> None:
        # Padded: "image fetches" follows "runs" on the same line.
        line = f"simulate: {done}/{planned} {what}"
        print(f"\r{line:<50}", end="", file=sys.stderr, flush=True)

    return show


def _sorted(violations: list[Violation]) -> list[Violation]:
    return sorted(violations, key=lambda v: (v.channel, v.operation, v.sku or "", v.path))


def report_text(outcome: Outcome) -> str:
    lines = []
    for v in _sorted(outcome.violations):
        variables = ", ".join(
            f"{k}={val}" for k, val in v.variables.items() if k not in ("channel", "sku")
        )
        product = f" {v.sku}" if v.sku else ""
        path = f" {v.path}" if v.path else ""
        lines.append(
            f"{v.channel}/{v.operation}{product} [{v.check}]{path}: {v.message} ({variables})"
        )
    if lines:
        lines.append("")
    lines.append(table(summarize(outcome)))
    lines.append(
        f"{len(outcome.violations)} violation(s) in {len(outcome.runs)} runs"
        if outcome.violations
        else f"all {len(outcome.runs)} runs hold their contracts"
    )
    return "\n".join(lines)


def report_document(outcome: Outcome) -> dict[str, Any]:
    return {
        "ok": outcome.ok,
        "runs": len(outcome.runs),
        "channels": [s.to_document() for s in summarize(outcome)],
        "violations": [v.to_document() for v in _sorted(outcome.violations)],
    }
