"""What the ``productChanged`` subscription sends: one product's change, then its current state."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from resolvers.product_changes import ProductChange as Change
from schema.types.product import Product, load_product


@strawberry.enum(description="How a product changed in the source the subscriber reads.")
class ProductChangeKind(Enum):
    CREATED = strawberry.enum_value(
        "CREATED",
        description="It appeared: first published on the channel, or created (working copy).",
    )
    UPDATED = strawberry.enum_value(
        "UPDATED", description="It changed: republished on the channel, or edited."
    )
    REMOVED = strawberry.enum_value(
        "REMOVED",
        description="It is gone from the source: unpublished from the channel, or no longer "
        "visible to this key.",
    )


@strawberry.type(description="One product's change, as the subscriber's read view sees it.")
class ProductChange:
    sku: str = strawberry.field(description="The changed product's SKU.")
    kind: ProductChangeKind = strawberry.field(description="How it changed.")
    channel: str | None = strawberry.field(
        description="The channel whose publications changed; null: the working copy."
    )
    revision: int | None = strawberry.field(
        description="The product's revision after the change; null when removed."
    )
    at: datetime | None = strawberry.field(description="When the change was committed.")

    @strawberry.field(
        description="The product as it is now in the subscriber's read view (read when the "
        "change is sent); null when removed."
    )
    async def product(self, info: Info) -> Product | None:
        if self.kind is ProductChangeKind.REMOVED:
            return None
        return await load_product(info, sku=self.sku)

    @classmethod
    def of(cls, change: Change) -> ProductChange:
        return cls(
            sku=change.sku,
            kind=ProductChangeKind(change.kind),
            channel=change.channel,
            revision=change.revision,
            at=change.at,
        )
