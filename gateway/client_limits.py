"""Limits on what one slow or greedy client can hold: a deadline for the request body and a cap
on the requests one client has in flight.

The body deadline runs from the moment the request's headers are in: a body that has not
arrived in full by then is answered ``408 Request Timeout`` and the connection closed, and the
handler reading it sees a disconnect (Starlette raises ``ClientDisconnect``), so it stops
rather than waiting on a client that stalls or trickles a byte at a time. A request above
the per-client cap is answered ``429`` with ``Retry-After`` before its body is read.

An upload (a multipart/form-data POST to an upload path, ``/graphql``'s productImport, with an
``Authorization`` header) has a deadline of its own, ``upload_timeout_s``: a 50 MB file over a
slow link takes minutes, while every other body stays on the tight ``body_timeout_s``. Only
requests that name a principal get the long one: an anonymous client cannot import, and must
not hold a connection that long.

"Client" is ``scope["client"]``: the peer's address, or the address of the ``X-Forwarded-For``
header when uvicorn trusts the peer as a proxy (``FORWARDED_ALLOW_IPS``). Behind a proxy that
is not trusted, every request seems to come from the proxy and the cap applies to all of them
together. The counts live in the process: each worker of ``serve --workers N`` counts its own.

The headers themselves are bounded by the server (``gateway.server``), not here: an ASGI
application is only called once they are complete.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# Probes of the load balancer and the orchestrator: answered even when a client is at its cap.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
UPLOAD_PATHS = frozenset({"/graphql"})
RETRY_AFTER_S = 1


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else ""


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _is_upload(scope: Scope, paths: frozenset[str]) -> bool:
    content_type = _header(scope, b"content-type") or b""
    return (
        scope["method"] == "POST"
        and scope["path"] in paths
        and content_type.split(b";", 1)[0].strip().lower() == b"multipart/form-data"
        and bool((_header(scope, b"authorization") or b"").strip())
    )


def _error(status: int, code: str, message: str, headers: dict[str, str]) -> list[Message]:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        # The rest of a body not read would be taken for the next request: close instead.
        (b"connection", b"close"),
        *((name.lower().encode(), value.encode()) for name, value in headers.items()),
    ]
    return [
        {"type": "http.response.start", "status": status, "headers": raw_headers},
        {"type": "http.response.body", "body": body, "more_body": False},
    ]


class ClientLimitsMiddleware:
    """Pure ASGI. ``max_requests_per_client`` 0 turns the cap off."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        body_timeout_s: float,
        max_requests_per_client: int,
        upload_timeout_s: float | None = None,
        exempt_paths: frozenset[str] = EXEMPT_PATHS,
        upload_paths: frozenset[str] = UPLOAD_PATHS,
    ) -> None:
        self.app = app
        self.body_timeout_s = body_timeout_s
        self.upload_timeout_s = upload_timeout_s if upload_timeout_s is not None else body_timeout_s
        self.upload_paths = upload_paths
        self.max_requests_per_client = max_requests_per_client
        self.exempt_paths = exempt_paths
        self._in_flight: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.max_requests_per_client or scope["path"] in self.exempt_paths:
            await self._with_body_deadline(scope, receive, send)
            return
        client = _client(scope)
        if self._in_flight[client] >= self.max_requests_per_client:
            # Debug only: a flood would be a flood of lines (the access log has each 429).
            log.debug(
                "client %s has %d requests in flight: %s %s refused with 429",
                client,
                self._in_flight[client],
                scope["method"],
                scope["path"],
            )
            for message in _error(
                429,
                "TOO_MANY_REQUESTS",
                f"More than {self.max_requests_per_client} requests at once from one client",
                {"Retry-After": str(RETRY_AFTER_S)},
            ):
                await send(message)
            return
        self._in_flight[client] += 1
        try:
            await self._with_body_deadline(scope, receive, send)
        finally:
            self._in_flight[client] -= 1
            if not self._in_flight[client]:
                del self._in_flight[client]

    def in_flight(self, client: str) -> int:
        """Requests of ``client`` under way now (for tests and diagnostics)."""
        return self._in_flight[client]

    async def _with_body_deadline(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        timeout_s = (
            self.upload_timeout_s if _is_upload(scope, self.upload_paths) else self.body_timeout_s
        )
        deadline = loop.time() + timeout_s
        body_complete = False
        response_started = False
        timed_out = False

        async def receive_by_deadline() -> Message:
            nonlocal body_complete, response_started, timed_out
            if timed_out:
                return {"type": "http.disconnect"}
            if body_complete:
                # Later calls wait for the client to go away (streaming responses): no deadline.
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                timed_out = True
                log.debug(
                    "request body from %s not complete within %g s: %s %s answered 408",
                    _client(scope),
                    timeout_s,
                    scope["method"],
                    scope["path"],
                )
                if not response_started:
                    response_started = True
                    for reply in _error(
                        408,
                        "REQUEST_TIMEOUT",
                        f"The request body did not arrive within {timeout_s:g} s",
                        {},
                    ):
                        await send(reply)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_complete = True
            return message

        async def send_unless_answered(message: Message) -> None:
            nonlocal response_started
            if timed_out:
                return  # the 408 went out (or the response broke off): the handler's is too late
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive_by_deadline, send_unless_answered)
        except ClientDisconnect:
            # The client went away mid-body: nobody to answer, and no error of ours to log.
            return
        except Exception:
            # Whatever the handler made of the disconnect, the client has its 408.
            if not timed_out:
                raise
