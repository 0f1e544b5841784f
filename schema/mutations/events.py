"""``eventRedeliver`` (events:manage): a dead event delivery sent again."""

from __future__ import annotations

import logging
from typing import Annotated

import strawberry

from resolvers.access import Scope
from resolvers.outbox import DeliveryNotFoundError, NotRedeliverableError, redeliver
from schema.context import Context
from schema.permissions import requires
from schema.types.events import EventDelivery, EventRedeliverPayload
from schema.types.user_errors import InputError, NotFoundError, UserErrorCode

Info = strawberry.Info[Context, None]
audit = logging.getLogger("gateway.audit")


@strawberry.type
class EventMutations:
    @strawberry.mutation(
        description="Send a dead (or delivered) event delivery again, with the same event id "
        "and a fresh count of attempts; the delivery workers pick it up within "
        "CATALOG_EVENTS_POLL_S. Needs events:manage.",
        extensions=requires(Scope.EVENTS_MANAGE),
    )
    async def event_redeliver(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The delivery's id.")],
    ) -> EventRedeliverPayload | None:
        try:
            delivery = await redeliver(info.context.catalog.db, str(id), info.context.now)
        except DeliveryNotFoundError as error:
            return EventRedeliverPayload(
                delivery=None,
                errors=[
                    NotFoundError(path=["id"], code=UserErrorCode.NOT_FOUND, message=error.message)
                ],
            )
        except NotRedeliverableError as error:
            return EventRedeliverPayload(
                delivery=None,
                errors=[InputError(path=["id"], code=UserErrorCode.INVALID, message=error.message)],
            )
        audit.info(
            "event delivery %s (event %s to %s) redelivered by %s, request %s",
            delivery.id,
            delivery.event_id,
            delivery.subscription,
            info.context.principal.label,
            info.context.request_id,
        )
        return EventRedeliverPayload(delivery=EventDelivery.of(delivery), errors=[])
