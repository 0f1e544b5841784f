"""Collections of the catalog database and the indexes the API relies on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, TEXT, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from resolvers.locales import name_collation

log = logging.getLogger(__name__)

Document = dict[str, Any]
Database = AsyncDatabase[Document]
Collection = AsyncCollection[Document]
# In a change stream's $project: the names of the fields an update set ([] for other events),
# without their values (a product's can be large).
UPDATED_FIELD_NAMES: Document = {
    "$map": {
        "input": {"$objectToArray": {"$ifNull": ["$updateDescription.updatedFields", {}]}},
        "in": "$$this.k",
    }
}

TEXT_INDEX = "search_text"
# One collection of published snapshots per channel ("publications.web", …).
PUBLICATIONS_PREFIX = "publications."
INDEX_NOT_FOUND = 27
IMPORT_JOBS = "import_jobs"
IMPORT_JOB_TTL = timedelta(days=30)
IMPORT_JOB_TTL_INDEX = "updated_at_ttl"


@dataclass(frozen=True, slots=True)
class Catalog:
    """The catalog's collections, resolved once per process."""

    db: Database

    @property
    def products(self) -> Collection:
        return self.db["products"]

    @property
    def categories(self) -> Collection:
        return self.db["categories"]

    @property
    def attributes(self) -> Collection:
        return self.db["attributes"]

    @property
    def assets(self) -> Collection:
        """The mirror of Cloudinary's asset records."""
        return self.db["assets"]

    @property
    def api_keys(self) -> Collection:
        """API key records (hashed secrets only), keyed by key id."""
        return self.db["api_keys"]

    @property
    def notifications(self) -> Collection:
        """Cloudinary notifications already received, kept while their signature is valid."""
        return self.db["notifications"]

    @property
    def persisted_queries(self) -> Collection:
        """Query texts by SHA-256: APQ registrations (expiring) and the safelist (not)."""
        return self.db["persisted_queries"]

    @property
    def idempotency(self) -> Collection:
        """Results of mutations sent with an ``Idempotency-Key``, kept until ``expiresAt``."""
        return self.db["idempotency"]

    @property
    def change_events(self) -> Collection:
        """Product history, append-only: one event per write that changed something."""
        return self.db["change_events"]

    def publications(self, channel: str) -> Collection:
        """What storefronts of ``channel`` read: one snapshot per product published on it, in
        the shape of ``products`` and under the product's ``_id`` (resolvers.workflow)."""
        return self.db[f"{PUBLICATIONS_PREFIX}{channel}"]

    @property
    def category_events(self) -> Collection:
        """Category history, append-only, in the shape of ``change_events`` with ``slug`` for
        ``sku`` (apart: ``change_events``' unique ``(sku, revision)`` has no room for them)."""
        return self.db["category_events"]

    @property
    def import_jobs(self) -> Collection:
        """Import jobs started over the API (``resolvers.imports.store``), kept for
        ``CATALOG_IMPORT_JOB_TTL_DAYS`` after their last update."""
        return self.db[IMPORT_JOBS]


def _text_index(locales: Sequence[str]) -> IndexModel:
    keys: list[tuple[str, Any]] = [("sku", TEXT), ("brand", TEXT)]
    weights: dict[str, int] = {"sku": 10, "brand": 5}
    for locale in locales:
        keys += [(f"name.{locale}", TEXT), (f"description.{locale}", TEXT)]
        weights[f"name.{locale}"] = 8
        weights[f"description.{locale}"] = 1
    # "none": no stemming or stop words, because one index serves every content language.
    return IndexModel(keys, name=TEXT_INDEX, weights=weights, default_language="none")


def product_indexes(locales: Sequence[str]) -> list[IndexModel]:
    """Indexes behind lookups, filters and every sort (each sort ends in ``_id`` for stability)."""
    models = [
        IndexModel([("sku", ASCENDING)], name="sku_unique", unique=True),
        # The default listing sort (sku, then _id as the keyset tie-breaker).
        IndexModel([("sku", ASCENDING), ("_id", ASCENDING)], name="sku_id"),
        IndexModel(
            [("variants.sku", ASCENDING)],
            name="variant_sku_unique",
            unique=True,
            # Products without variants have no key at all and must not collide on null.
            partialFilterExpression={"variants.sku": {"$exists": True}},
        ),
        IndexModel([("categories", ASCENDING), ("_id", ASCENDING)], name="categories"),
        IndexModel([("brand", ASCENDING), ("_id", ASCENDING)], name="brand"),
        IndexModel([("status", ASCENDING), ("_id", ASCENDING)], name="status"),
        IndexModel([("updatedAt", DESCENDING), ("_id", DESCENDING)], name="updated_at"),
        IndexModel([("createdAt", DESCENDING), ("_id", DESCENDING)], name="created_at"),
        IndexModel([("attributes.$**", ASCENDING)], name="attributes_wildcard"),
        IndexModel([("variants.options.$**", ASCENDING)], name="variant_options_wildcard"),
        IndexModel([("media.publicId", ASCENDING)], name="media_public_id"),
        _text_index(locales),
    ]
    models += [
        IndexModel(
            [(f"name.{locale}", ASCENDING), ("_id", ASCENDING)],
            name=f"name_{locale}_collated",
            collation=name_collation(locale),
        )
        for locale in locales
    ]
    return models


