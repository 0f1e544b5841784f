"""GraphQL over HTTP (the GraphQL Foundation's spec, SHOULDs included) on top of Starlette.

Request errors (unparsable bodies, parse, validation and variable-coercion failures) answer 4xx
with no ``data`` key when the client accepts ``application/graphql-response+json``; a client that
only accepts ``application/json`` gets the legacy behaviour: 200 for every well-formed request.

Every request is authenticated (``Authorization: Bearer <key or JWT>``, or the anonymous role)
and charged to its principal's token bucket before its body is read or its document parsed:
401 UNAUTHENTICATED and 429 THROTTLED answer with that status whatever the media type.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, Lexer, Source, TokenKind
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from gateway.access_log import OPERATION_STATE, PRINCIPAL_STATE
from gateway.auth import (
    AuthenticationError,
    Authenticator,
    TokenBuckets,
    TooManyFailuresError,
    retry_after_header,
)
from gateway.graphiql import graphiql_html
from gateway.quality_values import quality_list
from gateway.request_id import request_id_of
from gateway.unicode_guard import describe, first_invalid_unicode
from resolvers.access import Principal
from resolvers.services import Services
from schema.context import (
    MAX_END_USER,
    MAX_IDEMPOTENCY_KEY,
    Context,
    HeaderValueError,
    header_text,
)
from schema.schema import CatalogSchema

if TYPE_CHECKING:
    from demo.upload import UploadProgress

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE = "application/graphql-response+json"
GRAPHQL_RESPONSE_UTF8 = f"{GRAPHQL_RESPONSE}; charset=utf-8"
JSON = "application/json"
JSON_UTF8 = f"{JSON}; charset=utf-8"
# Seconds a client should wait after a 503 (MongoDB unreachable): about one server-selection
# timeout, long enough for an election or a restart to be noticed by the driver.
RETRY_AFTER_S = 5


class HTTPRequestError(Exception):
    """The request is not a well-formed GraphQL-over-HTTP request."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        code: str = "BAD_REQUEST",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.code = code


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


def negotiate(accept_header: str | None) -> str:
    """The response media type for an ``Accept`` header, or raise 406."""
    if not accept_header or not accept_header.strip():
        # The spec's legacy watershed (2025-01-01) has passed: no Accept means the new type.
        return GRAPHQL_RESPONSE
    # Highest quality wins; then an explicit type over a wildcard; then the newer media type.
    ranked: list[tuple[float, int, int, str]] = []
    for media, quality in quality_list(accept_header):
        if quality <= 0:
            continue
        if media == GRAPHQL_RESPONSE:
            ranked.append((quality, 1, 1, GRAPHQL_RESPONSE))
        elif media in ("*/*", "application/*"):
            # What graphql-http's audit expects: a wildcard keeps the legacy type.
            ranked.append((quality, 0, 1, JSON))
        elif media == JSON:
            ranked.append((quality, 1, 0, JSON))
    if not ranked:
        raise HTTPRequestError(
            406, f"Not Acceptable: this endpoint answers {GRAPHQL_RESPONSE} or {JSON}"
        )
    return max(ranked)[3]


