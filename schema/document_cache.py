"""Parse, bound and validate each document once; cache the result by its text, within a byte budget.

Strawberry's ParserCache and ValidationCache count documents, not bytes: a parsed document keeps
every token of its source (about 400 bytes each), so 256 cached 45 KB documents held over 1 GB.
This cache accounts an estimate of each document's size and evicts the least recently used
beyond the budget; documents too large for it are not cached. One entry holds the document and
its validation errors, so nothing else keeps evicted documents alive.

Before validation the document's cost is bounded (:mod:`schema.document_limits`); a document
over a limit is answered with that error and never reaches graphql-core's rules. Large
documents are parsed and validated in a worker thread, so the event loop keeps answering
(health checks, other requests) while they are.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from graphql import ASTValidationRule, DocumentNode, ExecutionResult, GraphQLError, GraphQLSchema
from graphql.language import parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types.graphql import OperationType

from schema.cost import CostPlan, QueryCost, cost_plan, throttled, too_costly
from schema.document_limits import DocumentLimits, document_limit_error, variable_list_error

# Measured with tracemalloc on documents of 250 B to 45 KB: a parsed document costs 300-560
# bytes per token (token, AST node, location; most for bare fields), plus its source text and
# the values of long strings or comments (at most two bytes per UTF-8 byte of the text).
TOKEN_BYTES = 600
# Documents longer than this are prepared in a worker thread: below it parsing and validating
# takes a few milliseconds, less than the hop to a thread is worth.
OFFLOAD_CHARS = 4_096
# One: with two parsing threads the event loop was a third contender for the GIL (make bench
# bombs: /healthz p50 5.9 -> 3.2 ms, p99 150 -> 123 ms, CPU per bomb 78 -> 63 ms).
OFFLOAD_THREADS = 1


@dataclass(frozen=True, slots=True)
class Prepared:
    document: DocumentNode
    errors: tuple[GraphQLError, ...]  # a limit error, or graphql-core's validation errors
    size: int  # estimated bytes
    cost: CostPlan | None = None  # None when the document is refused


def estimated_bytes(query: str, document: DocumentNode) -> int:
    tokens = 0
    token = document.loc.start_token if document.loc else None
    while token is not None:
        tokens += 1
        token = token.next
    return TOKEN_BYTES * tokens + 2 * len(query.encode(errors="surrogatepass"))


def prepare(
    schema: GraphQLSchema,
    query: str,
    parse_options: Mapping[str, Any],
    rules: tuple[type[ASTValidationRule], ...],
    limits: DocumentLimits,
) -> Prepared:
    """Parse (a syntax error raises), check the limits, then validate within them."""
    document = parse(query, **parse_options)
    limit_error = document_limit_error(document, limits)
    if limit_error is not None:
        errors: tuple[GraphQLError, ...] = (limit_error,)
    else:
        errors = tuple(validate_document(schema, document, rules))
    # Priced once per document, like validation: a request only resolves its variables.
    cost = None if errors else cost_plan(schema, document)
    return Prepared(document, errors, estimated_bytes(query, document), cost)


class DocumentCache:
    """Least recently used prepared documents by query text, within ``max_bytes``."""

    def __init__(
        self,
        max_bytes: int = 32 * 2**20,
        max_entries: int = 256,
        max_entry_bytes: int | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        # Larger documents would evict many others and are rare enough to prepare again.
        self.max_entry_bytes = max_bytes // 16 if max_entry_bytes is None else max_entry_bytes
        self._entries: OrderedDict[str, Prepared] = OrderedDict()
        self._bytes = 0
        # execute_sync may run in threads beside the event loop.
        self._lock = threading.Lock()
        self._limiters: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, anyio.CapacityLimiter
        ] = weakref.WeakKeyDictionary()

    @property
    def accounted_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: str) -> Prepared | None:
        with self._lock:
            prepared = self._entries.get(query)
            if prepared is not None:
                self._entries.move_to_end(query)
            return prepared

    def put(self, query: str, prepared: Prepared) -> None:
        # A refused document is not kept: it will not be sent again by a client that works.
        if prepared.size > self.max_entry_bytes or prepared.errors:
            return
        with self._lock:
            old = self._entries.pop(query, None)
            if old is not None:
                self._bytes -= old.size
            self._entries[query] = prepared
            self._bytes += prepared.size
            while self._bytes > self.max_bytes or len(self._entries) > self.max_entries:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size

    def limiter(self) -> anyio.CapacityLimiter:
        """Threads for preparing large documents, per event loop (tests run several loops)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            limiter = self._limiters.get(loop)
            if limiter is None:
                limiter = self._limiters[loop] = anyio.CapacityLimiter(OFFLOAD_THREADS)
            return limiter


