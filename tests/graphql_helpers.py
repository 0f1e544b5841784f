"""Run GraphQL operations against the schema directly, as resolvers see them (no HTTP)."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from strawberry.types import ExecutionResult

from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.assets import DamClient, DamConfig
from resolvers.db import Catalog
from resolvers.locales import LocaleResolver
from resolvers.services import Services
from schema import CatalogSchema, build_schema
from schema.context import Context

# Nothing listens here: tests that never reach Cloudinary still build URLs with these options.
UNREACHABLE_DAM = DamConfig(
    "test-cloud",
    "key",
    "secret",
    sdk_options={
        "upload_prefix": "http://127.0.0.1:9",
        "secure": False,
        "cname": "127.0.0.1:9",
        "private_cdn": False,
        "cdn_subdomain": False,
        "secure_cdn_subdomain": False,
    },
)


@cache
def shared_schema() -> CatalogSchema:
    """One schema for every test that executes operations directly (building one takes ~0.2 s)."""
    return build_schema()


def services_for(
    catalog: Catalog,
    settings: Settings | None = None,
    dam: DamClient | None = None,
    **overrides: Any,
) -> Services:
    settings = settings or Settings()
    locales = LocaleResolver(settings.locales, settings.default_locale, settings.fallback_chains)
    channels = load_profiles(settings).channels
    return Services(
        catalog,
        locales,
        channels,
        dam or DamClient(UNREACHABLE_DAM, timeout_s=2),
        loader_batch_size=settings.loader_batch_size,
        **overrides,
    )


async def execute(
    services: Services,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    max_cost: int | None = None,
    schema: CatalogSchema | None = None,
) -> ExecutionResult:
    """Run ``query`` as the gateway would; ``max_cost`` raises the per-request cost limit for
    tests that select every field on purpose; ``schema``: another build than the shared one."""
    context = Context.for_request(services, request_id="test")
    if max_cost is not None:
        context.cost.limit = max_cost
    # Strawberry's _entities takes the representations apart: each run gets its own copy.
    variables = copy.deepcopy(variables)
    schema = schema or shared_schema()
    return await schema.execute(query, variable_values=variables, context_value=context)


async def data_of(
    services: Services, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The data of a query that must succeed."""
    result = await execute(services, query, variables)
    assert result.errors is None, [e.formatted for e in result.errors]
    assert result.data is not None
    return result.data