def _json_object(value: Any, name: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise HTTPRequestError(400, f"'{name}' must be a JSON object")
    return value


def parse_params(payload: Any) -> GraphQLParams:
    """Validate the request parameters of a POST body or a GET query string."""
    if not isinstance(payload, dict):
        raise HTTPRequestError(400, "The request body must be a JSON object")
    query = payload.get("query")
    if query is None:
        raise HTTPRequestError(400, "Missing 'query': send the GraphQL document in 'query'")
    if not isinstance(query, str):
        raise HTTPRequestError(400, "'query' must be a string")
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise HTTPRequestError(400, "'operationName' must be a string")
    return GraphQLParams(
        query=query,
        variables=_json_object(payload.get("variables"), "variables"),
        operation_name=operation_name or None,
        extensions=_json_object(payload.get("extensions"), "extensions"),
    )


def _query_string_params(request: Request) -> GraphQLParams:
    params: dict[str, Any] = dict(request.query_params)
    for name in ("variables", "extensions"):
        if name in params:
            try:
                params[name] = json.loads(params[name]) if params[name] else None
            except (ValueError, RecursionError) as exc:  # also absurd numbers and nesting
                raise HTTPRequestError(400, f"'{name}' is not valid JSON: {exc}") from exc
    return parse_params(params)


async def _body_params(request: Request, max_body_bytes: int) -> GraphQLParams:
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media != JSON:
        raise HTTPRequestError(
            415, f"Unsupported Media Type {media or '(none)'!r}: send the request as {JSON}"
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
        raise HTTPRequestError(413, f"The request body is larger than {max_body_bytes} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_body_bytes:
            raise HTTPRequestError(413, f"The request body is larger than {max_body_bytes} bytes")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # also absurd numbers and nesting
        raise HTTPRequestError(400, f"The request body is not valid JSON: {exc}") from exc
    return parse_params(payload)


def _check_unicode(params: GraphQLParams, media_type: str) -> None:
    """BAD_USER_INPUT for a parameter holding a lone surrogate, before it reaches a resolver
    (where MongoDB's encoder would fail on it as an internal error)."""
    parameters = (
        ("query", params.query),
        ("operationName", params.operation_name),
        ("variables", params.variables),
        ("extensions", params.extensions),
    )
    for name, value in parameters:
        if (found := first_invalid_unicode(value)) is not None:
            raise _graphql_request_error(media_type, describe(name, *found), "BAD_USER_INPUT")


def first_operation_name(query: str) -> str | None:
    """The name of the document's first definition when it is a named operation.

    What a client that sends no ``operationName`` runs (a document of one operation). A few
    tokens, not a parse: fragments first, shorthand and unnamed operations give None.
    """
    lexer = Lexer(Source(query))
    try:
        keyword = lexer.advance()
        if keyword.kind != TokenKind.NAME or keyword.value not in _OPERATION_KEYWORDS:
            return None
        name = lexer.advance()
    except GraphQLError:
        return None
    return name.value if name.kind == TokenKind.NAME else None


_OPERATION_KEYWORDS = frozenset({"query", "mutation", "subscription"})


def _graphiql_notice(request: Request) -> str | None:
    """What GraphiQL's default query says first, while the demo's media are uploading."""
    progress: UploadProgress | None = getattr(request.state, "demo_media", None)
    if progress is None or not progress.uploading:
        return None
    return (
        f"Demo media are still uploading ({progress.done} of {progress.total}): until its "
        "pictures arrive, a product shows placeholders."
    )


def _wants_graphiql(request: Request) -> bool:
    return "query" not in request.query_params and "text/html" in request.headers.get("accept", "")


def _error_code(error: GraphQLError, pre_execution: bool) -> GraphQLError:
    """Give errors without one an ``extensions.code`` (Apollo's names, which routers know)."""
    if error.extensions and "code" in error.extensions:
        return error
    if not pre_execution:
        code = "BAD_USER_INPUT" if error.path is None else "INTERNAL_SERVER_ERROR"
    elif error.message.startswith("Syntax Error"):
        code = "GRAPHQL_PARSE_FAILED"
    elif error.message.startswith("Variable '$"):
        code = "BAD_USER_INPUT"
    else:
        code = "GRAPHQL_VALIDATION_FAILED"
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


def _is_request_error(result: ExecutionResult) -> bool:
    """Nothing was executed: parse, validation or variable-coercion failure."""
    if isinstance(result, PreExecutionError):
        return True
    return (
        result.data is None
        and bool(result.errors)
        and all(e.path is None for e in result.errors or ())
    )


def bucket_name(principal: Principal, client: str) -> str:
    """Whose budget a request spends: its key's, its subject's, or its address's."""
    if principal.kind == "anonymous":
        return f"addr:{client}"
    return principal.label


class GraphQLHTTPHandler:
    """The ``/graphql`` endpoint."""

    def __init__(self, schema: CatalogSchema, max_body_bytes: int) -> None:
        self.schema = schema
        self.max_body_bytes = max_body_bytes
        # Per process: with N replicas a client gets up to N times its role's budget.
        self.buckets = TokenBuckets()

    async def _authenticate(self, request: Request) -> Principal:
        """The request's principal, charged one request; 401 or 429 as HTTPRequestError."""
        authenticator: Authenticator = request.state.authenticator
        client = request.client.host if request.client else ""
        try:
            principal = await authenticator.authenticate(
                request.headers.get("authorization"), client
            )
        except AuthenticationError as exc:
            raise HTTPRequestError(
                401, exc.message, exc.headers, code="UNAUTHENTICATED"
            ) from None  # the chain would only repeat what the message says
        except TooManyFailuresError as exc:
            raise HTTPRequestError(
                429,
                "Too many failed authentications from this address; retry later",
                {"Retry-After": retry_after_header(exc.retry_after)},
                code="THROTTLED",
            ) from None
        setattr(request.state, PRINCIPAL_STATE, principal.label)
        rate = principal.role.rate
        wait = self.buckets.take(bucket_name(principal, client), rate.burst, rate.per_minute / 60)
        if wait is not None:
            raise HTTPRequestError(
                429,
                f"Over the request budget of role {principal.role.name!r} "
                f"({rate.burst} at once, {rate.per_minute} a minute); retry later",
                {"Retry-After": retry_after_header(wait)},
                code="THROTTLED",
            )
        return principal

    async def handle(self, request: Request) -> Response:
        request_id = request_id_of(request)
        media_type = JSON
        try:
            if request.method == "GET" and _wants_graphiql(request):
                return HTMLResponse(graphiql_html(_graphiql_notice(request)))
            media_type = negotiate(request.headers.get("accept"))
            if request.method not in ("GET", "POST"):
                raise HTTPRequestError(405, "Use GET or POST", {"Allow": "GET, POST"})
            # Before the body is read: an unauthenticated or throttled client costs no parse.
            principal = await self._authenticate(request)
            if request.method == "GET":
                params = _query_string_params(request)
            else:
                params = await _body_params(request, self.max_body_bytes)
            _check_unicode(params, media_type)
            # For the access log.
            setattr(
                request.state,
                OPERATION_STATE,
                params.operation_name or first_operation_name(params.query),
            )
            return await self._execute(request, params, media_type, request_id, principal)
        except HTTPRequestError as exc:
            return JSONResponse(
                {"errors": [{"message": exc.message, "extensions": {"code": exc.code}}]},
                status_code=exc.status,
                headers=exc.headers,
                media_type=_content_type(media_type),
            )

    async def _execute(
        self,
        request: Request,
        params: GraphQLParams,
        media_type: str,
        request_id: str,
        principal: Principal,
    ) -> Response:
        services: Services = request.state.services
        try:
            end_user = header_text(request.headers.get("x-actor"), "X-Actor", MAX_END_USER)
            idempotency_key = header_text(
                request.headers.get("idempotency-key"), "Idempotency-Key", MAX_IDEMPOTENCY_KEY
            )
        except HeaderValueError as exc:
            raise HTTPRequestError(400, str(exc)) from None
        context = Context.for_request(
            services, request_id, principal, end_user=end_user, idempotency_key=idempotency_key
        )
        allowed = (
            {OperationType.QUERY}
            if request.method == "GET"
            else {OperationType.QUERY, OperationType.MUTATION}
        )
        try:
            result = await self.schema.execute(
                params.query,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=allowed,
            )
        except InvalidOperationTypeError as exc:
            if request.method == "GET":
                raise HTTPRequestError(
                    405,
                    f"{exc.operation_type.value}s are not allowed over GET; use POST",
                    {"Allow": "POST"},
                ) from exc
            raise HTTPRequestError(400, f"{exc.operation_type.value}s are not supported") from exc
        except MissingQueryError as exc:
            raise _graphql_request_error(
                media_type, "'query' is empty", "GRAPHQL_PARSE_FAILED"
            ) from exc
        except CannotGetOperationTypeError as exc:
            name = params.operation_name
            message = f"Unknown operation named {name!r}" if name else "No operation to execute"
            raise _graphql_request_error(media_type, message, "GRAPHQL_VALIDATION_FAILED") from exc
        finally:
            context.close()
        return self._respond(result, media_type)

    @staticmethod
    def _respond(result: ExecutionResult, media_type: str) -> Response:
        request_error = _is_request_error(result)
        body: dict[str, Any] = {}
        # Nothing executed: the GraphQL spec leaves "data" out, whichever media type.
        if not request_error:
            body["data"] = result.data
        if result.errors:
            body["errors"] = [_error_code(e, request_error).formatted for e in result.errors]
        if result.extensions:
            body["extensions"] = result.extensions
        headers: dict[str, str] = {}
        if _unavailable(body.get("errors", ()), result.data):
            # Whatever the media type: a retry later can succeed, and proxies know 503.
            status = 503
            headers["Retry-After"] = str(RETRY_AFTER_S)
        elif request_error and media_type == GRAPHQL_RESPONSE:
            status = 400
        else:
            status = 200
        return JSONResponse(
            body, status_code=status, headers=headers, media_type=_content_type(media_type)
        )


def _unavailable(errors: Any, data: dict[str, Any] | None) -> bool:
    """MongoDB was unreachable and nothing came through: no root field has a value.

    A response where some root field answered (one that needs no database, or a partial
    outage) keeps 200 with the failed fields' errors coded UNAVAILABLE.
    """
    if not any(e.get("extensions", {}).get("code") == "UNAVAILABLE" for e in errors):
        return False
    return data is None or all(value is None for value in data.values())


def _content_type(media_type: str) -> str:
    return GRAPHQL_RESPONSE_UTF8 if media_type == GRAPHQL_RESPONSE else JSON_UTF8


def _graphql_request_error(media_type: str, message: str, code: str) -> HTTPRequestError:
    """A well-formed HTTP request whose GraphQL request is invalid: 400 for the new media
    type, 200 with errors for legacy application/json clients."""
    return HTTPRequestError(400 if media_type == GRAPHQL_RESPONSE else 200, message, code=code)
