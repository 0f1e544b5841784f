"""Outbound events at the edge: the subscriptions the settings name, and the delivery worker
the app's lifespan runs (``resolvers.outbox`` does the work)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping
from contextlib import AsyncExitStack

import httpx

from gateway.services import Profiles
from gateway.settings import Settings
from resolvers.db import Database
from resolvers.outbox import DeliveryWorker, Subscription, load_subscriptions

USER_AGENT = "catalog-gateway-events/1"


def event_subscriptions(
    settings: Settings, profiles: Profiles, environ: Mapping[str, str] | None = None
) -> tuple[Subscription, ...]:
    """The enabled subscriptions, checked against the known source systems and channels; a
    SubscriptionConfigError (file, line, reason) when the file or a secret is wrong."""
    return load_subscriptions(
        settings.event_subscriptions_path,
        environ=os.environ if environ is None else environ,
        sources=profiles.roles.sources,
        channels=profiles.channels.names(),
    )


async def start_event_worker(
    stack: AsyncExitStack,
    settings: Settings,
    subscriptions: tuple[Subscription, ...],
    db: Database,
) -> DeliveryWorker | None:
    """Run the delivery worker until ``stack`` closes; None when it is off (no enabled
    subscription, or CATALOG_EVENTS_WORKER=false)."""
    if not settings.events_worker or not subscriptions:
        return None
    # Each attempt sets its own timeout (the subscription's); redirects are not followed, so
    # a signed event goes only where the reviewed configuration says.
    http = httpx.AsyncClient(follow_redirects=False, headers={"user-agent": USER_AGENT})
    stack.push_async_callback(http.aclose)
    worker = DeliveryWorker(db, subscriptions, http)
    task = asyncio.create_task(worker.run(settings.events_poll_s), name="event-deliveries")
    stack.push_async_callback(_cancel, task)  # before the client closes (the stack is LIFO)
    return worker


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
