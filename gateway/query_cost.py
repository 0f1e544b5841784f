"""The HTTP side of query cost (schema.cost prices): the price-only header, the budget a
request spends, and the ``extensions.cost`` of every response, named as Shopify's so its
clients read it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from gateway.auth import TokenBuckets
from resolvers.access import Principal
from schema.cost import QueryCost

# Prices the operation without running it (answered with data null and extensions.cost).
COST_ONLY_HEADER = "x-cost-only"
# A role's rate (roles.toml) counts requests; its bucket holds this many cost points per
# request, and a request spends at least this much (before its body is read) and its cost if
# that is more: cheap operations are limited as before, costly ones spend their price.
POINTS_PER_REQUEST = 100


def cost_only(request: Request) -> bool:
    return request.headers.get(COST_ONLY_HEADER, "").strip().lower() in ("1", "true")


@dataclass(frozen=True, slots=True)
class Budget:
    """One caller's bucket of cost points."""

    name: str
    capacity: int
    per_second: float

    @classmethod
    def of(cls, principal: Principal, bucket_name: str) -> Budget:
        rate = principal.role.rate
        return cls(
            bucket_name, rate.burst * POINTS_PER_REQUEST, rate.per_minute / 60 * POINTS_PER_REQUEST
        )

    def take(self, buckets: TokenBuckets, points: float) -> float | None:
        """Spends ``points``: None when there were enough, else seconds until there are."""
        return buckets.take(self.name, self.capacity, self.per_second, points)

    def status(self, buckets: TokenBuckets) -> dict[str, float]:
        available = buckets.available(self.name, self.capacity, self.per_second)
        return {
            "maximumAvailable": self.capacity,
            "currentlyAvailable": math.floor(available),
            "restoreRate": self.per_second,
        }

    def headers(self, buckets: TokenBuckets) -> dict[str, str]:
        """RateLimit-* (the IETF draft's): the bucket, what is left, seconds until it is full."""
        available = buckets.available(self.name, self.capacity, self.per_second)
        return {
            "RateLimit-Limit": str(self.capacity),
            "RateLimit-Remaining": str(math.floor(available)),
            "RateLimit-Reset": str(math.ceil((self.capacity - available) / self.per_second)),
        }


def cost_extension(cost: QueryCost, throttle: dict[str, float] | None) -> dict[str, Any]:
    """``requestedQueryCost`` (the static price), ``actualQueryCost`` (equal to it once the
    operation ran, 0 when it did not: fields are not metered as they resolve) and, for
    answers no shared cache keeps, the caller's ``throttleStatus`` in cost points."""
    extension: dict[str, Any] = {
        "requestedQueryCost": cost.requested,
        "actualQueryCost": cost.actual,
    }
    if throttle is not None:
        extension["throttleStatus"] = throttle
    return extension
