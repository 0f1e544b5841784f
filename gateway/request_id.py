"""Request ids: taken from ``X-Request-ID`` when sane, otherwise generated; echoed back."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
# The key of the request's state (``scope["state"]``) that holds its id.
REQUEST_ID_STATE = "request_id"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_of(connection: HTTPConnection) -> str:
    return str(connection.scope.get("state", {}).get(REQUEST_ID_STATE, ""))


class RequestIdMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): it must not buffer or slow the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = HTTPConnection(scope).headers.get(HEADER, "")
        request_id = incoming if _SANE.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})[REQUEST_ID_STATE] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)
