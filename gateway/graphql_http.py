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

from graphql import (
    ExperimentalIncrementalExecutionResults,
    GraphQLError,
    Lexer,
    Source,
    TokenKind,
)
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
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
from gateway.http_cache import NO_STORE, VARY, HttpCachePolicy, finish, shared_cacheable
from gateway.incremental import (
    MultipartResponse,
    WireFormat,
    accepted_format,
    incremental_directives,
    multipart_body,
    refusal,
)
from gateway.observability import run_operation
from gateway.operation_rules import (
    MANY_OPERATIONS,
    RequestExtensionError,
    locale_fallbacks_wanted,
    several_operations,
)
from gateway.persisted_queries import PersistedQueries, PersistedQueryError, requested_hash
from gateway.quality_values import quality_list
from gateway.query_cost import POINTS_PER_REQUEST, Budget, cost_extension, cost_only
from gateway.read_view import ReadViewError, read_view
from gateway.request_id import request_id_of
from gateway.unicode_guard import describe, first_invalid_unicode
from resolvers.access import Principal
from resolvers.persisted_queries import PersistedQueryStore
from resolvers.services import Services
from schema.context import (
    MAX_END_USER,
    MAX_IDEMPOTENCY_KEY,
    Context,
    HeaderValueError,
    header_text,
)
from schema.cost import DEFAULT_MAX_QUERY_COST, QueryCost
from schema.extensions import is_internal, masked
from schema.schema import CatalogSchema
from schema.types.uploads import UploadedFile

if TYPE_CHECKING:
    from demo.upload import UploadProgress

log = logging.getLogger(__name__)
# Where CatalogSchema.process_errors logs the errors of a response in one piece.
graphql_log = logging.getLogger("gateway.graphql")

GRAPHQL_RESPONSE = "application/graphql-response+json"
GRAPHQL_RESPONSE_UTF8 = f"{GRAPHQL_RESPONSE}; charset=utf-8"
JSON = "application/json"
JSON_UTF8 = f"{JSON}; charset=utf-8"
MULTIPART = "multipart/form-data"
# Files one multipart request may carry (productImport takes one).
MAX_UPLOAD_FILES = 10
# A browser sends a multipart form cross-site without a preflight; one of these headers (as
# Apollo Server's CSRF prevention asks for) it cannot send without one.
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")
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
    """Empty when the client sent only a persisted query's hash (``extensions``)."""
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


