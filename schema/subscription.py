"""The subscription root: product changes pushed over WebSocket (``gateway.graphql_ws``)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.errors import BadUserInputError
from schema.context import Context
from schema.types.product_change import ProductChange

# More would make the filter a scan of its own on every change.
MAX_SUBSCRIBED_SKUS = 500


@strawberry.type(description="Changes pushed to the client as they are committed.")
class Subscription:
    @strawberry.subscription(
        description="Products of the read view (the key's channel publications, or the working "
        "copy for editors) as they change from the moment of subscribing: created, updated or "
        "removed, each with the product as it is then. A subscriber that falls 1,000 changes "
        "behind is ended with SUBSCRIBER_LAGGED."
    )
    async def product_changed(
        self,
        info: Info[Context, None],
        skus: Annotated[
            list[str] | None,
            strawberry.argument(description=f"Only these SKUs (at most {MAX_SUBSCRIBED_SKUS})."),
        ] = None,
    ) -> AsyncGenerator[ProductChange, None]:
        if skus is not None and len(skus) > MAX_SUBSCRIBED_SKUS:
            raise BadUserInputError(
                f"at most {MAX_SUBSCRIBED_SKUS} SKUs per subscription", argumentName="skus"
            )
        context = info.context
        changes = await context.services.product_changes.subscribe(
            context.source,
            context.services.catalog.products,
            None if skus is None else frozenset(skus),
        )
        if context.subscribed is not None:
            context.subscribed.set()
        async with aclosing(changes):
            async for change in changes:
                # Each change is sent as of when it is sent: loaders must not keep what the
                # previous one read.
                context.next_event()
                yield ProductChange.of(change)
