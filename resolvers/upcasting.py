"""Document evolution: product documents of older ``schemaVersion``s read as the current shape.

Every reader that hands product documents to the rest of the code (the product loaders, the
listing page) passes them through :func:`upcast`. A current document costs a dict lookup and an
int comparison; an older one goes through the registered steps, each a pure function from
version N to N+1 (:data:`UPCASTERS`), so a step is written once and never has to know about
later versions. Documents are upgraded in the database lazily by writes (writers always store
the current version) or all at once by :func:`migrate_products` (``catalog-gateway migrate``).

A document from the future (``schemaVersion`` above :data:`SCHEMA_VERSION`, written by a newer
gateway during a rolling deploy, or by hand) is refused with :class:`FutureDocumentError`:
reading it as the current shape could silently drop or misread what the newer version added.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pymongo import UpdateOne

from resolvers.db import Collection, Document
from resolvers.documents import SCHEMA_VERSION

# The version of a product document that has no ``schemaVersion``: the first shape had it
# optional in practice (fixtures and early imports left it out).
FIRST_VERSION: Final = 1


class FutureDocumentError(Exception):
    """A product document this gateway cannot read: its version is newer, or unreadable."""

    def __init__(self, sku: Any, version: Any) -> None:
        super().__init__(
            f"product {sku!r} has schemaVersion {version!r}, which this gateway cannot read "
            f"(it reads versions {FIRST_VERSION} to {SCHEMA_VERSION}): upgrade the gateway, "
            "or check who wrote that document"
        )
        self.sku = sku
        self.version = version


def _v1_to_v2(document: Document) -> Document:
    """adds revision (every write increments it); a v1 document is at revision 1"""
    return {**document, "revision": 1, "schemaVersion": 2}


# Step N turns a version-N document into a version-N+1 one, without mutating its argument.
# One per version below SCHEMA_VERSION (tests/resolvers/test_upcasting.py checks that).
UPCASTERS: Final[dict[int, Callable[[Document], Document]]] = {1: _v1_to_v2}


def schema_version(document: Mapping[str, Any]) -> Any:
    """The document's ``schemaVersion`` as stored (``FIRST_VERSION`` when it has none)."""
    return document.get("schemaVersion", FIRST_VERSION)


def upcast(document: Document) -> Document:
    """``document`` in the current shape: itself when current, else a new upgraded dict.

    Raises :class:`FutureDocumentError` (naming the SKU) for a version this gateway cannot
    read: newer than :data:`SCHEMA_VERSION`, below 1, or not a whole number.
    """
    version = document.get("schemaVersion", FIRST_VERSION)
    if version == SCHEMA_VERSION:
        return document
    if type(version) is not int or not FIRST_VERSION <= version < SCHEMA_VERSION:
        raise FutureDocumentError(document.get("sku"), version)
    for step in range(version, SCHEMA_VERSION):
        document = UPCASTERS[step](document)
    return document


def upcast_all(documents: list[Document]) -> list[Document]:
    """:func:`upcast` of each; the list itself when every document is current (the usual case)."""
    if all(d.get("schemaVersion") == SCHEMA_VERSION for d in documents):
        return documents
    return [upcast(d) for d in documents]


def upcast_or_error(document: Document | None) -> Document | FutureDocumentError | None:
    """For dataloaders: the failure of one document is returned for its own key only, so the
    other products of the batch still load (aiodataloader rejects a key whose value is an
    exception)."""
    if document is None:
        return None
    try:
        return upcast(document)
    except FutureDocumentError as exc:
        return exc


# --- Migration --------------------------------------------------------------------------------

DEFAULT_BATCH_SIZE: Final = 500
MAX_BATCH_SIZE: Final = 10_000
_MISSING: Final = object()


@dataclass(slots=True)
class MigrationReport:
    """What :func:`migrate_products` did (or, on a dry run, would do)."""

    dry_run: bool
    before: dict[Any, int]  # products per stored schemaVersion (None: no schemaVersion)
    after: dict[Any, int] = field(default_factory=dict)  # empty on a dry run
    upgraded: dict[Any, int] = field(default_factory=dict)  # per version they were at
    # Changed by someone else between our read and our write: left as they were written.
    skipped: int = 0
    batches: int = 0

    @property
    def total_upgraded(self) -> int:
        return sum(self.upgraded.values())


def _outdated_query() -> dict[str, Any]:
    # Only versions that have a step: future or malformed ones are never rewritten.
    return {
        "$or": [
            {"schemaVersion": {"$in": list(range(FIRST_VERSION, SCHEMA_VERSION))}},
            {"schemaVersion": {"$exists": False}},
        ]
    }


