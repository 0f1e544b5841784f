"""`python -m benchmarks storefront`: what a storefront read costs since publishing (issue 14).

The gateway's schema in this process (the app's lifespan for its services; each request its
own ``Context``, as the HTTP handler builds it) on the bench catalog, published on every
channel. Q1 (a listing page of 48, twenty pages) and Q3 (``_entities`` with 100
representations) run, in alternating rounds, as:

- ``before``: the storefront path before publications existed: the working copy, products
  whose ``status`` is published (the request's ProductSource replaced by that one);
- ``storefront``: a storefront key now: ``publications.web`` only;
- ``viewer``: an editor's or viewer's key: the working copy.

Reported per request: this process's CPU time and the MongoDB commands sent (every answer
of ``storefront`` must be that of ``before``; a viewer also sees drafts). Takes a few
minutes.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from pymongo import monitoring

import schema.context
from benchmarks.queries import DOCUMENTS, Request
from benchmarks.servers import in_process, seeded_mongo
from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.access import Principal
from resolvers.db import Catalog
from resolvers.services import Services
from resolvers.workflow.source import ProductSource, source_for, working_copy
from schema.context import Context
from schema.schema import build_schema

PRODUCTS = 1_000
DB_NAME = "bench_storefront"
ROUNDS = 10
WARMUP = 2


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.count = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.database_name == DB_NAME:
            self.count += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def _before(catalog: Catalog, *args: Any, **kwargs: Any) -> ProductSource:
    return working_copy(catalog, {"status": "published"})


def _measure(pick: Callable[..., ProductSource]) -> None:
    """Make ``pick`` what every new request's Context calls to choose its ProductSource."""
    vars(schema.context)["source_for"] = pick


async def run(
    services: Services, principal: Principal, request: Request, pick: Callable[..., ProductSource]
) -> Any:
    _measure(pick)
    context = Context.for_request(services, "bench", principal)
    try:
        body = json.loads(request.body or b"{}")
        result = await SCHEMA.execute(
            body["query"], variable_values=body.get("variables"), context_value=context
        )
    finally:
        context.close()
    if result.errors:
        raise RuntimeError(result.errors[0].message)
    return result.data


SCHEMA = build_schema()


async def main() -> None:
    commands = Commands()
    monitoring.register(commands)
    profiles = load_profiles(Settings())
    roles = profiles.roles
    storefront = Principal("key", roles.roles["storefront"], "bench", key_id="bench")
    viewer = Principal("key", roles.roles["viewer"], "bench", key_id="bench-viewer")
    async with seeded_mongo(DB_NAME, PRODUCTS, "bench-storefront-") as seeded:
        workload = seeded.workload
        # The scheduler's round at start-up only: its commands are not a request's.
        settings = seeded.settings(schedule_poll_s=3600)
        paths: dict[str, tuple[Principal, Callable[..., ProductSource]]] = {
            "before": (storefront, _before),
            "storefront": (storefront, source_for),
            "viewer": (viewer, source_for),
        }
        async with in_process(settings) as (_, state, _app):
            services: Services = state["services"]
            for query in ("Q1", "Q3"):
                requests = workload.graphql(query)
                cpu: dict[str, list[float]] = {name: [] for name in paths}
                sent: dict[str, list[int]] = {name: [] for name in paths}
                answers: dict[str, list[Any]] = {name: [] for name in paths}
                for round_ in range(WARMUP + ROUNDS):
                    order = list(paths) if round_ % 2 == 0 else list(paths)[::-1]
                    for name in order:
                        principal, pick = paths[name]
                        for request in requests:
                            before_cpu, before_commands = time.process_time(), commands.count
                            data = await run(services, principal, request, pick)
                            if round_ >= WARMUP:
                                cpu[name].append(time.process_time() - before_cpu)
                                sent[name].append(commands.count - before_commands)
                            if round_ == 0:
                                answers[name].append(data)
                _measure(source_for)
                same = answers["storefront"] == answers["before"]
                print(
                    f"storefront: {query} ({DOCUMENTS[query].split()[1]}), {PRODUCTS} products, "
                    f"{len(requests)} requests x {ROUNDS} rounds; "
                    f"storefront answers as before: {same}",
                    flush=True,
                )
                for name in paths:
                    print(
                        f"storefront:   {name:<10} CPU {statistics.fmean(cpu[name]) * 1000:6.2f} "
                        f"ms/request (median {statistics.median(cpu[name]) * 1000:6.2f})  "
                        f"MongoDB commands/request {statistics.fmean(sent[name]):.2f}",
                        flush=True,
                    )
