"""``/graphql`` over WebSocket: subscriptions (and queries) in the graphql-transport-ws protocol.

The protocol is the one of the ``graphql-ws`` library, which Apollo Client's ``GraphQLWsLink``,
urql and Relay environments use. A connection:

1. opens with the ``graphql-transport-ws`` subprotocol (any other is refused at the handshake);
2. sends ``connection_init`` within ``INIT_TIMEOUT_S`` (else closed 4408). Its payload may carry
   ``Authorization``, ``X-Channel`` and ``X-Preview-Token``, which browsers cannot set as
   headers of the upgrade request; headers of the upgrade request count too, the payload wins.
   A refused key closes the connection 4403 (a throttled one 4429), a known one gets
   ``connection_ack``;
3. runs ``subscribe`` messages: subscriptions and queries (mutations go over HTTP POST, where
   Idempotency-Key and uploads are). Each is authenticated as a request of its own would be:
   the key's budget pays ``POINTS_PER_REQUEST`` and the operation's cost, the safelist and
   persisted queries apply, and the price limit refuses a costly document before it runs.
   Events of a subscription are pushed free.

Subscribe messages are handled in order: the next message of a connection is read once the
previous subscription's change stream is open, so a client that subscribes and then sends a
query knows, when the query's answer arrives, that no later change is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from starlette.datastructures import Headers
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from gateway.auth import AuthenticationError, Authenticator, TooManyFailuresError
from gateway.graphql_http import GraphQLHTTPHandler, bucket_name, with_error_code
from gateway.persisted_queries import PersistedQueryError
from gateway.query_cost import POINTS_PER_REQUEST, Budget
from gateway.read_view import CHANNEL_HEADER, PREVIEW_HEADER, ReadViewError, read_view
from resolvers.access import Principal
from resolvers.persisted_queries import PersistedQueryStore
from resolvers.services import Services
from schema.context import Context
from schema.cost import QueryCost

log = logging.getLogger("gateway.graphql_ws")

PROTOCOL = "graphql-transport-ws"
INIT_TIMEOUT_S = 10.0
# Operations one connection may run at once (a page has a handful of live views).
MAX_OPERATIONS = 20
# A frame larger than this is not a GraphQL document a client sends.
MAX_MESSAGE_BYTES = 100_000

# Close codes of the protocol.
BAD_MESSAGE = 4400
UNAUTHORIZED = 4401
FORBIDDEN = 4403
INIT_TIMEOUT = 4408
DUPLICATE_ID = 4409
TOO_MANY_INITS = 4429


class _CloseError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(slots=True)
class _Connection:
    websocket: WebSocket
    services: Services
    principal: Principal
    headers: Headers
    client: str


class GraphQLWebSocketHandler:
    """The WebSocket side of ``/graphql``; shares the HTTP handler's budgets and safelist."""

    def __init__(self, http: GraphQLHTTPHandler, *, init_timeout_s: float = INIT_TIMEOUT_S) -> None:
        self.http = http
        self.init_timeout_s = init_timeout_s

    async def handle(self, websocket: WebSocket) -> None:
        if PROTOCOL not in websocket.scope.get("subprotocols", []):
            await websocket.close(code=1002)  # before accept: the handshake is refused (403)
            return
        await websocket.accept(subprotocol=PROTOCOL)
        operations: dict[str, asyncio.Task[None]] = {}
        try:
            connection = await self._initialise(websocket)
            await websocket.send_json({"type": "connection_ack"})
            while True:
                message = await _receive(websocket)
                await self._dispatch(connection, message, operations)
        except _CloseError as close:
            await _close(websocket, close.code, close.reason)
        except WebSocketDisconnect:
            pass
        finally:
            for task in operations.values():
                task.cancel()
            if operations:
                await asyncio.wait(operations.values())

    async def _initialise(self, websocket: WebSocket) -> _Connection:
        try:
            message = await asyncio.wait_for(_receive(websocket), self.init_timeout_s)
        except TimeoutError:
            raise _CloseError(INIT_TIMEOUT, "Connection initialisation timeout") from None
        if message.get("type") != "connection_init":
            raise _CloseError(UNAUTHORIZED, "Unauthorized")
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            raise _CloseError(BAD_MESSAGE, "connection_init payload must be an object")
        headers = _headers(websocket.headers, payload)
        client = websocket.client.host if websocket.client else ""
        authenticator: Authenticator = websocket.state.authenticator
        try:
            principal = await authenticator.authenticate(headers.get("authorization"), client)
        except AuthenticationError as exc:
            raise _CloseError(FORBIDDEN, exc.message[:120]) from None
        except TooManyFailuresError:
            raise _CloseError(
                TOO_MANY_INITS, "Too many failed authentications; retry later"
            ) from None
        services: Services = websocket.state.services
        return _Connection(websocket, services, principal, headers, client)

    async def _dispatch(
        self,
        connection: _Connection,
        message: dict[str, Any],
        operations: dict[str, asyncio.Task[None]],
    ) -> None:
        kind = message.get("type")
        websocket = connection.websocket
        if kind == "ping":
            await websocket.send_json({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "connection_init":
            raise _CloseError(TOO_MANY_INITS, "Too many initialisation requests")
        elif kind == "complete":
            task = operations.pop(_id(message), None)
            if task is not None:
                task.cancel()
        elif kind == "subscribe":
            await self._subscribe(connection, message, operations)
        else:
            raise _CloseError(BAD_MESSAGE, f"Unknown message type {kind!r}"[:120])

    async def _subscribe(
        self,
        connection: _Connection,
        message: dict[str, Any],
        operations: dict[str, asyncio.Task[None]],
    ) -> None:
        operation_id = _id(message)
        if operation_id in operations:
            raise _CloseError(DUPLICATE_ID, f"Subscriber for {operation_id[:64]} already exists")
        payload = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("query", ""), str):
            raise _CloseError(BAD_MESSAGE, "subscribe payload must be an object with a query")
        if len(operations) >= MAX_OPERATIONS:
            await self._error(connection, operation_id, _too_many_operations())
            return
        try:
            context = await self._context(connection, payload)
        except GraphQLError as error:
            await self._error(connection, operation_id, error)
            return
        subscribed = context.subscribed = asyncio.Event()
        task = asyncio.create_task(self._run(connection, operation_id, payload, context))
        operations[operation_id] = task
        task.add_done_callback(lambda _: operations.pop(operation_id, None))
        # Read the next message once the change stream is open (see the module's docstring).
        waiting = asyncio.ensure_future(subscribed.wait())
        await asyncio.wait([task, waiting], return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()

    async def _context(self, connection: _Connection, payload: dict[str, Any]) -> Context:
        """The operation's context once its key's budget paid for it; GraphQLError if not."""
        http, principal = self.http, connection.principal
        budget = Budget.of(principal, bucket_name(principal, connection.client))
        wait = budget.take(http.buckets, POINTS_PER_REQUEST)
        if wait is not None:
            raise GraphQLError(
                f"Over the request budget of role {principal.role.name!r}; retry in {wait:.0f} s",
                extensions={"code": "THROTTLED", "retryAfter": round(wait, 3)},
            )
        try:
            view = read_view(_AsRequest(connection.headers), connection.services, principal)
        except ReadViewError as exc:
            raise GraphQLError(str(exc), extensions={"code": exc.code}) from None
        context = Context.for_request(
            connection.services,
            uuid.uuid4().hex,
            principal,
            read_channel=view.channel,
            preview=view.preview,
        )
        context.cost = QueryCost(
            http.max_query_cost,
            charge=lambda cost: budget.take(http.buckets, max(0, cost - POINTS_PER_REQUEST)),
        )
        return context

    async def _run(
        self,
        connection: _Connection,
        operation_id: str,
        payload: dict[str, Any],
        context: Context,
    ) -> None:
        websocket = connection.websocket
        try:
            query = await self._query_text(connection, payload)
            results = await self.http.schema.stream(
                query,
                variable_values=_object(payload.get("variables"), "variables"),
                context_value=context,
                operation_name=_text(payload.get("operationName"), "operationName"),
                allowed_operation_types=(OperationType.QUERY, OperationType.SUBSCRIPTION),
            )
            async with contextlib.aclosing(_as_async_generator(results)) as stream:
                async for result in stream:
                    if _is_refusal(result):
                        errors = [_over_http(error) for error in result.errors or ()]
                        await self._error(connection, operation_id, *errors)
                        return
                    await websocket.send_json(
                        {"id": operation_id, "type": "next", "payload": _formatted(result)}
                    )
                    context.close()
            await websocket.send_json({"id": operation_id, "type": "complete"})
        except GraphQLError as error:
            await self._error(connection, operation_id, error)
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client went away (Starlette says RuntimeError once the socket closed)
        finally:
            context.close()

    async def _query_text(self, connection: _Connection, payload: dict[str, Any]) -> str:
        query = payload.get("query") or ""
        extensions = _object(payload.get("extensions"), "extensions")
        try:
            return await self.http.persisted.query_text(
                query,
                extensions,
                connection.principal,
                PersistedQueryStore(connection.services.catalog.persisted_queries),
                connection.services.clock(),
            )
        except PersistedQueryError as exc:
            raise GraphQLError(exc.message, extensions={"code": exc.code}) from None

    async def _error(
        self, connection: _Connection, operation_id: str, *errors: GraphQLError
    ) -> None:
        formatted = [with_error_code(error, pre_execution=True).formatted for error in errors]
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await connection.websocket.send_json(
                {"id": operation_id, "type": "error", "payload": formatted}
            )


class _AsRequest:
    """What ``read_view`` reads of a request: its headers."""

    def __init__(self, headers: Headers) -> None:
        self.headers = headers


def _headers(upgrade: Headers, payload: Mapping[str, Any]) -> Headers:
    """The upgrade request's headers, with those the connection_init payload names."""
    raw = {key.lower(): value for key, value in upgrade.items()}
    for name in ("authorization", CHANNEL_HEADER.lower(), PREVIEW_HEADER.lower()):
        for key, value in payload.items():
            if key.lower() == name and isinstance(value, str):
                raw[name] = value
    return Headers(raw)


async def _receive(websocket: WebSocket) -> dict[str, Any]:
    text = await websocket.receive_text()
    if len(text) > MAX_MESSAGE_BYTES:
        raise _CloseError(BAD_MESSAGE, f"message over {MAX_MESSAGE_BYTES} bytes")
    try:
        message = json.loads(text)
    except ValueError:
        raise _CloseError(BAD_MESSAGE, "message is not JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise _CloseError(BAD_MESSAGE, "message must be an object with a type")
    return message


def _id(message: Mapping[str, Any]) -> str:
    operation_id = message.get("id")
    if not isinstance(operation_id, str) or not operation_id:
        raise _CloseError(BAD_MESSAGE, "message needs an id")
    return operation_id


def _object(value: Any, name: str) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise GraphQLError(f"'{name}' must be an object", extensions={"code": "BAD_REQUEST"})


def _text(value: Any, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise GraphQLError(f"'{name}' must be a string", extensions={"code": "BAD_REQUEST"})


def _too_many_operations() -> GraphQLError:
    return GraphQLError(
        f"at most {MAX_OPERATIONS} operations at once per connection",
        extensions={"code": "BAD_REQUEST"},
    )


async def _as_async_generator(results: Any) -> AsyncGenerator[Any, None]:
    async with contextlib.aclosing(results) as stream:
        async for result in stream:
            yield result


def _is_refusal(result: Any) -> bool:
    """Errors of the request rather than of a field (invalid, too costly, throttled, a feed
    that stopped): the protocol's ``error`` message, which ends the operation."""
    if isinstance(result, PreExecutionError):
        return True
    return (
        isinstance(result, ExecutionResult)
        and result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


def _over_http(error: GraphQLError) -> GraphQLError:
    """Says where a mutation goes instead of Strawberry's "mutations are not allowed"."""
    if isinstance(error.original_error, InvalidOperationTypeError):
        return GraphQLError(
            "mutations are not run over WebSocket: send them as HTTP POST to /graphql "
            "(where Idempotency-Key and uploads are)",
            extensions={"code": "BAD_REQUEST"},
        )
    return error


def _formatted(result: Any) -> dict[str, Any]:
    if isinstance(result, ExecutionResult):
        formatted: dict[str, Any] = {"data": result.data}
        if result.errors:
            formatted["errors"] = [
                with_error_code(error, pre_execution=False).formatted for error in result.errors
            ]
        if result.extensions:
            formatted["extensions"] = result.extensions
        return formatted
    return dict(result.formatted)  # an incremental delivery frame of graphql-core


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.close(code=code, reason=reason)