def _response_media_type(accept_header: str | None) -> str:
    """``negotiate``, where ``multipart/mixed`` alone (incremental delivery) also does: its
    parts, and any answer that is not streamed, are then the new JSON media type."""
    try:
        return negotiate(accept_header)
    except HTTPRequestError:
        if accepted_format(accept_header) is None:
            raise
        return GRAPHQL_RESPONSE


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
    extensions = _json_object(payload.get("extensions"), "extensions")
    if query is None:
        if extensions is None or "persistedQuery" not in extensions:
            raise HTTPRequestError(400, "Missing 'query': send the GraphQL document in 'query'")
        query = ""  # gateway.persisted_queries finds it by its hash
    if not isinstance(query, str):
        raise HTTPRequestError(400, "'query' must be a string")
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise HTTPRequestError(400, "'operationName' must be a string")
    return GraphQLParams(
        query=query,
        variables=_json_object(payload.get("variables"), "variables"),
        operation_name=operation_name or None,
        extensions=extensions,
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


async def _body_params(
    request: Request, max_body_bytes: int, max_upload_bytes: int
) -> GraphQLParams:
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media == MULTIPART:
        return await _multipart_params(request, max_upload_bytes)
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


async def _multipart_params(request: Request, max_bytes: int) -> GraphQLParams:
    """A request of the GraphQL multipart request spec: ``operations``, ``map``, then the
    files, each put into the variables at the paths ``map`` names for it."""
    if not any(request.headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
        raise HTTPRequestError(
            400,
            "A multipart request needs a non-empty Apollo-Require-Preflight (or "
            "X-Apollo-Operation-Name) header: a browser cannot send it cross-site without a "
            "CORS preflight (CSRF protection)",
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise HTTPRequestError(413, f"The multipart request is larger than {max_bytes} bytes")

    async def bounded() -> Any:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise HTTPRequestError(
                    413, f"The multipart request is larger than {max_bytes} bytes"
                )
            yield chunk

    parser = MultiPartParser(
        request.headers,
        bounded(),
        max_files=MAX_UPLOAD_FILES,
        max_fields=2,
        max_part_size=max_bytes,
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise HTTPRequestError(400, f"Malformed multipart request: {exc.message}") from None
    try:
        return await _substitute_files(form.multi_items())
    finally:
        await form.close()


async def _substitute_files(items: list[tuple[str, str | UploadFile]]) -> GraphQLParams:
    names = [name for name, _ in items]
    if names[:2] != ["operations", "map"]:
        raise HTTPRequestError(
            400,
            "A multipart request's first fields are 'operations' then 'map', before the files "
            f"(got {', '.join(repr(n) for n in names[:3]) or 'none'})",
        )
    operations = _form_json(items[0][1], "operations")
    if isinstance(operations, list):
        raise HTTPRequestError(400, "Batched operations are not supported: send one operation")
    params = parse_params(operations)
    variables: dict[str, Any] = dict(params.variables or {})
    mapping = _form_json(items[1][1], "map")
    if not isinstance(mapping, dict):
        raise HTTPRequestError(400, "'map' must be a JSON object of file field names to paths")
    files = {name: value for name, value in items[2:] if isinstance(value, UploadFile)}
    fields = [name for name, value in items[2:] if not isinstance(value, UploadFile)]
    if fields:
        raise HTTPRequestError(400, f"Field {fields[0]!r} is not a file")
    for name in mapping:
        if name not in files:
            raise HTTPRequestError(400, f"'map' names file {name!r}, which the request lacks")
    for name in files:
        if name not in mapping:
            raise HTTPRequestError(400, f"File {name!r} is not named in 'map'")
    root: dict[str, Any] = {"variables": variables}
    for name, paths in mapping.items():
        upload = files[name]
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
            raise HTTPRequestError(400, f"'map' of {name!r} must be a list of paths")
        uploaded = UploadedFile(
            filename=upload.filename or name,
            content_type=upload.content_type,
            data=await upload.read(),
        )
        for path in paths:
            _put(root, path, uploaded)
    return GraphQLParams(
        query=params.query,
        variables=variables or None,
        operation_name=params.operation_name,
        extensions=params.extensions,
    )


def _form_json(value: str | UploadFile, name: str) -> Any:
    if not isinstance(value, str):
        raise HTTPRequestError(400, f"'{name}' must be a form field, not a file")
    try:
        return json.loads(value)
    except (ValueError, RecursionError) as exc:
        raise HTTPRequestError(400, f"'{name}' is not valid JSON: {exc}") from exc


def _put(root: dict[str, Any], path: str, upload: UploadedFile) -> None:
    """Put ``upload`` at a ``variables.…`` path whose value is null in ``operations``."""
    *parents, last = path.split(".")
    if not parents or parents[0] != "variables":
        raise HTTPRequestError(400, f"'map' path {path!r} must start with 'variables.'")
    container: Any = root
    parts = [*parents, last]
    for index, part in enumerate(parts):
        key: str | int = part
        if isinstance(container, list):
            if not part.isdigit() or int(part) >= len(container):
                raise HTTPRequestError(400, f"'map' path {path!r} is not in the variables")
            key = int(part)
        elif not isinstance(container, dict) or part not in container:
            raise HTTPRequestError(400, f"'map' path {path!r} is not in the variables")
        if index == len(parts) - 1:
            if container[key] is not None:
                raise HTTPRequestError(
                    400, f"'map' path {path!r} must be null in the operation's variables"
                )
            container[key] = upload
            return
        container = container[key]


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


def with_error_code(error: GraphQLError, pre_execution: bool) -> GraphQLError:
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

    def __init__(
        self,
        schema: CatalogSchema,
        max_body_bytes: int,
        max_upload_bytes: int | None = None,
        *,
        cache: HttpCachePolicy | None = None,
        persisted: PersistedQueries | None = None,
        max_query_cost: int = DEFAULT_MAX_QUERY_COST,
    ) -> None:
        self.schema = schema
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_body_bytes if max_upload_bytes is None else max_upload_bytes
        self.cache = cache or HttpCachePolicy()
        self.persisted = persisted or PersistedQueries()
        self.max_query_cost = max_query_cost
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
        budget = Budget.of(principal, bucket_name(principal, client))
        wait = budget.take(self.buckets, POINTS_PER_REQUEST)
        if wait is not None:
            raise HTTPRequestError(
                429,
                f"Over the request budget of role {principal.role.name!r} "
                f"({rate.burst} at once, {rate.per_minute} a minute); retry later",
                {"Retry-After": retry_after_header(wait), **budget.headers(self.buckets)},
                code="THROTTLED",
            )
        return principal

    def _budget(self, principal: Principal, request: Request) -> Budget:
        client = request.client.host if request.client else ""
        return Budget.of(principal, bucket_name(principal, client))

    async def handle(self, request: Request) -> Response:
        request_id = request_id_of(request)
        media_type = JSON
        principal: Principal | None = None
        try:
            if request.method == "GET" and _wants_graphiql(request):
                return HTMLResponse(graphiql_html(_graphiql_notice(request)))
            media_type = _response_media_type(request.headers.get("accept"))
            if request.method not in ("GET", "POST"):
                raise HTTPRequestError(405, "Use GET or POST", {"Allow": "GET, POST"})
            # Before the body is read: an unauthenticated or throttled client costs no parse.
            principal = await self._authenticate(request)
            if request.method == "GET":
                params = _query_string_params(request)
            else:
                params = await _body_params(request, self.max_body_bytes, self.max_upload_bytes)
            _check_unicode(params, media_type)
            params = await self._persisted_query(request, params, principal, media_type)
            if params.operation_name is None and several_operations(params.query):
                raise _graphql_request_error(media_type, MANY_OPERATIONS, "BAD_REQUEST")
            # For the access log.
            setattr(
                request.state,
                OPERATION_STATE,
                params.operation_name or first_operation_name(params.query),
            )
            response = await self._execute(request, params, media_type, request_id, principal)
        except HTTPRequestError as exc:
            response = JSONResponse(
                {"errors": [{"message": exc.message, "extensions": {"code": exc.code}}]},
                status_code=exc.status,
                headers=exc.headers,
                media_type=_content_type(media_type),
            )
            response = await finish(request, response, self.cache, public=False)
        if principal is not None:
            self._rate_limit_headers(request, response, principal)
        return response

    def _rate_limit_headers(
        self, request: Request, response: Response, principal: Principal
    ) -> None:
        """RateLimit-* on every answer of an authenticated request, 304 and streams included;
        not on the shared-cacheable answers of anonymous callers, whose bucket is their
        address's: a CDN would hand one address's budget to every other."""
        if principal.kind == "anonymous" and response.headers.get("cache-control", "").startswith(
            "public"
        ):
            return
        for name, value in self._budget(principal, request).headers(self.buckets).items():
            response.headers[name] = value

    async def _persisted_query(
        self, request: Request, params: GraphQLParams, principal: Principal, media_type: str
    ) -> GraphQLParams:
        """``params`` with the text of a persisted query, once the safelist allows it."""
        services: Services = request.state.services
        try:
            if not params.query and requested_hash(params.extensions) is None:
                return params  # "query": "" is answered as before ('query' is empty)
            query = await self.persisted.query_text(
                params.query,
                params.extensions,
                principal,
                PersistedQueryStore(services.catalog.persisted_queries),
                services.clock(),
            )
        except PersistedQueryError as exc:
            status = exc.status
            if status == 404 and media_type != GRAPHQL_RESPONSE:
                status = 200  # legacy application/json: a GraphQL error in a 200
            raise HTTPRequestError(status, exc.message, code=exc.code) from None
        if query is params.query:
            return params
        return GraphQLParams(query, params.variables, params.operation_name, params.extensions)

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
        try:
            locale_fallbacks = locale_fallbacks_wanted(params.extensions)
        except RequestExtensionError as exc:
            raise HTTPRequestError(400, str(exc)) from None
        wire: WireFormat | None = None
        if directives := incremental_directives(params.query):
            wire = accepted_format(request.headers.get("accept"))
            if (reason := refusal(directives, wire)) is not None:
                raise HTTPRequestError(406, reason)
        try:
            view = read_view(request, services, principal)
        except ReadViewError as exc:
            raise HTTPRequestError(exc.status, str(exc), code=exc.code) from None
        context = Context.for_request(
            services,
            request_id,
            principal,
            end_user=end_user,
            idempotency_key=idempotency_key,
            read_channel=view.channel,
            preview=view.preview,
        )
        budget = self._budget(principal, request)
        context.cost = QueryCost(
            self.max_query_cost,
            price_only=cost_only(request),
            # The request spent POINTS_PER_REQUEST when it was authenticated.
            charge=lambda cost: budget.take(self.buckets, max(0, cost - POINTS_PER_REQUEST)),
        )
        allowed = (
            {OperationType.QUERY}
            if request.method == "GET"
            else {OperationType.QUERY, OperationType.MUTATION}
        )
        result: ExecutionResult | ExperimentalIncrementalExecutionResults | None = None
        try:
            result = await run_operation(
                request,
                lambda: context.cost.requested,
                self.schema.execute(
                    params.query,
                    variable_values=params.variables,
                    context_value=context,
                    operation_name=params.operation_name,
                    allowed_operation_types=allowed,
                ),
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
            # Deferred fields still read through the context: the stream closes it.
            if not isinstance(result, ExperimentalIncrementalExecutionResults):
                context.close()
        if isinstance(result, ExperimentalIncrementalExecutionResults):
            assert wire is not None  # graphql-core defers only what the directives ask
            return self._multipart(result, wire, context, locale_fallbacks, budget)
        if not locale_fallbacks and result.extensions:
            result.extensions.pop("localeFallbacks", None)
        # Published data without errors or warnings (e.g. placeholders for an unreachable
        # Cloudinary) may be kept by shared caches; http_cache checks it is a 200 to a GET.
        public = (
            shared_cacheable(principal, preview=view.preview)
            and not result.errors
            and not (result.extensions or {}).get("warnings")
        )
        if context.cost.requested is not None:
            # A shared cache would serve one client's budget to others: cacheable answers
            # carry the price alone.
            shared = public and request.method == "GET"
            throttle = None if shared else budget.status(self.buckets)
            result.extensions = {
                **(result.extensions or {}),
                "cost": cost_extension(context.cost, throttle),
            }
        if context.cost.retry_after is not None:
            response = self._respond(result, media_type)
            response.status_code = 429
            response.headers.update(
                {
                    "Retry-After": retry_after_header(context.cost.retry_after),
                    **budget.headers(self.buckets),
                }
            )
            return await finish(request, response, self.cache, public=False)
        return await finish(request, self._respond(result, media_type), self.cache, public=public)

    def _multipart(
        self,
        results: ExperimentalIncrementalExecutionResults,
        wire: WireFormat,
        context: Context,
        locale_fallbacks: bool,
        budget: Budget,
    ) -> Response:
        """The parts of an operation with @defer/@stream, as they come: never cached (each is
        for this client alone, and a stream cannot be revalidated by its hash)."""

        def errors(found: list[GraphQLError]) -> list[GraphQLError]:
            for error in found:
                if is_internal(error):
                    graphql_log.error(
                        "request %s: %s at %s",
                        context.request_id,
                        error.message,
                        error.path,
                        exc_info=error.original_error,
                    )
            return masked(found, context.request_id)

        def notes() -> dict[str, Any]:
            found: dict[str, Any] = {}
            if locale_fallbacks and context.locale_fallbacks:
                found["localeFallbacks"] = context.locale_fallbacks
            if context.warnings:
                found["warnings"] = context.warnings
            return found

        first = notes()
        if context.cost.requested is not None:
            first["cost"] = cost_extension(context.cost, budget.status(self.buckets))
        body = multipart_body(
            results,
            wire,
            errors=errors,
            formatted=lambda error: with_error_code(error, pre_execution=False).formatted,
            initial_extensions=first,
            # What the deferred fields noted too (the lists only grow).
            final_extensions=lambda: notes() or None,
        )
        return MultipartResponse(
            results,
            body,
            wire,
            headers={"Cache-Control": NO_STORE, "Vary": VARY},
            on_close=context.close,
        )

    @staticmethod
    def _respond(result: ExecutionResult, media_type: str) -> Response:
        request_error = _is_request_error(result)
        body: dict[str, Any] = {}
        # Nothing executed: the GraphQL spec leaves "data" out, whichever media type.
        if not request_error:
            body["data"] = result.data
        if result.errors:
            body["errors"] = [with_error_code(e, request_error).formatted for e in result.errors]
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
