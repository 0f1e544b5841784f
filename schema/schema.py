"""The Federation 2 schema object."""

from __future__ import annotations

import inspect
import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxTokensLimiter, SchemaExtension
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.types import ExecutionContext, Info

from resolvers.errors import BadUserInputError
from schema.document_cache import DocumentCache, PreparedDocuments, PreparedDocumentsSync
from schema.document_limits import DocumentLimits
from schema.execution import CatalogExecutionContext
from schema.extensions import MaskInternalErrors, QueryLimits, ResponseNotes, is_internal
from schema.known_channels import KnownChannels
from schema.lean_resolvers import use_lean_resolvers
from schema.lookahead import Needs, prefetch_products
from schema.mutation import Mutation
from schema.portable_directives import use_portable_directives
from schema.query import Query
from schema.subscription import Subscription
from schema.types.category import Category
from schema.types.media import MediaAsset
from schema.types.product import Product
from schema.types.uploads import SCALARS
from schema.types.user_errors import USER_ERROR_TYPES
from schema.types.workflow import WORKFLOW_ERROR_TYPES

log = logging.getLogger("gateway.graphql")


MAX_REPRESENTATIONS = 500
MAX_DEPTH = 12
MAX_ALIASES = 30
# Ten times the largest query of the tests, docs and benchmarks (1,459 tokens); parsing stops
# here, so a bomb costs at most this much lexing.
MAX_TOKENS = 5_000
ENTITY_TYPES = ("Product", "Category", "MediaAsset")


class CachedNameConverter(NameConverter):
    """camelCase names computed once per Python name.

    Strawberry converts every argument name on every resolver call; on a 48-product listing
    that is a few hundred conversions of the same handful of names per request.
    """

    def __init__(self) -> None:
        super().__init__(auto_camel_case=True)
        self._names: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        converted = self._names.get(name)
        if converted is None:
            converted = self._names[name] = super().apply_naming_config(name)
        return converted


class CatalogSchema(strawberry.federation.Schema):
    def __init__(
        self,
        *args: Any,
        documents: DocumentCache,
        document_limits: DocumentLimits,
        lean_resolvers: bool = True,
        **kwargs: Any,
    ) -> None:
        self.documents = documents
        self.document_limits = document_limits
        super().__init__(*args, **kwargs)
        use_portable_directives(self._schema)
        if lean_resolvers:  # off only to compare with Strawberry's resolvers
            use_lean_resolvers(self._schema, self.config.info_class)

    def get_extensions(self, sync: bool = False) -> list[SchemaExtension]:
        """Ours, then the document cache: parse, bound and validate once per document text.

        It replaces Strawberry's ParserCache and ValidationCache (bounded in documents, not
        bytes) and runs the cost limits before validation; its hooks differ when synchronous.
        """
        prepared = PreparedDocumentsSync if sync else PreparedDocuments
        return [*super().get_extensions(sync), prepared(self.documents, self.document_limits)]

    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        """Bounded: a router batches at most a few hundred entities per subgraph request."""
        if len(representations) > MAX_REPRESENTATIONS:
            raise BadUserInputError(
                f"{len(representations)} representations; at most {MAX_REPRESENTATIONS} per request"
            )
        for representation in representations:
            if not isinstance(representation, dict) or not isinstance(
                representation.get("__typename"), str
            ):  # the router always sends objects with a __typename
                raise BadUserInputError("each representation must be an object with __typename")
            if representation["__typename"] not in ENTITY_TYPES:
                raise BadUserInputError(
                    f"{representation['__typename']!r} is not an entity of this subgraph; "
                    f"entities: {', '.join(ENTITY_TYPES)}"
                )
        results = super().entities_resolver(info, representations)
        if not any(inspect.isawaitable(r) for r in results):
            return results
        return self._settle_entities(info, results)  # type: ignore[return-value]

    @staticmethod
    async def _settle_entities(info: Info, results: list[Any]) -> list[Any]:
        """Await the batch of references, then prefetch what the selected fields read.

        Every entity type's ``resolve_reference`` queues its load when called, so awaiting
        the references in turn costs one batch per type, not one query each. Errors stay in
        place as values: graphql-core reports each at its item's path.
        """
        settled: list[Any] = []
        try:
            for result in results:
                if inspect.isawaitable(result):
                    try:
                        result = await result
                    except Exception as error:
                        result = error
                settled.append(result)
        finally:
            # Cancelled half-way: the references not awaited yet must not warn at exit.
            for result in results[len(settled) :]:
                if inspect.iscoroutine(result):
                    result.close()
        products = [r.doc for r in settled if isinstance(r, Product)]
        if products:
            await prefetch_products(info, products, Needs.of(info))
        return settled

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log unexpected errors with the request id; client errors are not ours to log."""
        request_id: Any = getattr(getattr(execution_context, "context", None), "request_id", None)
        for error in errors:
            if is_internal(error):
                log.error(
                    "request %s: %s at %s",
                    request_id,
                    error.message,
                    error.path,
                    exc_info=error.original_error,
                )


def build_schema(*, lean_resolvers: bool = True, planned_fields: bool = True) -> CatalogSchema:
    """The schema; ``lean_resolvers`` and ``planned_fields`` off only to compare with
    Strawberry's resolvers and graphql-core's field execution."""
    limits = QueryLimits.rules(MAX_DEPTH, MAX_ALIASES)
    return CatalogSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # UserError's implementations are reached only through the interface.
        types=[Product, Category, MediaAsset, *USER_ERROR_TYPES, *WORKFLOW_ERROR_TYPES],
        extensions=[
            MaskInternalErrors,
            ResponseNotes,
            KnownChannels,
            # Bounds on what one document may ask for (validation-time, not per field).
            lambda: QueryLimits(limits),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        ],
        # 2.9: the newest link version The Guild's composition (Hive Gateway) accepts; we use only
        # @key (2.0), so no router loses anything.
        federation_version="2.9",
        config=StrawberryConfig(
            name_converter=CachedNameConverter(),
            scalar_map=SCALARS,
            # @defer and @stream (graphql-core 3.3's incremental executor); the HTTP layer
            # streams the parts as multipart/mixed (gateway/incremental.py).
            enable_experimental_incremental_execution=True,
        ),
        # Clients send the same few documents again and again: parse and validate once.
        documents=DocumentCache(),
        document_limits=DocumentLimits(),
        lean_resolvers=lean_resolvers,
        execution_context_class=CatalogExecutionContext if planned_fields else None,
    )
