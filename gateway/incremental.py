"""Incremental delivery (``@defer``, ``@stream``) over ``multipart/mixed``.

graphql-core 3.3 executes the directives and yields the newer format (graphql-js 17's:
``pending`` ids, ``incremental`` by id with ``subPath``, ``completed``). Two wire formats are
spoken, chosen by the request's ``Accept``:

- ``multipart/mixed;deferSpec=20220824`` (Apollo Router's, Apollo Client's
  ``Defer20220824Handler``): ``{data, hasNext}`` then ``{incremental: [{data, path, label}],
  hasNext}``, converted here; it has no ``@stream``.
- ``multipart/mixed`` without a ``deferSpec`` (``incrementalSpec=v0.2`` from Apollo Client's
  ``GraphQL17Alpha9Handler``, Relay, graphql-http): graphql-core's parts as they are.

A document that uses either directive from a client that accepts neither is refused before it
runs (406, as Apollo Server does), rather than answered in a shape the client cannot read.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from enum import Enum
from typing import Any

import anyio
from graphql import (
    ExperimentalIncrementalExecutionResults,
    GraphQLError,
    IncrementalDeferResult,
    InitialIncrementalExecutionResult,
    Lexer,
    Source,
    SubsequentIncrementalExecutionResult,
    TokenKind,
)
from graphql.error import GraphQLFormattedError
from graphql.execution import PendingResult
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from gateway.quality_values import quality_list

MULTIPART_MIXED = "multipart/mixed"
# Apollo Server's and Apollo Client's framing: the boundary "-" makes every delimiter "\r\n---"
# and the closing one "\r\n-----".
BOUNDARY = "-"
PART_HEADER = b"\r\nContent-Type: application/json; charset=utf-8\r\n\r\n"
DELIMITER = b"\r\n---"
CLOSE = b"--\r\n"
INCREMENTAL_DIRECTIVES = frozenset({"defer", "stream"})
# Lexing stops here: a longer document is refused by the parser's own token limit anyway.
MAX_SCANNED_TOKENS = 5_000

Formatter = Callable[[GraphQLError], GraphQLFormattedError]
ErrorFilter = Callable[[list[GraphQLError]], list[GraphQLError]]


class WireFormat(Enum):
    DEFER_20220824 = "deferSpec=20220824"
    GRAPHQL_17 = "incrementalSpec=v0.2"


def accepted_format(accept_header: str | None) -> WireFormat | None:
    """The incremental format the client takes, the first one it lists; None without any."""
    for part in (accept_header or "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if media.lower() != MULTIPART_MIXED:
            continue
        values = {
            key.strip().lower(): value.strip().strip('"')
            for key, _, value in (p.partition("=") for p in params)
        }
        if dict(quality_list(part)).get(MULTIPART_MIXED, 1.0) <= 0:
            continue
        if "deferspec" in values:
            if values["deferspec"] == "20220824":
                return WireFormat.DEFER_20220824
            continue  # a defer format we do not speak
        if "subscriptionspec" in values:
            continue  # Apollo's multipart subscriptions: not incremental delivery
        return WireFormat.GRAPHQL_17
    return None


def incremental_directives(query: str) -> frozenset[str]:
    """The directives of incremental delivery the document uses (``@defer``, ``@stream``)."""
    if "defer" not in query and "stream" not in query:
        return frozenset()  # every other document: no lexing
    found: set[str] = set()
    lexer = Lexer(Source(query))
    try:
        token = lexer.advance()
        for _ in range(MAX_SCANNED_TOKENS):
            if token.kind == TokenKind.EOF:
                break
            after = lexer.advance()
            if (
                token.kind == TokenKind.AT
                and after.kind == TokenKind.NAME
                and after.value in INCREMENTAL_DIRECTIVES
            ):
                found.add(after.value)
            token = after
    except GraphQLError:
        pass  # a syntax error: the parser answers it
    return frozenset(found)


def refusal(directives: frozenset[str], wire: WireFormat | None) -> str | None:
    """Why a document using ``directives`` cannot be answered in ``wire``, if it cannot."""
    names = " and ".join(f"@{name}" for name in sorted(directives))
    if wire is None:
        return (
            f"The operation uses {names}, whose parts come as multipart/mixed, which the "
            "request's Accept does not allow: add 'multipart/mixed;deferSpec=20220824' (Apollo "
            "Client, Apollo Router) or 'multipart/mixed' (graphql-js 17's format, "
            "incrementalSpec=v0.2) to Accept"
        )
    if wire is WireFormat.DEFER_20220824 and "stream" in directives:
        return (
            "@stream is not part of deferSpec=20220824: accept 'multipart/mixed' "
            "(incrementalSpec=v0.2) for it"
        )
    return None


def content_type(wire: WireFormat) -> str:
    return f'{MULTIPART_MIXED}; boundary="{BOUNDARY}"; {wire.value}'


class _Converter:
    """graphql-core's parts in the chosen wire format, errors filtered and formatted."""

    def __init__(self, wire: WireFormat, errors: ErrorFilter, formatted: Formatter) -> None:
        self.wire = wire
        self.errors = errors
        self.formatted = formatted
        self.pending: dict[str, PendingResult] = {}

    def _errors(self, errors: list[GraphQLError] | None) -> list[GraphQLFormattedError] | None:
        return [self.formatted(e) for e in self.errors(errors)] if errors else None

    def initial(
        self, result: InitialIncrementalExecutionResult, extensions: dict[str, Any] | None
    ) -> dict[str, Any]:
        part: dict[str, Any] = {"data": result.data}
        if errors := self._errors(result.errors):
            part["errors"] = errors
        if self.wire is WireFormat.GRAPHQL_17:
            part["pending"] = [p.formatted for p in result.pending]
        self._track(result.pending)
        part["hasNext"] = result.has_next
        if extensions:
            part["extensions"] = extensions
        return part

    def subsequent(
        self, result: SubsequentIncrementalExecutionResult, extensions: dict[str, Any] | None
    ) -> dict[str, Any]:
        self._track(result.pending)
        if self.wire is WireFormat.GRAPHQL_17:
            part = self._graphql_17(result)
        else:
            part = self._defer_20220824(result)
        part["hasNext"] = result.has_next
        if extensions:
            part["extensions"] = extensions
        return part

    def _track(self, pending: list[PendingResult] | None) -> None:
        for item in pending or ():
            self.pending[item.id] = item

    def _graphql_17(self, result: SubsequentIncrementalExecutionResult) -> dict[str, Any]:
        part: dict[str, Any] = {}
        if result.pending:
            part["pending"] = [p.formatted for p in result.pending]
        if result.incremental:
            part["incremental"] = [
                self._with_errors(item.formatted, item.errors) for item in result.incremental
            ]
        if result.completed:
            part["completed"] = [
                self._with_errors(item.formatted, item.errors) for item in result.completed
            ]
        return part

    def _with_errors(self, formatted: Any, errors: list[GraphQLError] | None) -> dict[str, Any]:
        item = dict(formatted)
        item.pop("errors", None)
        if masked := self._errors(errors):
            item["errors"] = masked
        return item

    def _defer_20220824(self, result: SubsequentIncrementalExecutionResult) -> dict[str, Any]:
        incremental: list[dict[str, Any]] = []
        for item in result.incremental or ():
            # refusal() keeps @stream (IncrementalStreamResult) out of this format.
            assert isinstance(item, IncrementalDeferResult)
            pending = self.pending[item.id]
            entry: dict[str, Any] = {
                "data": item.data,
                "path": [*pending.path, *(item.sub_path or ())],
            }
            incremental.append(self._labelled(entry, pending, item.errors))
        for completed in result.completed or ():
            if completed.errors:
                # The fragment failed as a whole (a non-null field's error reached it): the
                # 2022 format says so as a fragment whose data is null.
                pending = self.pending[completed.id]
                entry = {"data": None, "path": list(pending.path)}
                incremental.append(self._labelled(entry, pending, completed.errors))
            self.pending.pop(completed.id, None)
        return {"incremental": incremental} if incremental else {}

    def _labelled(
        self, entry: dict[str, Any], pending: PendingResult, errors: list[GraphQLError] | None
    ) -> dict[str, Any]:
        if pending.label is not None:
            entry["label"] = pending.label
        if masked := self._errors(errors):
            entry["errors"] = masked
        return entry


