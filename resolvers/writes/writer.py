"""The one way products are written: validated, checked for ownership, versioned and recorded.

Every write:

1. reads the product (one query) and turns the input (a change set, or a partial product)
   into the document it would leave, then into the change set from the stored document;
2. with ``expected_revision`` older than the stored revision, reads the paths changed since
   (one query on ``change_events``): a change to any of them is a ``VersionConflict`` carrying
   the current revision and values; otherwise the input merges onto the current document.
   A write that changes nothing returns before this, with no revision bump and no event, so
   syncs that re-send what is stored cause no loops;
3. checks ownership and validation: failures are values in the result, never exceptions;
4. ``dry_run``: returns the would-be product and change set, writing nothing;
5. in one transaction, updates the product only if its revision is still the one read
   (compare-and-set) and appends the event; a write that lost the race re-reads and merges
   again, at most ``max_attempts`` times;
6. after commit, recomputes the product's stored readiness with
   ``resolvers.readiness.store.rescore_skus``, the code behind the live field's scores. Products
   that link to it (bundles, accessories) are not rescored: the evaluator reads no linked
   product, so their scores cannot change; rescore them here when a rule starts to.

Validation blocks only what a write makes worse: a violation the stored product already had
(a demo defect, a rule added later) does not stop an unrelated edit, so editors can fix a
product one field at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError, PyMongoError

from resolvers.channels import Channels
from resolvers.db import Catalog, Document
from resolvers.documents import SCHEMA_VERSION
from resolvers.locales import LocaleResolver
from resolvers.readiness.store import rescore_skus
from resolvers.upcasting import upcast
from resolvers.validation import Validator
from resolvers.validation.violations import Path, Violation
from resolvers.writes.changes import (
    BOOKKEEPING,
    FieldChange,
    apply,
    diff,
    merge_patch,
    overlaps,
    read_only_paths,
    value_at,
)
from resolvers.writes.history import (
    Actor,
    Operation,
    Provenance,
    event_document,
    events_after,
    paths_changed_since,
    state_at,
)
from resolvers.writes.ownership import Ownership, OwnershipViolation

Validate = Callable[[Document, Sequence[Document]], Sequence[Violation]]
"""A full product document in the stored shape and its categories' documents → violations
(``validate_with(Validator(rules))`` wires ``resolvers.validation``'s)."""
Patch = Mapping[str, Any]
"""A partial product, merged as ``resolvers.writes.changes.merge_patch`` describes."""
Input = Sequence[FieldChange] | Patch

MAX_ATTEMPTS = 5
# The fields every product has, so that a created product has the stored shape.
EMPTY_PRODUCT: Document = {
    "status": "draft",
    "name": {},
    "description": {},
    "categories": [],
    "attributes": {},
    "variants": [],
    "accessories": [],
    "bundle": [],
    "related": [],
    "media": [],
}


def validate_with(validator: Validator) -> Validate:
    """The writer's ``validate`` over the one validator every writer uses."""

    def validate(document: Document, categories: Sequence[Document]) -> Sequence[Violation]:
        return validator.validate_product(document, categories=categories)

    return validate


def revision_of(document: Mapping[str, Any]) -> int:
    """A product's revision; a schemaVersion 1 document (which has none) is at revision 1."""
    return int(document.get("revision", 1))


def utc_now() -> datetime:
    return datetime.now(UTC)


# Expected failures, returned in WriteResult.failures.


@dataclass(frozen=True, slots=True)
class ValidationFailure:
    violations: tuple[Violation, ...]


@dataclass(frozen=True, slots=True)
class CurrentValue:
    path: Path
    value: Any
    """The stored value (None: absent)."""


@dataclass(frozen=True, slots=True)
class VersionConflict:
    """Fields this write changes were changed since ``expected_revision``: here is what they
    are now, so a client can retry with ``current_revision`` without reading again."""

    expected_revision: int
    current_revision: int
    current: tuple[CurrentValue, ...]


@dataclass(frozen=True, slots=True)
class OwnershipFailure:
    violations: tuple[OwnershipViolation, ...]


@dataclass(frozen=True, slots=True)
class NotFound:
    sku: str


@dataclass(frozen=True, slots=True)
class AlreadyExists:
    sku: str


@dataclass(frozen=True, slots=True)
class RevisionNotFound:
    """A revert target that history cannot rebuild (before the first recorded event)."""

    sku: str
    revision: int


WriteFailure = (
    ValidationFailure
    | VersionConflict
    | OwnershipFailure
    | NotFound
    | AlreadyExists
    | RevisionNotFound
)


@dataclass(frozen=True, slots=True)
class WriteResult:
    product: Document | None
    """After the write; for a dry run, what it would be; on failure, as stored (None: none)."""
    revision: int | None
    """The product's revision after the write (would-be for a dry run; stored on failure)."""
    changes: tuple[FieldChange, ...] = ()
    """What changed (would change, for a dry run); empty for a no-op and on failure."""
    failures: tuple[WriteFailure, ...] = ()
    dry_run: bool = False
    attempts: int = 1
    """Reads and merges it took (more than 1: another writer came in between)."""

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def written(self) -> bool:
        """Whether the database changed (a new revision and event)."""
        return self.ok and bool(self.changes) and not self.dry_run


class _RacedError(Exception):
    """The product's revision moved between the read and the compare-and-set."""


@dataclass(frozen=True, slots=True)
class _Plan:
    stored: Document
    """As read, for the compare-and-set."""
    current: Document
    """Upcast to the current schemaVersion: what changes are computed on."""
    target: Document
    changes: list[FieldChange]


@dataclass(frozen=True, slots=True)
class ProductWriter:
    """Writes products for every writer (mutations, import, webhooks, ingest, seeder)."""

    catalog: Catalog
    validate: Validate
    ownership: Ownership
    channels: Channels
    locales: LocaleResolver
    clock: Callable[[], datetime] = utc_now
    max_attempts: int = MAX_ATTEMPTS

    async def create(
        self,
        document: Mapping[str, Any],
        actor: Actor,
        *,
        provenance: Provenance = Provenance(),
        dry_run: bool = False,
    ) -> WriteResult:
        """A new product at revision 1 (``status`` draft unless given); ``AlreadyExists`` when
        the SKU is taken."""
        if not document.get("sku"):
            missing = Violation(("sku",), "REQUIRED", "a product needs a SKU", "product.sku")
            return WriteResult(None, None, failures=(ValidationFailure((missing,)),))
        sku = str(document["sku"])
        product: Document = {**EMPTY_PRODUCT, **_without_bookkeeping(document), "sku": sku}
        changes = diff({}, product)
        existing = await self.catalog.products.find_one({"sku": sku}, {"_id": 1})
        if existing is not None:
            return WriteResult(None, None, failures=(AlreadyExists(sku),), dry_run=dry_run)
        failures = await self._check(actor, {}, product, changes, new=True)
        now = self.clock()
        product.update(revision=1, schemaVersion=SCHEMA_VERSION, createdAt=now, updatedAt=now)
        if failures:
            return WriteResult(None, None, failures=tuple(failures), dry_run=dry_run)
        if dry_run:
            return WriteResult(product, 1, tuple(changes), dry_run=True)
        client = self.catalog.db.client
        try:
            async with client.start_session() as session, await session.start_transaction():
                inserted = await self.catalog.products.insert_one(product, session=session)
                product["_id"] = inserted.inserted_id
                event = event_document(product, 1, "create", changes, actor, provenance, now)
                await self.catalog.change_events.insert_one(event, session=session)
        except DuplicateKeyError as exc:
            return WriteResult(None, None, failures=(_duplicate(sku, exc),))
        await self._rescore(sku)
        return WriteResult(product, 1, tuple(changes))

    async def update(
        self,
        sku: str,
        changes: Input,
        actor: Actor,
        *,
        expected_revision: int | None,
        provenance: Provenance = Provenance(),
        dry_run: bool = False,
        operation: Operation = "update",
    ) -> WriteResult:
        """Apply ``changes`` (a change set, or a partial product) to the product.

        ``expected_revision``: the revision the client read; None writes without a check
        (last writer wins per field, as an import or a webhook wants).
        """
        if isinstance(changes, Mapping):
            read_only = read_only_paths(changes)
        else:
            read_only = [c.path for c in changes if c.path[0] in BOOKKEEPING]
        if read_only:
            violations = tuple(
                Violation(path, "READ_ONLY", f"{path[0]} cannot be written", "product")
                for path in read_only
            )
            return WriteResult(None, None, failures=(ValidationFailure(violations),))
        for attempt in range(1, self.max_attempts + 1):
            plan = await self._plan(sku, changes)
            if plan is None:
                return WriteResult(None, None, failures=(NotFound(sku),), attempts=attempt)
            current, revision = plan.current, revision_of(plan.current)
            if not plan.changes:
                # Nothing to change cannot conflict, however stale the revision.
                return WriteResult(current, revision, dry_run=dry_run, attempts=attempt)
            if expected_revision is not None and expected_revision != revision:
                conflict = await self._conflict(sku, expected_revision, revision, plan)
                if conflict is not None:
                    return WriteResult(
                        current, revision, failures=(conflict,), dry_run=dry_run, attempts=attempt
                    )
            failures = await self._check(actor, current, plan.target, plan.changes, new=False)
            if failures:
                return WriteResult(
                    current, revision, failures=tuple(failures), dry_run=dry_run, attempts=attempt
                )
            now = self.clock()
            after = {
                **plan.target,
                "revision": revision + 1,
                "schemaVersion": SCHEMA_VERSION,
                "updatedAt": now,
            }
            result = WriteResult(
                after, revision + 1, tuple(plan.changes), dry_run=dry_run, attempts=attempt
            )
            if dry_run:
                return result
            try:
                await self._commit(plan.stored, after, plan.changes, actor, provenance, operation)
            except _RacedError:
                continue
            except DuplicateKeyError as exc:
                failure = _duplicate(sku, exc)
                if not isinstance(failure, ValidationFailure):
                    raise  # (sku, revision) of change_events: history disagrees with the product
                return WriteResult(current, revision, failures=(failure,), attempts=attempt)
            except PyMongoError as exc:
                # Two transactions writing one product: the later one is told to retry.
                if exc.has_error_label("TransientTransactionError"):
                    continue
                raise
            await self._rescore(sku)
            return result
        raise RuntimeError(
            f"product {sku!r}: {self.max_attempts} writers came in between every read and write"
        )

    async def archive(
        self,
        sku: str,
        actor: Actor,
        *,
        expected_revision: int | None = None,
        provenance: Provenance = Provenance(),
        dry_run: bool = False,
    ) -> WriteResult:
        """Status ``archived`` (a no-op when it already is)."""
        return await self.update(
            sku,
            {"status": "archived"},
            actor,
            expected_revision=expected_revision,
            provenance=provenance,
            dry_run=dry_run,
            operation="archive",
        )

    async def restore(
        self,
        sku: str,
        actor: Actor,
        *,
        expected_revision: int | None = None,
        provenance: Provenance = Provenance(),
        dry_run: bool = False,
    ) -> WriteResult:
        """An archived product back to ``draft``: published again only through review."""
        return await self.update(
            sku,
            {"status": "draft"},
            actor,
            expected_revision=expected_revision,
            provenance=provenance,
            dry_run=dry_run,
            operation="restore",
        )

    async def revert_to(
        self,
        sku: str,
        revision: int,
        actor: Actor,
        *,
        provenance: Provenance = Provenance(),
        dry_run: bool = False,
        expected_revision: int | None = None,
    ) -> WriteResult:
        """A new revision whose fields equal those of ``revision``, rebuilt from history.

        ``expected_revision``: the revision the client saw. Unlike an update, any write since
        is a ``VersionConflict`` (naming the fields it changed): reverting would undo it too,
        which the client did not see."""
        stored = await self.catalog.products.find_one({"sku": sku})
        if stored is None:
            return WriteResult(None, None, failures=(NotFound(sku),))
        current = upcast(stored)
        now = revision_of(current)
        if expected_revision is not None and expected_revision != now:
            changed = await paths_changed_since(self.catalog, sku, expected_revision, now)
            values = tuple(
                CurrentValue(p, value_at(current, p)) for p in dict.fromkeys(changed or ())
            )
            conflict = VersionConflict(expected_revision, now, values)
            return WriteResult(current, now, failures=(conflict,), dry_run=dry_run)
        events = await events_after(self.catalog, sku, revision)
        past = state_at(current, events, revision) if revision >= 1 else None
        if past is None:
            return WriteResult(
                current, revision_of(current), failures=(RevisionNotFound(sku, revision),)
            )
        return await self.update(
            sku,
            diff(current, past),
            actor,
            expected_revision=revision_of(current),
            provenance=provenance,
            dry_run=dry_run,
            operation="revert",
        )

    async def _plan(self, sku: str, changes: Input) -> _Plan | None:
        stored = await self.catalog.products.find_one({"sku": sku})
        if stored is None:
            return None
        current = upcast(stored)
        if isinstance(changes, Mapping):
            target = merge_patch(current, changes)
        else:
            target = apply(current, changes)
        return _Plan(stored, current, target, diff(current, target))

    async def _conflict(
        self, sku: str, expected: int, revision: int, plan: _Plan
    ) -> VersionConflict | None:
        changed = await paths_changed_since(self.catalog, sku, expected, revision)
        mine = [change.path for change in plan.changes]
        if changed is None:  # history cannot tell what changed: every path may have
            conflicting = mine
        else:
            conflicting = [p for p in mine if any(overlaps(p, c) for c in changed)]
        if not conflicting:
            return None
        current = tuple(CurrentValue(p, value_at(plan.current, p)) for p in conflicting)
        return VersionConflict(expected, revision, current)

    async def _check(
        self,
        actor: Actor,
        before: Document,
        after: Document,
        changes: list[FieldChange],
        *,
        new: bool,
    ) -> list[WriteFailure]:
        failures: list[WriteFailure] = []
        owned = self.ownership.check(actor.principal, changes)
        if owned:
            failures.append(OwnershipFailure(tuple(owned)))
        categories = await self._categories(before, after)

        def of(document: Document) -> list[Document]:
            return [categories[s] for s in document.get("categories") or [] if s in categories]

        violations = list(self.validate(after, of(after)))
        if not new and violations:
            already = {(v.path, v.code) for v in self.validate(before, of(before))}
            violations = [v for v in violations if (v.path, v.code) not in already]
        if violations:
            failures.append(ValidationFailure(tuple(violations)))
        return failures

    async def _categories(self, before: Document, after: Document) -> dict[str, Document]:
        """The documents of both versions' categories (their required attributes), one query."""
        slugs = list(dict.fromkeys([*before.get("categories", []), *after.get("categories", [])]))
        if not slugs:
            return {}
        found = self.catalog.categories.find({"slug": {"$in": slugs}})
        return {document["slug"]: document async for document in found}

    async def _commit(
        self,
        stored: Document,
        after: Document,
        changes: list[FieldChange],
        actor: Actor,
        provenance: Provenance,
        operation: Operation,
    ) -> None:
        fields = dict.fromkeys(str(change.path[0]) for change in changes)
        if stored.get("schemaVersion") != SCHEMA_VERSION:
            # Writes upgrade older documents lazily: every field in the current shape.
            fields = dict.fromkeys(name for name in [*stored, *after] if name != "_id")
        update: Document = {
            "$set": {
                **{name: after[name] for name in fields if name in after},
                "revision": after["revision"],
                "schemaVersion": after["schemaVersion"],
                "updatedAt": after["updatedAt"],
            }
        }
        removed = {name: "" for name in fields if name not in after}
        if removed:
            update["$unset"] = removed
        # A v1 document has no revision field: it is at revision 1 until a write sets one.
        same_revision: Document = (
            {"revision": stored["revision"]}
            if "revision" in stored
            else {"revision": {"$exists": False}}
        )
        event = event_document(
            stored, after["revision"], operation, changes, actor, provenance, after["updatedAt"]
        )
        client = self.catalog.db.client
        async with client.start_session() as session, await session.start_transaction():
            updated = await self.catalog.products.update_one(
                {"_id": stored["_id"], **same_revision}, update, session=session
            )
            if updated.matched_count == 0:
                raise _RacedError
            await self.catalog.change_events.insert_one(event, session=session)

    async def _rescore(self, sku: str) -> None:
        await rescore_skus(self.catalog, self.channels, self.locales, self.clock(), [sku])


def _without_bookkeeping(document: Mapping[str, Any]) -> Document:
    return {k: v for k, v in document.items() if k not in BOOKKEEPING}


def _duplicate(sku: str, exc: DuplicateKeyError) -> WriteFailure:
    pattern = (exc.details or {}).get("keyPattern") or {}
    if "variants.sku" in pattern:
        value = (exc.details or {}).get("keyValue", {}).get("variants.sku")
        return ValidationFailure(
            (
                Violation(
                    ("variants", str(value)),
                    "DUPLICATE",
                    f"variant SKU {value!r} belongs to another product",
                    "product",
                ),
            )
        )
    return AlreadyExists(sku)


__all__ = [
    "Actor",
    "AlreadyExists",
    "CurrentValue",
    "NotFound",
    "OwnershipFailure",
    "ProductWriter",
    "Provenance",
    "RevisionNotFound",
    "ValidationFailure",
    "VersionConflict",
    "WriteFailure",
    "WriteResult",
    "revision_of",
    "validate_with",
]
