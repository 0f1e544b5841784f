"""The HTTP side of query cost (schema.cost prices): the price-only header and the
``extensions.cost`` of every response, named as Shopify's so its clients read it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from schema.cost import QueryCost

# Prices the operation without running it (answered with data null and extensions.cost).
COST_ONLY_HEADER = "x-cost-only"


def cost_only(request: Request) -> bool:
    return request.headers.get(COST_ONLY_HEADER, "").strip().lower() in ("1", "true")


def cost_extension(cost: QueryCost, throttle: dict[str, float] | None) -> dict[str, Any]:
    """``requestedQueryCost`` (the static price), ``actualQueryCost`` (equal to it once the
    operation ran, 0 when it did not: fields are not metered as they resolve) and, for
    answers no shared cache keeps, the key's ``throttleStatus``."""
    extension: dict[str, Any] = {
        "requestedQueryCost": cost.requested,
        "actualQueryCost": cost.actual,
    }
    if throttle is not None:
        extension["throttleStatus"] = throttle
    return extension
