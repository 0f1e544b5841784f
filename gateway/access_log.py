"""The access log: one line per request on the ``gateway.access`` logger (CATALOG_ACCESS_LOG).

``POST /graphql 200 12.3 ms id=<request id> key=<key id> op=<operation name>``: the method, the
path (never the query string, which can carry a whole GraphQL document and its variables), the
status, the time to the last byte of the response, the request id (``X-Request-ID``) and, for
GraphQL requests, who asked (``key=<key id>``, ``key=jwt:<subject>`` or ``key=anonymous``;
never a secret) and the operation's name when the request gives or names one. The same values
ride on the record as ``method``, ``path``, ``status``, ``duration_ms``, ``request_id``, ``key``,
``operation`` and ``cost`` (the operation's query cost) for structured handlers
(``CATALOG_LOG_FORMAT=json``). uvicorn's own access log is off: this one replaces it.

``quiet_paths``: paths whose successful requests are not logged (their failures are). The
gateway's own Cloudinary emulator notifies ``/webhooks/cloudinary`` of every upload, a line per
demo picture that would bury everything else while the demo's media upload.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.request_id import REQUEST_ID_STATE

log = logging.getLogger("gateway.access")

# Where a handler leaves the GraphQL operation's name for this log (the request's state).
OPERATION_STATE = "graphql_operation"
# Where the GraphQL handler leaves who asked: a key id, jwt:<subject> or anonymous.
PRINCIPAL_STATE = "principal"
# Where the GraphQL handler leaves the operation's static price, once priced.
COST_STATE = "query_cost"
# The state of the request being served (its id, operation, key), for what is logged meanwhile:
# gateway.logs' JSON lines carry them.
REQUEST_STATE: ContextVar[Mapping[str, Any] | None] = ContextVar(
    "catalog_request_state", default=None
)


class AccessLogMiddleware:
    """Pure ASGI, inside RequestIdMiddleware (it reads the request id that one sets)."""

    def __init__(self, app: ASGIApp, quiet_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.quiet_paths = quiet_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception becomes one

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        serving = REQUEST_STATE.set(scope.setdefault("state", {}))
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            REQUEST_STATE.reset(serving)
            if status >= 400 or scope["path"] not in self.quiet_paths:
                _log_request(scope, status, (time.perf_counter() - started) * 1000)


def _log_request(scope: Scope, status: int, duration_ms: float) -> None:
    state = scope.get("state") or {}
    request_id = state.get(REQUEST_ID_STATE, "")
    operation = state.get(OPERATION_STATE)
    principal = state.get(PRINCIPAL_STATE)
    method, path = scope["method"], scope["path"]
    extra = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(duration_ms, 1),
        "request_id": request_id,
        "key": principal,
        "operation": operation,
        "cost": state.get(COST_STATE),
    }
    message = "%s %s %d %.1f ms id=%s"
    args: list[object] = [method, path, status, duration_ms, request_id]
    if principal:
        message += " key=%s"
        args.append(principal)
    if operation:
        message += " op=%s"
        args.append(operation)
    log.info(message, *args, extra=extra)
