"""Run GraphQL operations against the schema directly, as resolvers see them (no HTTP)."""

from __future__ import annotations

from typing import Any

from strawberry.types import ExecutionResult

from gateway.settings import Settings
from resolvers.db import Catalog
from resolvers.locales import LocaleResolver
from schema import schema
from schema.context import Context, Services


def services_for(catalog: Catalog, settings: Settings | None = None) -> Services:
    settings = settings or Settings()
    locales = LocaleResolver(settings.locales, settings.default_locale, settings.fallback_chains)
    return Services(catalog, locales, settings.loader_batch_size)


async def execute(
    services: Services, query: str, variables: dict[str, Any] | None = None
) -> ExecutionResult:
    context = Context.for_request(services, request_id="test")
    return await schema.execute(query, variable_values=variables, context_value=context)


async def data_of(
    services: Services, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The data of a query that must succeed."""
    result = await execute(services, query, variables)
    assert result.errors is None, [e.formatted for e in result.errors]
    assert result.data is not None
    return result.data
