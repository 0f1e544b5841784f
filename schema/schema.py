"""The Federation 2 schema object."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from schema.extensions import MaskInternalErrors, ResponseNotes, is_internal
from schema.query import Query
from schema.types.category import Category
from schema.types.media import MediaAsset
from schema.types.product import Product

log = logging.getLogger("gateway.graphql")


class CatalogSchema(strawberry.federation.Schema):
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


def build_schema() -> CatalogSchema:
    return CatalogSchema(
        query=Query,
        types=[Product, Category, MediaAsset],
        extensions=[MaskInternalErrors, ResponseNotes],
        federation_version="2.11",
    )


schema = build_schema()
