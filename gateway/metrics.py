"""Prometheus metrics of one app (CATALOG_METRICS): what they count and the /metrics endpoint.

Every app has its own ``CollectorRegistry`` (tests build several apps in one process); nothing
is registered globally. Label values are bounded, so a client cannot grow the series without
end: operation names are admitted as they first answer successfully, up to
``MAX_OPERATIONS`` (the rest count as ``(other)``; requests naming none as ``(unnamed)``); key
ids are bounded by the key store, JWT subjects count as ``jwt``; paths other than the routes
count as ``other``.

Counted per process: under ``serve --workers N`` each worker has its own registry and a scrape
reads the worker that answered it (docs/edge.md).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from pymongo import monitoring
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from resolvers.assets.breaker import BreakerState
from resolvers.services import Services

METRICS_PATH = "/metrics"
MAX_OPERATIONS = 200
UNNAMED = "(unnamed)"
OTHER = "(other)"
NONE = "none"  # no operation (not GraphQL) or no principal (401 before one was known)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
COST_BUCKETS = (1, 10, 100, 1_000, 5_000, 10_000, 25_000, 50_000)


class OperationNames:
    """The operation label: a name once it has answered successfully, while there is room."""

    def __init__(self, limit: int = MAX_OPERATIONS) -> None:
        self.limit = limit
        self._known: set[str] = set()

    def label(self, name: str | None, succeeded: bool) -> str:
        if not name:
            return UNNAMED
        if name in self._known:
            return name
        # Only successful answers admit a name: failed documents cost a client nothing.
        if succeeded and len(self._known) < self.limit:
            self._known.add(name)
            return name
        return OTHER


def key_label(principal: str | None) -> str:
    """A key id, ``anonymous``, ``jwt`` (subjects are unbounded) or ``none``."""
    if not principal:
        return NONE
    if principal.startswith("jwt:"):
        return "jwt"
    return principal


class BreakerCollector(Collector):
    """The Admin API breaker's state, read when scraped (1 for the current state)."""

    def __init__(self) -> None:
        self.services: Services | None = None

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "catalog_dam_breaker_state",
            "The Cloudinary Admin API circuit breaker: 1 for its current state.",
            labels=["state"],
        )
        if self.services is not None:
            current = self.services.dam.breaker_state
            for state in BreakerState:
                family.add_metric([state.value], 1.0 if state is current else 0.0)
        yield family


class Metrics:
    """The app's instruments, in its own registry."""

    def __init__(self, token: str | None = None, paths: Iterable[str] = ()) -> None:
        self.token = token
        self.paths = frozenset(paths) | {METRICS_PATH}
        self.registry = CollectorRegistry(auto_describe=True)
        self.operations = OperationNames()
        registry = self.registry
        self.requests = Counter(
            "catalog_http_requests",
            "HTTP requests by path, GraphQL operation, status and key id.",
            ["path", "operation", "status", "key"],
            registry=registry,
        )
        self.latency = Histogram(
            "catalog_http_request_duration_seconds",
            "Time to the last byte of the response, by path and GraphQL operation.",
            ["path", "operation"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.throttled = Counter(
            "catalog_throttled_requests",
            "Requests answered 429 (over the key's cost budget, or too many from one client).",
            ["key"],
            registry=registry,
        )
        self.cost = Counter(
            "catalog_query_cost_points",
            "Query cost (static price) of the operations priced, by key id.",
            ["key"],
            registry=registry,
        )
        self.cost_per_operation = Histogram(
            "catalog_query_cost",
            "The static price of each priced operation.",
            buckets=COST_BUCKETS,
            registry=registry,
        )
        self.mongo_commands = Counter(
            "catalog_mongodb_commands",
            "MongoDB commands sent, by command name and outcome.",
            ["command", "outcome"],
            registry=registry,
        )
        self.mongo_latency = Histogram(
            "catalog_mongodb_command_duration_seconds",
            "Round trip of a MongoDB command, by command name.",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.batches = Histogram(
            "catalog_dataloader_batch_size",
            "Keys per DataLoader batch, by loader class.",
            ["loader"],
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.dam_calls = Counter(
            "catalog_dam_calls",
            "Calls to Cloudinary while serving requests, by API (admin, upload) and outcome.",
            ["api", "outcome"],
            registry=registry,
        )
        self.breaker = BreakerCollector()
        registry.register(self.breaker)

    def attach(self, services: Services) -> None:
        """The process's services, once the lifespan opened them (the breaker is theirs)."""
        self.breaker.services = services

    def request_done(
        self,
        path: str,
        status: int,
        seconds: float,
        operation: str | None,
        principal: str | None,
        cost: int | None,
    ) -> None:
        route = path if path in self.paths else "other"
        graphql = principal is not None or operation is not None
        op = self.operations.label(operation, status < 400) if graphql else NONE
        key = key_label(principal)
        self.requests.labels(route, op, str(status), key).inc()
        self.latency.labels(route, op).observe(seconds)
        if status == 429:
            self.throttled.labels(key).inc()
        if cost is not None:
            self.cost.labels(key).inc(cost)
            self.cost_per_operation.observe(cost)

    def batch(self, loader: str, size: int) -> None:
        self.batches.labels(loader).observe(size)

    @contextmanager
    def dam_call(self, api: str) -> Iterator[None]:
        outcome = "error"
        try:
            yield
            outcome = "ok"
        finally:
            self.dam_calls.labels(api, outcome).inc()

    def listener(self) -> monitoring.CommandListener:
        return _CommandMetrics(self)

    async def endpoint(self, request: Request) -> Response:
        """``GET /metrics``: with the bearer token, or from loopback when there is none."""
        if not self._allowed(request):
            return PlainTextResponse(
                "Forbidden: /metrics needs the bearer token of CATALOG_METRICS_TOKEN",
                status_code=403,
            )
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    def _allowed(self, request: Request) -> bool:
        if self.token is not None:
            scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
            return scheme.lower() == "bearer" and hmac.compare_digest(
                credentials.strip().encode(), self.token.encode()
            )
        host = request.client.host if request.client else ""
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


class _CommandMetrics(monitoring.CommandListener):
    """Counts every command of the app's MongoDB client (requests, lifespan and workers)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._done(event.command_name, "ok", event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._done(event.command_name, "error", event.duration_micros)

    def _done(self, command: str, outcome: str, micros: int) -> None:
        self.metrics.mongo_commands.labels(command, outcome).inc()
        self.metrics.mongo_latency.labels(command).observe(micros / 1e6)
