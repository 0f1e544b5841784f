"""The console's way into the catalog: the public GraphQL API, over the app's own HTTP stack.

Every call goes through ``/graphql`` of the very application serving the console (its
middleware, authentication, rate limits, cost budget and persisted queries), with the signed-in
key as Bearer: the console can do nothing its key could not do with curl. Operations are sent
as persisted queries (the hash first, the text only when the gateway does not know the hash
yet), and every one of them is in ``gateway/operations/manifest.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.console.operations import OPERATIONS
from gateway.request_id import request_id_of
from resolvers.persisted_queries import query_hash

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"


class ApiError(Exception):
    """The API refused the whole call (401, 403, 429, bad request): ``code`` is its
    ``extensions.code``, ``status`` the HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Result:
    data: dict[str, Any]
    # Field errors next to partial data (a FORBIDDEN field, for one): shown, not raised.
    errors: list[dict[str, Any]]

    def codes(self) -> set[str]:
        return {str((e.get("extensions") or {}).get("code")) for e in self.errors}


def _with_state(app: ASGIApp, state: dict[str, Any]) -> ASGIApp:
    # What a server gives each request: the lifespan's state (services, authenticator).
    async def call(scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"] = dict(state)
        await app(scope, receive, send)

    return call


class ConsoleApi:
    """GraphQL calls for one console request, as the signed-in key."""

    def __init__(self, request: Request, key: str) -> None:
        self._request = request
        self._key = key

    def _client(self) -> httpx.AsyncClient:
        request = self._request
        client = request.client
        transport = httpx.ASGITransport(
            app=_with_state(request.app, dict(request.scope.get("state") or {})),
            # The browser's address: per-client limits count the person, not the console.
            client=(client.host, client.port) if client else ("127.0.0.1", 0),
        )
        return httpx.AsyncClient(transport=transport, base_url=f"{request.url.scheme}://console")

    def _headers(self, channel_view: str | None = None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._key}",
            "Accept": "application/json",
            # The console's calls log under the page's request id.
            "X-Request-ID": request_id_of(self._request),
        }
        if channel_view:
            # What the channel's storefronts see (its publications), not the working copy.
            headers["X-Channel"] = channel_view
        return headers

    async def run(
        self,
        name: str,
        variables: dict[str, Any] | None = None,
        *,
        upload: Upload | None = None,
        channel_view: str | None = None,
    ) -> Result:
        text = OPERATIONS[name]
        persisted = {"persistedQuery": {"version": 1, "sha256Hash": query_hash(text)}}
        async with self._client() as client:
            if upload is not None:
                # An upload is sent with its text: a miss would send the file twice.
                return self._result(
                    await self._multipart(client, text, name, variables or {}, persisted, upload)
                )
            body: dict[str, Any] = {
                "operationName": name,
                "variables": variables or {},
                "extensions": persisted,
            }
            headers = self._headers(channel_view)
            response = await client.post("/graphql", json=body, headers=headers)
            if NOT_FOUND in response.text and _code(response) == NOT_FOUND:
                response = await client.post(
                    "/graphql", json={**body, "query": text}, headers=headers
                )
            return self._result(response)

    async def _multipart(
        self,
        client: httpx.AsyncClient,
        text: str,
        name: str,
        variables: dict[str, Any],
        persisted: dict[str, Any],
        upload: Upload,
    ) -> httpx.Response:
        operations = {
            "query": text,
            "operationName": name,
            "variables": {**variables, "file": None},
            "extensions": persisted,
        }
        return await client.post(
            "/graphql",
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.file"]}),
            },
            files={"0": (upload.filename, upload.content, upload.content_type)},
            headers={**self._headers(), "Apollo-Require-Preflight": "console"},
        )

    @staticmethod
    def _result(response: httpx.Response) -> Result:
        try:
            payload = response.json()
        except ValueError:
            raise ApiError(response.status_code, "BAD_RESPONSE", response.text[:200]) from None
        errors = list(payload.get("errors") or [])
        data = payload.get("data")
        if data is None:
            first = errors[0] if errors else {}
            code = str((first.get("extensions") or {}).get("code", "INTERNAL_SERVER_ERROR"))
            raise ApiError(response.status_code, code, str(first.get("message", "no data")))
        return Result(data, errors)


def _code(response: httpx.Response) -> str | None:
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return None
    return (errors[0].get("extensions") or {}).get("code") if errors else None
