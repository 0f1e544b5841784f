"""OpenTelemetry traces over OTLP/HTTP, received by a real (tiny) OTLP/HTTP server on
127.0.0.1 that decodes the protobuf export: the span tree of one request, child of the
caller's ``traceparent``."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from pymongo.asynchronous.database import AsyncDatabase

from gateway.app import create_app
from gateway.settings import Settings
from resolvers.db import Catalog
from tests.fixtures.small_catalog import load_small_catalog
from tests.http_helpers import api_key, serve

Db = AsyncDatabase[dict[str, Any]]
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
QUERY = (
    'query ProductMedia { product(sku: "NW-RUN-001") { sku media(channel: "web") { publicId } } }'
)


class Receiver(BaseHTTPRequestHandler):
    spans: list[Span]
    resources: list[dict[str, str]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        if self.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        export = ExportTraceServiceRequest.FromString(body)
        for resource_spans in export.resource_spans:
            self.resources.append(
                {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            )
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend(scope_spans.spans)
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def otlp_receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("Handler", (Receiver,), {"spans": [], "resources": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def attributes(span: Span) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for attribute in span.attributes:
        value = attribute.value
        found[attribute.key] = getattr(value, value.WhichOneof("value") or "string_value")
    return found


async def test_a_request_span_tree_reaches_an_otlp_receiver(settings: Settings, db: Db) -> None:
    await load_small_catalog(Catalog(db))
    headers = await api_key(db, "viewer", settings)
    with otlp_receiver() as (endpoint, received):
        traced = settings.model_copy(
            update={"otel_exporter_otlp_endpoint": endpoint, "schedule_poll_s": 3600}
        )
        async with serve(create_app(traced)) as client:
            response = await client.post(
                "/graphql",
                json={"query": QUERY},
                headers={**headers, "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"},
            )
            assert response.status_code == 200, response.text
            # The emulator has none of the small catalog's pictures: no media, but it was asked.
            assert response.json()["data"]["product"] == {"sku": "NW-RUN-001", "media": []}
            cost = response.json()["extensions"]["cost"]["requestedQueryCost"]
        # The lifespan's end sent what was queued.
        spans = list(received.spans)
        assert received.resources[0]["service.name"] == "catalog-gateway"

    ours = [s for s in spans if s.trace_id.hex() == TRACE_ID]
    by_id = {s.span_id: s for s in ours}
    [http] = [s for s in ours if s.name == "POST /graphql"]
    assert http.parent_span_id.hex() == PARENT_ID
    assert http.kind == Span.SPAN_KIND_SERVER
    http_attributes = attributes(http)
    assert http_attributes["http.response.status_code"] == 200
    assert http_attributes["graphql.operation.name"] == "ProductMedia"
    assert http_attributes["catalog.request_id"] == response.headers["x-request-id"]
    [operation] = [s for s in ours if s.name == "graphql ProductMedia"]
    assert operation.parent_span_id == http.span_id
    assert attributes(operation)["catalog.query_cost"] == cost

    def under_operation(span: Span) -> bool:
        while span.parent_span_id in by_id:
            span = by_id[span.parent_span_id]
            if span.span_id == operation.span_id:
                return True
        return False

    mongo = [s for s in ours if attributes(s).get("db.system.name") == "mongodb"]
    assert "find products" in {s.name for s in mongo if under_operation(s)}
    # The asset is not in the mirror: the Admin API (the emulator) is asked, within the trace.
    cloudinary = [s for s in ours if s.name == "cloudinary admin"]
    assert cloudinary
    assert all(under_operation(s) for s in cloudinary)
    # No span outside a request: start-up's commands are not traced.
    assert all(s.trace_id.hex() == TRACE_ID for s in spans)
