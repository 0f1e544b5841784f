"""Operation-level schema extensions (none hooks individual fields: that costs every resolver)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import ASTValidationRule, ExperimentalIncrementalExecutionResults, GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from resolvers.db_errors import outage_behind, summary
from resolvers.errors import CatalogError

log = logging.getLogger("gateway.graphql")

INTERNAL_MESSAGE = "Internal server error"
UNAVAILABLE_MESSAGE = "The catalog database is unavailable; retry later"


# Strawberry raises these for what the client sent (streaming transports report them as errors).
_CLIENT_MISTAKES = MissingQueryError | CannotGetOperationTypeError | InvalidOperationTypeError


def is_internal(error: GraphQLError) -> bool:
    """An error raised by our code unexpectedly, as opposed to one the client can act on."""
    original = error.original_error
    return (
        original is not None
        and not isinstance(original, CatalogError | GraphQLError | _CLIENT_MISTAKES)
        # An outage is not a bug: MaskInternalErrors reports it as UNAVAILABLE, untraced.
        and outage_behind(original) is None
        and not _bad_stream_count(error)
    )


# graphql-core's executor refuses a negative @stream(initialCount:) with a ValueError, which
# would otherwise pass for a bug of ours.
STREAM_INITIAL_COUNT = "initialCount must be a positive integer"


def _bad_stream_count(error: GraphQLError) -> bool:
    original = error.original_error
    return isinstance(original, ValueError) and str(original) == STREAM_INITIAL_COUNT


class QueryLimits(AddValidationRules):
    """Depth and alias limits as validation rules built once per schema.

    Strawberry's limiters build a new rule class per instance, and extensions are instantiated
    per request, so the ValidationCache key (document, rules) never repeated: every request was
    validated again. Sharing the rule classes makes repeated documents validation-free.
    """

    def __init__(self, rules: list[type[ASTValidationRule]]) -> None:
        super().__init__(rules)

    @staticmethod
    def rules(max_depth: int, max_aliases: int) -> list[type[ASTValidationRule]]:
        return [
            *QueryDepthLimiter(max_depth=max_depth).validation_rules,
            *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
        ]


class ResponseNotes(SchemaExtension):
    """Adds ``extensions.localeFallbacks`` (values taken from another locale) and
    ``extensions.warnings`` (problems the response survived, such as Cloudinary being down)."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        notes: dict[str, Any] = {}
        if fallbacks := getattr(context, "locale_fallbacks", None):
            notes["localeFallbacks"] = fallbacks
        if warnings := getattr(context, "warnings", None):
            notes["warnings"] = warnings
        return notes


class MaskInternalErrors(SchemaExtension):
    """Replaces unexpected exceptions by a generic message that carries the request id, and
    MongoDB outages by ``UNAVAILABLE`` (the HTTP layer answers 503 when nothing else came
    through), logged as one warning per request rather than a traceback per field."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        # @defer/@stream: the parts are still to come; the HTTP layer masks each with masked().
        if isinstance(result, ExperimentalIncrementalExecutionResults):
            return
        if not result or not result.errors:
            return
        request_id = getattr(self.execution_context.context, "request_id", None)
        result.errors = masked(result.errors, request_id)


def masked(errors: list[GraphQLError], request_id: str | None) -> list[GraphQLError]:
    """``errors`` with unexpected exceptions and MongoDB outages replaced (see
    MaskInternalErrors); an outage is logged once per call."""
    replaced: list[GraphQLError] = []
    outage: BaseException | None = None
    for error in errors:
        cause = outage_behind(error.original_error)
        if cause is not None:
            outage = outage or cause
            replaced.append(_replace(error, UNAVAILABLE_MESSAGE, "UNAVAILABLE", request_id))
        elif is_internal(error):
            replaced.append(_replace(error, INTERNAL_MESSAGE, "INTERNAL_SERVER_ERROR", request_id))
        elif _bad_stream_count(error):
            replaced.append(_replace(error, error.message, "BAD_USER_INPUT", request_id))
        else:
            replaced.append(error)
    if outage is not None:
        log.warning("request %s: MongoDB unavailable: %s", request_id, summary(outage))
    return replaced


def _replace(error: GraphQLError, message: str, code: str, request_id: str | None) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": code, "requestId": request_id},
    )
