"""Change history: the append-only ``change_events`` collection.

One event per write that changed something, inserted in the same transaction as the change:

``{sku, productId, revision, operation, actor: {label, keyId, name, source, endUser},
requestId, importJob, at, changes: [{path: [...], before, after}]}``

``revision`` is the product's revision after the write; ``(sku, revision)`` is unique, so two
writers can never both record one revision (the second's transaction fails and nothing of it
is written). Product.history reads ``sku, revision desc``; changeEvents filters by time and by
``actor.label`` or ``actor.source`` (indexes in ``resolvers.db.change_event_indexes``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pymongo.asynchronous.client_session import AsyncClientSession

from resolvers.access.principal import Principal
from resolvers.db import Catalog, Document
from resolvers.validation.violations import Path
from resolvers.writes.changes import FieldChange, apply

# Workflow events (resolvers.workflow) share change_events and the revision they concern but
# change no content: what is rebuilt or merged from history leaves them out (they alone have a
# ``transition``, the third key of the unique revision index).
CONTENT_EVENTS: dict[str, Any] = {"transition": None}

Operation = Literal["create", "update", "archive", "restore", "revert", "seed"]
"""``seed``: the demo seeder's bulk insert (one event per product, at revision 1)."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who writes: the principal (whose source system ownership checks) and, when a client
    names one (``X-Actor``), the end user it acts for."""

    principal: Principal
    end_user: str | None = None

    def to_document(self) -> Document:
        return {
            "label": self.principal.label,
            "keyId": self.principal.key_id,
            "name": self.principal.name,
            "source": self.principal.source,
            "endUser": self.end_user,
        }


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a write comes from, for history: the request and, for imports, the job."""

    request_id: str | None = None
    import_job: str | None = None


def event_document(
    product: Mapping[str, Any],
    revision: int,
    operation: Operation,
    changes: Sequence[FieldChange],
    actor: Actor,
    provenance: Provenance,
    at: datetime,
) -> Document:
    return {
        "sku": product["sku"],
        "productId": product.get("_id"),
        "revision": revision,
        "operation": operation,
        "actor": actor.to_document(),
        "requestId": provenance.request_id,
        "importJob": provenance.import_job,
        "at": at,
        "changes": [change.to_document() for change in changes],
    }


async def paths_changed_since(
    catalog: Catalog,
    sku: str,
    since: int,
    current: int,
    session: AsyncClientSession | None = None,
) -> list[Path] | None:
    """The paths the writes after revision ``since`` (up to ``current``) changed, in one query;
    None when history lacks one of those revisions (then nothing can be ruled out)."""
    if since >= current:
        return [] if since == current else None
    events = await catalog.change_events.find(
        {"sku": sku, "revision": {"$gt": since, "$lte": current}, **CONTENT_EVENTS},
        {"_id": 0, "revision": 1, "changes.path": 1},
        session=session,
    ).to_list()
    if len(events) != current - since:
        return None
    return [tuple(change["path"]) for event in events for change in event["changes"]]


async def product_history(
    catalog: Catalog, sku: str, *, first: int, before_revision: int | None = None
) -> list[Document]:
    """A page of the product's events, newest first (``Product.history``): the ``first``
    events below ``before_revision`` (the cursor), from the ``sku, revision`` index."""
    query: Document = {"sku": sku, **CONTENT_EVENTS}
    if before_revision is not None:
        query["revision"] = {"$lt": before_revision}
    return await catalog.change_events.find(query).sort("revision", -1).limit(first).to_list()


async def events_after(catalog: Catalog, sku: str, revision: int) -> list[Document]:
    """The product's events after ``revision``, newest first (what a revert undoes)."""
    return (
        await catalog.change_events.find(
            {"sku": sku, "revision": {"$gt": revision}, **CONTENT_EVENTS}
        )
        .sort("revision", -1)
        .to_list()
    )


def state_at(
    current: Mapping[str, Any], newest_first: Iterable[Mapping[str, Any]], revision: int
) -> Document | None:
    """The product as it was at ``revision``: ``current`` with the events after it undone, newest
    first; None when an event in between is missing (history cannot rebuild it)."""
    state = dict(current)
    expected = int(current.get("revision", 1))
    for event in newest_first:
        if event["revision"] != expected:
            return None
        undo = [FieldChange(c.path, c.after, c.before) for c in map(_change, event["changes"])]
        state = apply(state, undo)
        expected -= 1
    return state if expected == revision else None


def _change(document: Mapping[str, Any]) -> FieldChange:
    return FieldChange.from_document(document)