def category_indexes() -> list[IndexModel]:
    return [
        IndexModel([("slug", ASCENDING)], name="slug_unique", unique=True),
        IndexModel([("ancestors", ASCENDING)], name="ancestors"),
        IndexModel([("parent", ASCENDING), ("position", ASCENDING)], name="parent_position"),
    ]


def asset_indexes() -> list[IndexModel]:
    return [
        IndexModel(
            [("publicId", ASCENDING), ("resourceType", ASCENDING)],
            name="public_id_unique",
            unique=True,
        ),
        IndexModel([("sku", ASCENDING)], name="sku"),
        IndexModel([("phash", ASCENDING)], name="phash", sparse=True),
    ]


def notification_indexes() -> list[IndexModel]:
    # A notification's _id is its delivery (resolvers.assets.sync.claim_delivery), unique by
    # nature; the TTL index forgets it once a replay would be refused as stale anyway.
    return [IndexModel([("expiresAt", ASCENDING)], name="expires_at_ttl", expireAfterSeconds=0)]


def attribute_indexes() -> list[IndexModel]:
    return [IndexModel([("code", ASCENDING)], name="code_unique", unique=True)]


def change_event_indexes() -> list[IndexModel]:
    return [
        # Product.history, and the events since a revision that a stale write is checked on;
        # unique, so two writers can never record the same revision of a product. Workflow
        # events (resolvers.workflow) name the revision they concern and carry a ``transition``
        # id of their own, so any number of them share a revision; content events have none.
        IndexModel(
            [("sku", ASCENDING), ("revision", DESCENDING), ("transition", ASCENDING)],
            name=EVENT_REVISION_INDEX,
            unique=True,
        ),
        # changeEvents(filter), newest first by (at, _id): by time alone, or by one equality
        # filter over time. Each index ends with the sort's keys, so a page is an index walk
        # that stops after it, whatever the filter matches (resolvers.history).
        IndexModel([("at", DESCENDING), ("_id", DESCENDING)], name="at"),
        *(
            IndexModel([(field, ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)], name=name)
            for field, name in (
                ("sku", "sku_at_id"),
                ("actor.label", "actor_at_id"),
                ("actor.source", "source_at_id"),
                ("importJob", "import_job_at_id"),
                ("requestId", "request_at_id"),
            )
        ),
    ]


# The unique (sku, revision) index before workflow events: it refused a second event of one
# revision, so ensure_indexes replaces it.
EVENT_REVISION_INDEX = "sku_revision_transition"
OLD_EVENT_REVISION_INDEX = "sku_revision"


def category_event_indexes() -> list[IndexModel]:
    # One event per revision of a category, as for products; history reads slug, revision desc.
    return [
        IndexModel(
            [("slug", ASCENDING), ("revision", DESCENDING)], name="slug_revision", unique=True
        ),
        IndexModel([("at", DESCENDING), ("_id", DESCENDING)], name="at"),
    ]


def idempotency_indexes() -> list[IndexModel]:
    # _id is the key (scoped to the principal that sent it), unique by nature; the TTL index
    # forgets a result once a repeat would no longer be answered from it (24 h).
    return [IndexModel([("expiresAt", ASCENDING)], name="expires_at_ttl", expireAfterSeconds=0)]


SAFELIST_INDEX = "safelisted"


def persisted_query_indexes() -> list[IndexModel]:
    return [
        # APQ registrations carry expiresAt; safelisted operations have none and stay.
        IndexModel([("expiresAt", ASCENDING)], name="expires_at_ttl", expireAfterSeconds=0),
        # Replicas reread the safelist's ids often; APQ registrations stay out of this index.
        IndexModel(
            [("safelisted", ASCENDING)],
            name=SAFELIST_INDEX,
            partialFilterExpression={"safelisted": True},
        ),
    ]


def import_job_indexes(ttl: timedelta = IMPORT_JOB_TTL) -> list[IndexModel]:
    # On updatedAt, not finishedAt: a finished job's updatedAt is when it finished, while a job
    # whose process died keeps its last heartbeat there and finishedAt null, which a TTL index
    # never expires. A running job's heartbeat keeps it young.
    return [
        IndexModel(
            [("updatedAt", ASCENDING)],
            name=IMPORT_JOB_TTL_INDEX,
            expireAfterSeconds=int(ttl.total_seconds()),
        )
    ]