class _PreparedDocuments(SchemaExtension):
    def __init__(self, cache: DocumentCache, limits: DocumentLimits) -> None:
        self.cache = cache
        self.limits = limits
        self.errors: tuple[GraphQLError, ...] | None = None
        self.cost: CostPlan | None = None

    def _cached(self) -> tuple[str, Prepared | None] | None:
        execution = self.execution_context
        if execution.graphql_document is not None or not execution.query:
            return None
        return execution.query, self.cache.get(execution.query)

    def _prepare(self, query: str) -> Prepared:
        execution = self.execution_context
        return prepare(
            execution.schema._schema,
            query,
            execution.parse_options,
            execution.validation_rules,
            self.limits,
        )

    def _use(self, query: str, prepared: Prepared, *, fresh: bool) -> None:
        if fresh:
            self.cache.put(query, prepared)
        self.execution_context.graphql_document = prepared.document
        self.errors = prepared.errors
        self.cost = prepared.cost

    def on_validate(self) -> Iterator[None]:
        # Setting the errors (even none) tells Strawberry validation has run.
        if self.errors is not None:
            self.execution_context.pre_execution_errors = list(self.errors)
        yield

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        if execution.result is None:
            error = variable_list_error(execution.variables, self.limits)
            if error is not None:
                refusal: ExecutionResult | None = ExecutionResult(data=None, errors=[error])
            else:
                refusal = None if self.cost is None else self._priced(self.cost)
            if (
                refusal is not None
                and refusal.errors
                and execution.operation_type is OperationType.SUBSCRIPTION
            ):
                # Strawberry starts a subscription whatever result an extension sets here; an
                # exception is what it reports instead.
                raise refusal.errors[0]
            execution.result = refusal
        yield

    def _priced(self, plan: CostPlan) -> ExecutionResult | None:
        """Prices the operation; a result (refusal, or the price alone) stops it running."""
        execution = self.execution_context
        account: QueryCost | None = getattr(execution.context, "cost", None)
        if not isinstance(account, QueryCost):
            return None  # a caller without our Context: nothing to hold it to
        cost = plan.price(execution.operation_name, execution.variables)
        account.requested = cost
        if cost > account.limit:
            return ExecutionResult(data=None, errors=[too_costly(cost, account.limit)])
        if account.price_only:  # pricing is free: it spends nothing
            return ExecutionResult(data=None, errors=None)
        if account.charge is not None:
            account.retry_after = account.charge(cost)
            if account.retry_after is not None:
                return ExecutionResult(data=None, errors=[throttled(cost, account.retry_after)])
        account.actual = cost
        return None


class PreparedDocuments(_PreparedDocuments):
    """For ``Schema.execute``: large documents are prepared off the event loop."""

    async def on_parse(self) -> AsyncIterator[None]:
        cached = self._cached()
        if cached is not None:
            query, prepared = cached
            if prepared is not None:
                self._use(query, prepared, fresh=False)
            elif len(query) > OFFLOAD_CHARS:
                prepared = await anyio.to_thread.run_sync(
                    self._prepare, query, limiter=self.cache.limiter()
                )
                self._use(query, prepared, fresh=True)
            else:
                self._use(query, self._prepare(query), fresh=True)
        yield


class PreparedDocumentsSync(_PreparedDocuments):
    """For ``Schema.execute_sync``, whose extension hooks cannot await."""

    def on_parse(self) -> Iterator[None]:
        cached = self._cached()
        if cached is not None:
            query, prepared = cached
            if prepared is None:
                self._use(query, self._prepare(query), fresh=True)
            else:
                self._use(query, prepared, fresh=False)
        yield
