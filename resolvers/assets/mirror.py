"""The ``assets`` mirror of Cloudinary: mapping API resources to documents, storing them, and
loading them per request in batches (MongoDB first, the Admin API only for what is not mirrored).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from resolvers.assets.dam import DamBudgetExhaustedError, DamClient, DamUnavailableError
from resolvers.batching import Loader
from resolvers.db import Collection, Document, as_utc
from resolvers.documents import PUBLISHED
from resolvers.raw_documents import RawDocuments, find_documents

log = logging.getLogger(__name__)

DUPLICATE_KEY = 11000
# The mirror status of an asset Cloudinary told us it deleted (a tombstone).
DELETED = "deleted"

# (resource type, public id): Cloudinary public ids are unique per resource type.
AssetKey = tuple[str, str]

# Structured metadata fields (external ids) the gateway reads.
METADATA_USAGE_CHANNELS = "usage_channels"
METADATA_LIFECYCLE = "lifecycle_stage"
METADATA_VALID_FROM = "valid_from"
METADATA_VALID_TO = "valid_to"
# Ingest records its verdict in the asset's own context, so Cloudinary stays the source of truth
# and a re-read (webhook, Admin API) never turns a rejected asset back into a deliverable one.
CONTEXT_STATUS = "catalog_status"
CONTEXT_REJECT_REASONS = "catalog_reject_reasons"
REASON_SEPARATOR = " | "
# On a missing mark: whether a published product references the asset (a shorter TTL).
PUBLISHED_REFERENCE = "publishedReference"


def _parse_date(value: Any, *, end_of_day: bool = False) -> datetime | None:
    """A metadata date as an instant in UTC.

    Cloudinary's date fields hold a day ("2025-06-30"); a window that ends on a day includes
    that whole day, so an end date means the next midnight.
    """
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        log.warning("ignoring unparsable date %r in asset metadata", value)
        return None
    if len(text) == 10 and end_of_day:  # a bare date
        parsed += timedelta(days=1)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _custom_context(resource: dict[str, Any]) -> dict[str, str]:
    context = resource.get("context") or {}
    custom = context.get("custom", context) if isinstance(context, dict) else {}
    return {str(k): str(v) for k, v in custom.items()} if isinstance(custom, dict) else {}


def asset_from_resource(resource: dict[str, Any], now: datetime, source: str) -> Document:
    """The mirror document for an Upload/Admin API resource (or an upload notification)."""
    context = _custom_context(resource)
    metadata = resource.get("metadata") or {}
    tags = list(resource.get("tags") or [])
    tag_values = {t.split(":", 1)[0]: t.split(":", 1)[1] for t in tags if ":" in t}
    rejected = context.get(CONTEXT_STATUS) == "rejected"
    document: Document = {
        "publicId": resource["public_id"],
        "resourceType": resource.get("resource_type", "image"),
        "status": "rejected" if rejected else "active",
        "rejectReasons": context.get(CONTEXT_REJECT_REASONS, "").split(REASON_SEPARATOR)
        if rejected
        else None,
        "format": resource.get("format"),
        "width": resource.get("width"),
        "height": resource.get("height"),
        "bytes": resource.get("bytes"),
        "version": resource.get("version"),
        "tags": tags,
        "alt": {key[4:]: value for key, value in context.items() if key.startswith("alt_")},
        "role": context.get("role") or tag_values.get("role"),
        "sku": context.get("sku") or tag_values.get("sku"),
        "variantSku": context.get("variant_sku") or tag_values.get("variant"),
        "poster": context.get("poster"),
        "usageChannels": _channels(metadata.get(METADATA_USAGE_CHANNELS)),
        "lifecycle": metadata.get(METADATA_LIFECYCLE) or context.get("lifecycle"),
        "validFrom": _parse_date(metadata.get(METADATA_VALID_FROM)),
        "validTo": _parse_date(metadata.get(METADATA_VALID_TO), end_of_day=True),
        "phash": resource.get("phash"),
        "source": source,
        "checkedAt": now,
        "updatedAt": now,
    }
    if resource.get("duration") is not None:
        document["duration"] = float(resource["duration"])
    return {k: v for k, v in document.items() if v is not None or k in ("validFrom", "validTo")}


def _channels(value: Any) -> list[str] | None:
    if value in (None, "", []):
        return None
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(v) for v in value]


def key_of(document: Document) -> AssetKey:
    return (document["resourceType"], document["publicId"])


async def upsert_assets(assets: Collection, documents: Iterable[Document]) -> int:
    """Write mirror documents; a newer Cloudinary version is never overwritten by an older one.

    Notifications arrive late, twice or out of order, and Admin API reads race them: only a
    record at least as new as the stored one (or the first one) is written.
    """
    operations = []
    for document in documents:
        fields = {k: v for k, v in document.items() if k != "_id"}
        selector: dict[str, Any] = {
            "publicId": document["publicId"],
            "resourceType": document["resourceType"],
        }
        version = document.get("version")
        if version is not None:
            selector["$or"] = [
                {"version": {"$lt": version}},
                # Cloudinary deleted this very version: a late copy of its upload must not
                # bring it back (a re-upload has a newer version).
                {"version": version, "status": {"$ne": DELETED}},
                {"version": {"$exists": False}},
            ]
        operations.append(UpdateOne(selector, {"$set": fields}, upsert=True))
    if not operations:
        return 0
    try:
        result = await assets.bulk_write(operations, ordered=False)
    except BulkWriteError as exc:
        # A newer version is stored: the upsert's insert hits the unique key. Anything else
        # is a real failure.
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        details = exc.details
        return int(details.get("nUpserted", 0)) + int(details.get("nModified", 0))
    return result.upserted_count + result.modified_count


async def mark_missing(
    assets: Collection,
    keys: Iterable[AssetKey],
    now: datetime,
    published: AbstractSet[str] = frozenset(),
) -> None:
    """Remember that Cloudinary has no such asset, so the request path does not ask again.

    ``published``: the public ids that published products reference; their marks are
    believed for a shorter time (``published_missing_ttl``), a hole in a live page costs more
    than an Admin API call."""
    operations = []
    for key in keys:
        fields: dict[str, Any] = {
            "status": "missing",
            "checkedAt": now,
            "updatedAt": now,
            PUBLISHED_REFERENCE: key[1] in published,
        }
        operations.append(
            UpdateOne({"publicId": key[1], "resourceType": key[0]}, {"$set": fields}, upsert=True)
        )
    if operations:
        await assets.bulk_write(operations, ordered=False)


async def mark_deleted(
    assets: Collection, deletions: Mapping[AssetKey, int | None], now: datetime
) -> list[AssetKey]:
    """Record Cloudinary's deletions (key → deleted version, when known); returns the keys of
    the mirror records marked deleted.

    Only mirrored assets get a tombstone: a deletion of one never seen (another folder of the
    account, or a list of made-up ids) writes nothing. A deletion older than the stored version
    (a late or replayed notification after a newer upload) changes nothing either.
    """
    public_ids = list({public_id for _, public_id in deletions})
    stored: dict[AssetKey, Any] = {}
    query = {"publicId": {"$in": public_ids}}
    async for document in assets.find(query, {"publicId": 1, "resourceType": 1, "version": 1}):
        stored[key_of(document)] = document.get("version")
    marked: list[AssetKey] = []
    operations = []
    for key, version in deletions.items():
        if key not in stored or (version is not None and _newer(stored[key], version)):
            continue
        selector: dict[str, Any] = {"publicId": key[1], "resourceType": key[0]}
        fields: dict[str, Any] = {"status": DELETED, "checkedAt": now, "updatedAt": now}
        if version is not None:
            # Checked again in the write: an upload may land between the read and it.
            selector["$or"] = [{"version": {"$lte": version}}, {"version": {"$exists": False}}]
            fields["version"] = version
        operations.append(UpdateOne(selector, {"$set": fields}))
        marked.append(key)
    if operations:
        await assets.bulk_write(operations, ordered=False)
    return marked


async def published_references(assets: Collection, public_ids: Iterable[str]) -> set[str]:
    """Which of these public ids published products reference (their media)."""
    wanted = list(dict.fromkeys(public_ids))
    if not wanted:
        return set()
    products = assets.database["products"]
    query = {"status": PUBLISHED, "media.publicId": {"$in": wanted}}
    referenced = await products.distinct("media.publicId", query)
    return set(referenced) & set(wanted)


def missing_ttl_of(
    document: Document, missing_ttl: timedelta, published_missing_ttl: timedelta | None
) -> timedelta:
    """How long this missing mark is believed."""
    if published_missing_ttl is not None and document.get(PUBLISHED_REFERENCE):
        return min(missing_ttl, published_missing_ttl)
    return missing_ttl


def _newer(stored: Any, version: int) -> bool:
    return isinstance(stored, int) and stored > version


# What the request path never reads from a mirror record (bookkeeping and ingest data): a third
# of its bytes, left in MongoDB.
UNREAD_BY_RESOLVERS: dict[str, Any] = {
    "_id": 0,
    "tags": 0,
    "sku": 0,
    "variantSku": 0,
    "source": 0,
    "updatedAt": 0,
    "phash": 0,
    "fingerprint": 0,  # resolvers.assets.fingerprint: 2 kB, for the audit only
}


class AssetByKeyLoader(Loader[AssetKey, Document | None]):
    """Assets of a whole page in one MongoDB query; unmirrored ones from the Admin API in
    batches of 100, then mirrored, so that at steady state no Admin API call is made."""

    def __init__(
        self,
        assets: Collection,
        dam: DamClient | None,
        *,
        max_batch_size: int,
        missing_ttl: timedelta,
        now: Callable[[], datetime],
        warn: Callable[[str, str], None],
        on_mirrored: Callable[[list[str]], None] = lambda public_ids: None,
        published_missing_ttl: timedelta | None = None,
        raws: RawDocuments | None = None,
    ) -> None:
        super().__init__(max_batch_size=max_batch_size)
        self.assets = assets
        self.dam = dam
        # Where the mirror's records' BSON is recorded (resolvers.raw_documents).
        self.raws = raws
        self.missing_ttl = missing_ttl
        # None: every missing mark lasts ``missing_ttl``, and marking asks no more questions.
        self.published_missing_ttl = published_missing_ttl
        self.now = now
        self.warn = warn
        self.on_mirrored = on_mirrored

    async def batch_load_fn(self, keys: Sequence[AssetKey]) -> list[Document | None]:
        public_ids = list({public_id for _, public_id in keys})
        found: dict[AssetKey, Document] = {}
        query = {"publicId": {"$in": public_ids}}
        for document in await find_documents(
            self.assets, query, UNREAD_BY_RESOLVERS, self.raws, batch_size=len(keys) + 1
        ):
            found[key_of(document)] = document
        now = self.now()
        stale = [
            key
            for key in dict.fromkeys(keys)
            if key not in found
            or (
                found[key]["status"] == "missing"
                and as_utc(found[key]["checkedAt"])
                < now - missing_ttl_of(found[key], self.missing_ttl, self.published_missing_ttl)
            )
        ]
        if stale and self.dam is not None:
            found.update(await self._fetch(stale, now))
        return [found.get(key) for key in keys]

    async def _fetch(self, keys: list[AssetKey], now: datetime) -> dict[AssetKey, Document]:
        by_type: dict[str, list[str]] = {}
        for resource_type, public_id in keys:
            by_type.setdefault(resource_type, []).append(public_id)
        # Images and videos are asked together, so they share the request's deadline rather
        # than waiting one after the other; the breaker logs what went wrong (once per outage).
        answers = await asyncio.gather(
            *(
                self._lookup(resource_type, public_ids)
                for resource_type, public_ids in by_type.items()
            )
        )
        documents: list[Document] = []
        absent: list[AssetKey] = []
        for (resource_type, public_ids), resources in zip(by_type.items(), answers, strict=True):
            if resources is None:
                continue
            found = {r["public_id"] for r in resources}
            documents += [asset_from_resource(r, now, "admin-api") for r in resources]
            absent += [(resource_type, p) for p in public_ids if p not in found]
        # One write per collection for the whole batch: a rescore per resource type wrote the
        # same products' scores twice.
        await upsert_assets(self.assets, documents)
        published: set[str] = set()
        if absent and self.published_missing_ttl is not None:
            # One more query, only when Cloudinary was asked and lacked something.
            published = await published_references(self.assets, (p for _, p in absent))
        await mark_missing(self.assets, absent, now, published)
        if documents:
            # Stored readiness counted these as missing: the products need rescoring.
            self.on_mirrored([d["publicId"] for d in documents])
        fetched = {key_of(d): d for d in documents}
        for key in absent:
            fetched[key] = {
                "publicId": key[1],
                "resourceType": key[0],
                "status": "missing",
                "checkedAt": now,
                "updatedAt": now,
                PUBLISHED_REFERENCE: key[1] in published,
            }
        return fetched

    async def _lookup(
        self, resource_type: str, public_ids: list[str]
    ) -> list[dict[str, Any]] | None:
        """What the Admin API has of these ids, or None (with a warning for the response) when
        it could not be asked; never an exception, so that the other type's answer is kept."""
        assert self.dam is not None
        try:
            return await self.dam.resources_by_ids(public_ids, resource_type)
        except DamBudgetExhaustedError as exc:
            log.debug("Admin API lookup of %d assets skipped: %s", len(public_ids), exc)
            self.warn(
                "DAM_BUDGET_EXHAUSTED",
                "this request has spent its share of Cloudinary's Admin API; assets not "
                "mirrored yet got placeholders (a later request mirrors them)",
            )
        except DamUnavailableError as exc:
            log.debug("Admin API lookup of %d assets failed: %s", len(public_ids), exc)
            # The client learns what happened; the details (hosts, errors) stay in the log.
            self.warn(
                "DAM_UNAVAILABLE",
                f"Cloudinary could not be asked about {len(public_ids)} asset(s); "
                "placeholders were used where the mirror had nothing",
            )
        return None
