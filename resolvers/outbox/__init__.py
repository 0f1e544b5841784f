"""Outbound events: change events from the transactional outbox (``change_events``,
``category_events``) delivered to webhook subscriptions, signed, retried, in order per product.

``subscriptions`` reads ``event_subscriptions.toml``; ``fanout`` turns new events into
deliveries; ``payload`` builds their body; ``signing`` signs it (Standard Webhooks); ``store``
keeps every delivery's state in MongoDB; ``worker`` runs passes of fan-out and sending.
"""

from resolvers.outbox.store import (
    Delivery,
    DeliveryNotFoundError,
    NotRedeliverableError,
    Status,
    list_deliveries,
    redeliver,
)
from resolvers.outbox.subscriptions import (
    Subscription,
    SubscriptionConfigError,
    load_subscriptions,
)
from resolvers.outbox.worker import DeliveryWorker, PassReport

__all__ = [
    "Delivery",
    "DeliveryNotFoundError",
    "DeliveryWorker",
    "NotRedeliverableError",
    "PassReport",
    "Status",
    "Subscription",
    "SubscriptionConfigError",
    "list_deliveries",
    "load_subscriptions",
    "redeliver",
]