def readiness_indexes(channels: Sequence[str]) -> list[IndexModel]:
    """Behind the readiness filter and sort on stored scores."""
    return [
        IndexModel(
            [(f"readiness.{channel}.score", ASCENDING), ("_id", ASCENDING)],
            name=f"readiness_{channel}",
        )
        for channel in channels
    ]


def schedule_indexes(channels: Sequence[str]) -> list[IndexModel]:
    """Behind the scheduler's look for due publications (resolvers.workflow): only scheduled
    products are in them, so they cost the other writes nothing."""
    return [
        IndexModel(
            [(f"workflow.{channel}.scheduledAt", ASCENDING)],
            name=f"scheduled_{channel}",
            partialFilterExpression={f"workflow.{channel}.state": "SCHEDULED"},
        )
        for channel in channels
    ]


async def ensure_indexes(
    catalog: Catalog,
    locales: Sequence[str],
    channels: Sequence[str] = (),
    *,
    import_job_ttl: timedelta = IMPORT_JOB_TTL,
) -> None:
    """Create the indexes; safe to run on every start and from many replicas at once."""

    async def products() -> None:
        await _sync_text_index(catalog.products, locales)
        await catalog.products.create_indexes(
            product_indexes(locales) + readiness_indexes(channels) + schedule_indexes(channels)
        )

    async def publications(channel: str) -> None:
        collection = catalog.publications(channel)
        await _sync_text_index(collection, locales)
        await collection.create_indexes(product_indexes(locales) + readiness_indexes(channels))

    async def events() -> None:
        await catalog.change_events.create_indexes(change_event_indexes())
        await _drop_index(catalog.change_events, OLD_EVENT_REVISION_INDEX)

    async def import_jobs() -> None:
        jobs = import_job_indexes(import_job_ttl)
        await _sync_ttl(catalog.import_jobs, jobs[0])
        await catalog.import_jobs.create_indexes(jobs)

    # One collection's indexes per command, the collections side by side: a fresh database (every
    # replica's first start, every test's) gets its ~140 indexes in a third of the time.
    await asyncio.gather(
        products(),
        *(publications(channel) for channel in channels),
        catalog.categories.create_indexes(category_indexes()),
        catalog.attributes.create_indexes(attribute_indexes()),
        catalog.assets.create_indexes(asset_indexes()),
        catalog.notifications.create_indexes(notification_indexes()),
        events(),
        catalog.category_events.create_indexes(category_event_indexes()),
        catalog.idempotency.create_indexes(idempotency_indexes()),
        catalog.persisted_queries.create_indexes(persisted_query_indexes()),
        import_jobs(),
    )


async def _drop_index(collection: Collection, name: str) -> None:
    async for index in await collection.list_indexes():
        if index["name"] == name:
            try:
                await collection.drop_index(name)
            except OperationFailure as exc:
                if exc.code != INDEX_NOT_FOUND:  # another replica dropped it first
                    raise


async def _sync_ttl(collection: Collection, model: IndexModel) -> None:
    # createIndexes refuses an index whose expireAfterSeconds changed (IndexOptionsConflict);
    # collMod changes it in place, without rebuilding the index.
    wanted = model.document["expireAfterSeconds"]
    async for index in await collection.list_indexes():
        if index["name"] == model.document["name"] and index.get("expireAfterSeconds") != wanted:
            log.info(
                "%s: expireAfterSeconds %s → %s",
                index["name"],
                index.get("expireAfterSeconds"),
                wanted,
            )
            await collection.database.command(
                "collMod",
                collection.name,
                index={"name": index["name"], "expireAfterSeconds": wanted},
            )


async def _sync_text_index(products: Collection, locales: Sequence[str]) -> None:
    # A collection has at most one text index; when the configured locales change, its fields
    # change and createIndexes would fail with IndexOptionsConflict, so rebuild it.
    wanted = _text_index(locales).document["weights"]
    async for index in await products.list_indexes():
        if index["name"] == TEXT_INDEX and dict(index.get("weights", {})) != wanted:
            log.info("locales changed: rebuilding the product text index")
            try:
                await products.drop_index(TEXT_INDEX)
            except OperationFailure as exc:
                if exc.code != INDEX_NOT_FOUND:  # another replica dropped it first
                    raise


def as_utc(moment: datetime) -> datetime:
    """A datetime read from MongoDB, in UTC: PyMongo answers naive ones (UTC) unless the
    client is tz_aware."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
