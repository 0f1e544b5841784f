"""What a subscriber receives: one JSON body per event, built once and stored with the delivery
so every attempt sends the very same bytes.

``{"id", "type", "schemaVersion", "timestamp", "data": {"sku" | "slug", "productId",
"revision", "operation", "actor": {label, keyId, name, source, endUser}, "changedFields":
[[path...]], "channels", "requestId", "workflow"?: {channel, from, to, note, …}}}``

``type`` is ``<entity>.<operation>``: ``product.update``, ``product.archive``,
``category.create``, and the workflow's transitions (``product.publish`` …) as they are
recorded in ``change_events``. Field values are not sent, only the paths that changed: a
receiver reads what it needs through the API, with its own key's rights.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Source:
    """A collection of events (a transactional outbox) and what its events are about."""

    collection: str
    entity: str
    key_field: str


PRODUCTS = Source("change_events", "product", "sku")
CATEGORIES = Source("category_events", "category", "slug")
SOURCES: tuple[Source, ...] = (PRODUCTS, CATEGORIES)


def event_type(source: Source, event: Mapping[str, Any]) -> str:
    return f"{source.entity}.{event.get('operation', 'update')}"


def event_channels(event: Mapping[str, Any]) -> list[str]:
    """The channels an event is about (a workflow transition names its channel); none: every
    channel (an edit of the working copy)."""
    workflow = event.get("workflow")
    for holder in (event, workflow if isinstance(workflow, Mapping) else {}):
        channels = holder.get("channels")
        if isinstance(channels, list):
            return [str(c) for c in channels]
        channel = holder.get("channel")
        if channel:
            return [str(channel)]
    return []


def actor_source(event: Mapping[str, Any]) -> str | None:
    actor = event.get("actor") or {}
    source = actor.get("source")
    return str(source) if source else None


def body(source: Source, event: Mapping[str, Any]) -> bytes:
    """The JSON body for ``event`` of ``source``."""
    at = event.get("at")
    actor = event.get("actor") or {}
    data: dict[str, Any] = {
        source.key_field: event[source.key_field],
        "revision": event.get("revision"),
        "operation": event.get("operation"),
        "actor": {
            field: actor.get(field) for field in ("label", "keyId", "name", "source", "endUser")
        },
        "changedFields": _paths(event.get("changes") or ()),
        "channels": event_channels(event),
        "requestId": event.get("requestId"),
    }
    if source is PRODUCTS:
        product_id = event.get("productId")
        data["productId"] = str(product_id) if product_id is not None else None
    workflow = event.get("workflow")
    if isinstance(workflow, Mapping):  # a transition: channel, from, to, note, scheduledAt …
        data["workflow"] = {key: _plain(value) for key, value in workflow.items()}
    document = {
        "id": str(event["_id"]),
        "type": event_type(source, event),
        "schemaVersion": SCHEMA_VERSION,
        "timestamp": at.isoformat() if isinstance(at, datetime) else None,
        "data": data,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _plain(value: Any) -> Any:
    """JSON-ready: datetimes in ISO 8601, ids as strings, containers walked."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _paths(changes: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    return [list(change.get("path") or ()) for change in changes]
