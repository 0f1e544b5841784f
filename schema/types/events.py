"""Outbound event deliveries as admins see them (``eventDeliveries``, ``eventRedeliver``)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from resolvers.errors import BadUserInputError
from resolvers.outbox import Delivery, Status, list_deliveries
from schema.types.user_errors import UserError


@strawberry.enum(description="Where a delivery of an event to a subscription stands.")
class EventDeliveryStatus(Enum):
    PENDING = strawberry.enum_value(
        Status.PENDING.value, description="Waiting for its next attempt (nextAttemptAt)."
    )
    DELIVERING = strawberry.enum_value(
        Status.DELIVERING.value, description="A worker is sending it now."
    )
    DELIVERED = strawberry.enum_value(
        Status.DELIVERED.value, description="The receiver answered 2xx."
    )
    DEAD = strawberry.enum_value(
        Status.DEAD.value,
        description="Every attempt failed; eventRedeliver sends it again.",
    )


@strawberry.type(
    description="One change event's delivery to one webhook subscription "
    "(event_subscriptions.toml). Receivers deduplicate by eventId, the webhook-id header."
)
class EventDelivery:
    id: strawberry.ID = strawberry.field(description="The delivery's id (eventRedeliver).")
    subscription: str = strawberry.field(description="The subscription's name.")
    event_id: strawberry.ID = strawberry.field(
        description="The event's id: the same on every attempt and redelivery."
    )
    type: str = strawberry.field(description="The event type, e.g. product.update.")
    key: str = strawberry.field(description="What the event is about, e.g. product:SKU-1.")
    revision: int = strawberry.field(description="The product's (or category's) revision.")
    status: EventDeliveryStatus = strawberry.field(description="Where the delivery stands.")
    attempts: int = strawberry.field(description="Attempts made since it was (re)queued.")
    max_attempts: int = strawberry.field(description="Attempts before it is dead.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When it is tried next; null once delivered or dead."
    )
    created_at: datetime = strawberry.field(description="When the delivery was queued.")
    delivered_at: datetime | None = strawberry.field(
        description="When the receiver acknowledged it; null until then."
    )
    last_status: int | None = strawberry.field(
        description="The HTTP status of the last attempt; null when none came back."
    )
    last_error: str | None = strawberry.field(
        description="Why the last attempt failed (HTTP status, timeout, refused connection)."
    )

    @classmethod
    def of(cls, delivery: Delivery) -> EventDelivery:
        return cls(
            id=strawberry.ID(delivery.id),
            subscription=delivery.subscription,
            event_id=strawberry.ID(delivery.event_id),
            type=delivery.type,
            key=delivery.key,
            revision=delivery.seq,
            status=EventDeliveryStatus[delivery.status.name],
            attempts=delivery.attempts,
            max_attempts=delivery.max_attempts,
            next_attempt_at=delivery.next_attempt_at,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
            last_status=delivery.last_status,
            last_error=delivery.last_error,
        )


@strawberry.type(description="The result of eventRedeliver.")
class EventRedeliverPayload:
    delivery: EventDelivery | None = strawberry.field(
        description="The delivery, pending again; null when errors is not empty."
    )
    errors: list[UserError] = strawberry.field(
        description="Why nothing was queued (unknown id, still on its way); empty on success."
    )


MAX_DELIVERIES = 200


async def resolve_event_deliveries(
    info: strawberry.Info, status: EventDeliveryStatus | None, first: int
) -> list[EventDelivery]:
    if not 1 <= first <= MAX_DELIVERIES:
        raise BadUserInputError(
            f"'first' must be between 1 and {MAX_DELIVERIES}", argumentName="first"
        )
    found = await list_deliveries(
        info.context.catalog.db,
        status=Status[status.name] if status is not None else None,
        limit=first,
    )
    return [EventDelivery.of(delivery) for delivery in found]
