"""Metrics and traces wired into the app: what ``create_app`` adds when either is on.

Off (the default: no CATALOG_METRICS, no OTEL_EXPORTER_OTLP_ENDPOINT) the app has no
middleware, route or MongoDB listener of theirs; what remains per request is a ContextVar read
per loader and a dictionary write (the cost, for the access log).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TypeVar

from opentelemetry.trace import SpanKind
from pymongo import monitoring
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.access_log import COST_STATE, OPERATION_STATE, PRINCIPAL_STATE
from gateway.metrics import METRICS_PATH, Metrics
from gateway.settings import Settings
from gateway.tracing import Tracing, finish_http_span
from resolvers.observe import OBSERVER
from resolvers.services import Services

T = TypeVar("T")

# Where the observability middleware leaves the app's Tracing for the GraphQL handler.
TRACING_STATE = "tracing"


class Observability:
    """The app's metrics (CATALOG_METRICS) and traces (an OTLP endpoint), each optional."""

    def __init__(self, settings: Settings, paths: list[str]) -> None:
        token = settings.metrics_token
        self.metrics = (
            Metrics(token.get_secret_value() if token else None, paths)
            if settings.metrics
            else None
        )
        endpoint = settings.otel_exporter_otlp_endpoint
        self.tracing = Tracing(endpoint, settings.otel_service_name, paths) if endpoint else None

    @property
    def enabled(self) -> bool:
        return self.metrics is not None or self.tracing is not None

    def listeners(self) -> list[monitoring.CommandListener]:
        """For the app's MongoDB client."""
        found = [self.metrics.listener()] if self.metrics else []
        return found + ([self.tracing.listener()] if self.tracing else [])

    def routes(self) -> list[Route]:
        if self.metrics is None:
            return []
        return [Route(METRICS_PATH, self.metrics.endpoint, methods=["GET"])]

    def middleware(self) -> list[Middleware]:
        return [Middleware(ObservabilityMiddleware, observability=self)] if self.enabled else []

    def start(self, services: Services) -> None:
        if self.metrics is not None:
            self.metrics.attach(services)
        if self.tracing is not None:
            self.tracing.start()

    def stop(self) -> None:
        if self.tracing is not None:
            self.tracing.stop()

    # resolvers.observe.Observer: loader batches and Cloudinary calls of a request.
    def batch(self, loader: str, size: int) -> None:
        if self.metrics is not None:
            self.metrics.batch(loader, size)

    @contextmanager
    def dam_call(self, api: str) -> Iterator[None]:
        with ExitStack() as stack:
            if self.tracing is not None:
                stack.enter_context(self.tracing.dam_call(api))
            if self.metrics is not None:
                stack.enter_context(self.metrics.dam_call(api))
            yield


class ObservabilityMiddleware:
    """Pure ASGI, inside RequestIdMiddleware: the request's span and its metrics."""

    def __init__(self, app: ASGIApp, observability: Observability) -> None:
        self.app = app
        self.metrics = observability.metrics
        self.tracing = observability.tracing
        self.observer = observability

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception becomes one
        state = scope.setdefault("state", {})

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        observed = OBSERVER.set(self.observer)
        try:
            if self.tracing is None:
                await self.app(scope, receive, send_and_note)
            else:
                with self.tracing.http_request(scope) as span:
                    state[TRACING_STATE] = self.tracing
                    try:
                        await self.app(scope, receive, send_and_note)
                    finally:
                        if span is not None:
                            finish_http_span(span, status, state)
        finally:
            OBSERVER.reset(observed)
            if self.metrics is not None:
                self.metrics.request_done(
                    scope["path"],
                    status,
                    time.perf_counter() - started,
                    state.get(OPERATION_STATE),
                    state.get(PRINCIPAL_STATE),
                    state.get(COST_STATE),
                )


async def run_operation(
    request: Request, cost: Callable[[], int | None], execution: Awaitable[T]
) -> T:
    """Awaits a GraphQL operation's ``execution``, in its own span when the request is traced,
    and leaves its price (``cost()`` once run) for the access log and the metrics."""
    state = request.scope["state"]
    tracing: Tracing | None = state.get(TRACING_STATE)
    operation: str | None = state.get(OPERATION_STATE)
    if tracing is None or tracing.tracer is None:
        result = await execution
    else:
        with tracing.tracer.start_as_current_span(
            f"graphql {operation}" if operation else "graphql",
            kind=SpanKind.INTERNAL,
            attributes={"graphql.operation.name": operation or ""},
        ) as span:
            result = await execution
            price = cost()
            if price is not None:
                span.set_attribute("catalog.query_cost", price)
    state[COST_STATE] = cost()
    return result