async def count_by_version(products: Collection) -> dict[Any, int]:
    """Products per stored ``schemaVersion`` (``None`` for documents without one)."""
    pipeline = [{"$group": {"_id": "$schemaVersion", "n": {"$sum": 1}}}]
    counts = {row["_id"]: row["n"] async for row in await products.aggregate(pipeline)}
    return dict(
        sorted(counts.items(), key=lambda item: (not isinstance(item[0], int), str(item[0])))
    )


def guarded_update(old: Document, new: Document) -> UpdateOne:
    """The update turning ``old`` into ``new`` in place, applied only if every top-level field
    it rewrites still holds what ``old`` read (``schemaVersion`` is always one of them).

    So a write that landed in between wins: a writer storing the current version, an older
    replica still writing the old one, or a readiness refresh — fields the update does not
    touch (such as ``readiness``) may change freely, and are never overwritten.
    """
    guard: dict[str, Any] = {"_id": old["_id"]}
    set_fields: dict[str, Any] = {}
    unset_fields: dict[str, str] = {}
    for name in old.keys() | new.keys():
        before = old.get(name, _MISSING)
        after = new.get(name, _MISSING)
        if before is not _MISSING and after is not _MISSING and _same(before, after):
            continue
        guard[name] = {"$exists": False} if before is _MISSING else before
        if after is _MISSING:
            unset_fields[name] = ""
        else:
            set_fields[name] = after
    if "schemaVersion" not in guard:
        guard["schemaVersion"] = old.get("schemaVersion", {"$exists": False})
    update: dict[str, Any] = {}
    if set_fields:
        update["$set"] = set_fields
    if unset_fields:
        update["$unset"] = unset_fields
    return UpdateOne(guard, update)


def _same(a: Any, b: Any) -> bool:
    # 1 == True and 1 == 1.0 in Python but not in the stored BSON: compare the types too.
    return type(a) is type(b) and a == b


async def outdated_batch(products: Collection, after_id: Any, size: int) -> list[Document]:
    """Up to ``size`` product documents below :data:`SCHEMA_VERSION` (those with an upcaster),
    in ``_id`` order, after ``after_id`` (from the start when it is None)."""
    query = _outdated_query()
    if after_id is not None:
        query = {"$and": [query, {"_id": {"$gt": after_id}}]}
    # Walks the _id index (no index on schemaVersion is needed): each batch resumes where the
    # previous one stopped, and the whole run reads the collection once.
    return (
        await products.find(query)
        .sort("_id", 1)
        .hint([("_id", 1)])
        .limit(size)
        .batch_size(size + 1)
        .to_list()
    )


async def upgrade_batch(
    products: Collection, batch: list[Document], report: MigrationReport
) -> None:
    """Write ``batch`` (documents as read) back upcast, each update guarded
    (:func:`guarded_update`); counts go to ``report``. Writes nothing on a dry run."""
    report.batches += 1
    # One bulk_write per old version (a batch almost always holds one): its matched count is
    # then exactly how many of that version were upgraded.
    by_version: dict[Any, list[UpdateOne]] = {}
    for old in batch:
        by_version.setdefault(schema_version(old), []).append(guarded_update(old, upcast(old)))
    for version, updates in by_version.items():
        applied = len(updates)
        if not report.dry_run:
            applied = (await products.bulk_write(updates, ordered=False)).matched_count
            report.skipped += len(updates) - applied
        report.upgraded[version] = report.upgraded.get(version, 0) + applied


async def migrate_products(
    products: Collection, *, batch_size: int = DEFAULT_BATCH_SIZE, dry_run: bool = False
) -> MigrationReport:
    """Upgrade every product document below :data:`SCHEMA_VERSION`, ``batch_size`` at a time.

    Each batch is one ``find`` (:func:`outdated_batch`) and one unordered ``bulk_write`` of
    guarded updates (:func:`upgrade_batch`), so the gateway keeps serving and a concurrent
    write is never overwritten. Nothing is remembered between runs: a run stopped halfway is
    resumed by running it again, which finds what is still outdated. ``dry_run`` reads and
    upcasts the same batches and writes nothing (its counts are what a run would upgrade,
    unless someone writes meanwhile).
    """
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch size must be 1 to {MAX_BATCH_SIZE}, not {batch_size}")
    report = MigrationReport(dry_run=dry_run, before=await count_by_version(products))
    last_id: Any = None
    while batch := await outdated_batch(products, last_id, batch_size):
        last_id = batch[-1]["_id"]
        await upgrade_batch(products, batch, report)
    if not dry_run:
        report.after = await count_by_version(products)
    return report


def step_descriptions(version: int) -> list[str]:
    """What upgrading a version-``version`` document does, one line per step."""
    return [
        f"v{step} -> v{step + 1}: {(UPCASTERS[step].__doc__ or '').strip().splitlines()[0]}"
        for step in range(version, SCHEMA_VERSION)
    ]