def _part(payload: dict[str, Any]) -> bytes:
    return PART_HEADER + json.dumps(payload, separators=(",", ":")).encode() + DELIMITER


async def multipart_body(
    results: ExperimentalIncrementalExecutionResults,
    wire: WireFormat,
    *,
    errors: ErrorFilter,
    formatted: Formatter,
    initial_extensions: dict[str, Any] | None,
    final_extensions: Callable[[], dict[str, Any] | None],
) -> AsyncIterator[bytes]:
    """The body, part by part: the initial result, then each subsequent one as it comes.

    ``final_extensions`` is read once the last part is known (what the deferred fields noted,
    e.g. locale fallbacks). The caller closes ``results.subsequent_results``
    (MultipartResponse does, whatever happens to the connection).
    """
    convert = _Converter(wire, errors, formatted)
    yield DELIMITER + _part(convert.initial(results.initial_result, initial_extensions))
    async for result in results.subsequent_results:
        extensions = None if result.has_next else final_extensions()
        yield _part(convert.subsequent(result, extensions))
    yield CLOSE


class MultipartResponse(StreamingResponse):
    """A streamed answer whose execution is closed when the response ends, however it ends:
    finished, the client gone (a failed send, or cancellation) or an error."""

    def __init__(
        self,
        results: ExperimentalIncrementalExecutionResults,
        body: AsyncIterator[bytes],
        wire: WireFormat,
        headers: dict[str, str],
        on_close: Callable[[], None],
    ) -> None:
        super().__init__(body, headers=headers, media_type=content_type(wire))
        self._results = results
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Shielded: after a cancellation, anyio would cancel every await here too, and
            # the deferred fields' tasks and cursors would be left to the garbage collector.
            with anyio.CancelScope(shield=True):
                body = self.body_iterator
                aclose = getattr(body, "aclose", None)
                if aclose is not None:
                    await aclose()
                await self._results.subsequent_results.aclose()
                self._on_close()
