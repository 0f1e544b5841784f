"""OpenTelemetry traces of one app, exported over OTLP/HTTP when an endpoint is configured.

A request's span tree: the HTTP request (a W3C ``traceparent`` header makes it a child of the
caller's span) → the GraphQL operation (its name and query cost) → each MongoDB command and
each call to Cloudinary made for it. Commands and calls outside any request (start-up, the
delivery worker) make no spans.

The app keeps its own ``TracerProvider`` (none is installed globally, so several apps in a
process do not mix their spans); the lifespan starts it and shuts it down, which sends what is
still queued.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pymongo import monitoring
from starlette.types import Scope

from gateway.access_log import OPERATION_STATE, PRINCIPAL_STATE
from gateway.request_id import REQUEST_ID_STATE

TRACES_PATH = "/v1/traces"
_PROPAGATOR = TraceContextTextMapPropagator()


def traces_url(endpoint: str) -> str:
    """OTLP/HTTP's rule for ``OTEL_EXPORTER_OTLP_ENDPOINT``: a base URL, signals below it."""
    return endpoint.rstrip("/") + TRACES_PATH


class Tracing:
    """The app's tracer; ``tracer`` is None outside the lifespan (nothing is traced then)."""

    def __init__(self, endpoint: str, service_name: str, routes: Iterable[str] = ()) -> None:
        self.endpoint = endpoint
        self.service_name = service_name
        # Span names: "POST /graphql" for these paths, the method alone for others (assets).
        self.routes = frozenset(routes)
        self.tracer: Tracer | None = None
        self._provider: TracerProvider | None = None

    def start(self) -> None:
        provider = TracerProvider(resource=Resource.create({SERVICE_NAME: self.service_name}))
        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url(self.endpoint)))
        )
        self._provider = provider
        self.tracer = provider.get_tracer("catalog-gateway")

    def flush(self) -> None:
        """Sends the spans queued so far (benchmarks count the export's CPU where it belongs)."""
        if self._provider is not None:
            self._provider.force_flush()

    def stop(self) -> None:
        """Sends the spans still queued, then stops the exporter's thread."""
        provider, self._provider, self.tracer = self._provider, None, None
        if provider is not None:
            provider.shutdown()

    @contextmanager
    def http_request(self, scope: Scope) -> Iterator[Span | None]:
        """The request's span, current while the app handles it."""
        tracer = self.tracer
        if tracer is None:
            yield None
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope.get("headers", ())
            if name in (b"traceparent", b"tracestate")
        }
        parent = _PROPAGATOR.extract(carrier) if carrier else None
        method, path = scope.get("method", ""), scope.get("path", "")
        span = tracer.start_span(
            f"{method} {path}" if path in self.routes else method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": path},
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        try:
            yield span
        except BaseException as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        finally:
            otel_context.detach(token)
            span.end()

    @contextmanager
    def dam_call(self, api: str) -> Iterator[None]:
        if self.tracer is None or not trace.get_current_span().is_recording():
            yield
            return
        with self.tracer.start_as_current_span(
            f"cloudinary {api}", kind=SpanKind.CLIENT, attributes={"cloudinary.api": api}
        ):
            yield

    def listener(self) -> monitoring.CommandListener:
        return _CommandSpans(self)


def finish_http_span(span: Span, status: int, state: Mapping[str, Any]) -> None:
    """What the request turned out to be, once answered."""
    span.set_attribute("http.response.status_code", status)
    for attribute, key in (
        ("catalog.request_id", REQUEST_ID_STATE),
        ("catalog.key", PRINCIPAL_STATE),
        ("graphql.operation.name", OPERATION_STATE),
    ):
        value = state.get(key)
        if value:
            span.set_attribute(attribute, str(value))
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))


class _CommandSpans(monitoring.CommandListener):
    """A span per MongoDB command sent while a request's span is current.

    The async driver calls listeners in the task that awaits the command, so the current span
    is the one of the request (or operation) that sent it.
    """

    def __init__(self, tracing: Tracing) -> None:
        self.tracing = tracing
        self._spans: dict[tuple[Any, int], Span] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        tracer = self.tracing.tracer
        if tracer is None or not trace.get_current_span().is_recording():
            return
        command = event.command_name
        attributes: dict[str, str] = {
            "db.system.name": "mongodb",
            "db.namespace": event.database_name,
            "db.operation.name": command,
        }
        target = event.command.get(command)
        if isinstance(target, str):
            attributes["db.collection.name"] = target
        span = tracer.start_span(
            f"{command} {target}" if isinstance(target, str) else command,
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )
        self._spans[(event.connection_id, event.request_id)] = span

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        span = self._spans.pop((event.connection_id, event.request_id), None)
        if span is not None:
            span.end()

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        span = self._spans.pop((event.connection_id, event.request_id), None)
        if span is not None:
            span.set_status(Status(StatusCode.ERROR, str(event.failure.get("errmsg", ""))))
            span.end()
