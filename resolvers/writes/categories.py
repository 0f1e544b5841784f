"""Category writes: create, update and move the category tree, with history.

A category document is ``{slug, name: {locale: text}, parent, ancestors, position,
requiredAttributes, revision}``: ``ancestors`` are the slugs from the root down to the parent
(the product listing's category filter reads them), ``position`` orders siblings from 0.

Every write, like ``ProductWriter``'s:

- answers expected failures as values in its ``CategoryResult`` (``SlugTaken``,
  ``CategoryNotFound``, ``CycleFailure``, ``ValidationFailure``), never as exceptions;
- with ``dry_run``, checks everything and returns the would-be category and changes, writing
  nothing;
- writes in one transaction with its event in ``category_events`` (``change_events``' shape
  with ``slug`` for ``sku`` and ``entity: "category"``), bumping the category's ``revision``;
  a write that changes nothing bumps nothing and records nothing.

A move rewrites the ``ancestors`` of the moved subtree in one command and closes the gap it
leaves among its old siblings; the event records the moved category's parent, ancestors and
position (its descendants' ancestors follow from them). Tree writes (create, move) also bump a
lock document, so two moves that each look fine alone (A under B, B under A) cannot both
commit: the second conflicts, is retried and sees the cycle.

Changing ``requiredAttributes`` changes what products of the category must fill: their stored
readiness is recomputed after the commit, by the code behind the live scores. A move changes no
score (readiness reads a product's own categories, not their ancestors).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError, PyMongoError

from resolvers.channels import Channels
from resolvers.db import Catalog, Document
from resolvers.locales import LocaleError, LocaleResolver
from resolvers.readiness.store import rescore_skus
from resolvers.validation.violations import Path, Violation
from resolvers.writes.changes import FieldChange
from resolvers.writes.history import Actor, Provenance
from resolvers.writes.writer import ValidationFailure, utc_now

CategoryOperation = Literal["create", "update", "move"]

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_SLUG_LENGTH = 64
MAX_NAME_LENGTH = 120
MAX_ATTEMPTS = 5
RETRY_DELAY_S = 0.01
# The lock document (collection ``gateway_locks``) every tree write bumps in its transaction.
TREE_LOCK = "category-tree"
# The fields a change set covers, in the order events list them.
FIELDS = ("name", "parent", "ancestors", "position", "requiredAttributes")


@dataclass(frozen=True, slots=True)
class CategoryNotFound:
    slug: str
    path: Path
    """The input naming it: ``("slug",)`` or ``("parent",)``."""


@dataclass(frozen=True, slots=True)
class SlugTaken:
    slug: str


@dataclass(frozen=True, slots=True)
class CycleFailure:
    """A category cannot move under itself or one of its descendants."""

    slug: str
    parent: str


CategoryFailure = ValidationFailure | CategoryNotFound | SlugTaken | CycleFailure


@dataclass(frozen=True, slots=True)
class CategoryResult:
    category: Document | None
    """After the write; for a dry run, what it would be; on failure, as stored (None: none)."""
    changes: tuple[FieldChange, ...] = ()
    failures: tuple[CategoryFailure, ...] = ()
    dry_run: bool = False
    descendants: int = 0
    """Categories under a moved one whose ancestors were (would be) rewritten."""

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def written(self) -> bool:
        return self.ok and bool(self.changes) and not self.dry_run


class _RacedError(Exception):
    """Another write changed what this one read; read again."""


def category_revision(document: Mapping[str, Any]) -> int:
    """A category's revision; categories written before history are at revision 1."""
    return int(document.get("revision", 1))


def category_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    """Field-level changes: one per locale of ``name``, the other fields whole."""
    changes: list[FieldChange] = []
    for name in FIELDS:
        old, new = before.get(name), after.get(name)
        if name == "name":
            old, new = old or {}, new or {}
            changes += [
                FieldChange(("name", tag), old.get(tag), new.get(tag))
                for tag in sorted({*old, *new})
                if old.get(tag) != new.get(tag)
            ]
        elif old != new:
            changes.append(FieldChange((name,), old, new))
    return changes


@dataclass(frozen=True, slots=True)
class CategoryWriter:
    catalog: Catalog
    channels: Channels
    locales: LocaleResolver
    clock: Callable[[], datetime] = utc_now
    max_attempts: int = MAX_ATTEMPTS

    async def create(
        self,
        slug: str,
        name: Mapping[str, str],
        actor: Actor,
        *,
        parent: str | None = None,
        position: int | None = None,
        required_attributes: Sequence[str] = (),
        provenance: Provenance = Provenance(),
        dry_run: bool = False,
    ) -> CategoryResult:
        """A new category under ``parent`` (None: a root) at ``position`` among its siblings
        (None: last; the siblings from there on move down one)."""
        violations = _check_slug(slug) + _check_name(name, replace=True)
        violations += self._check_locales(name) + _check_position(position)
        violations += await self._unknown_attributes(required_attributes)
        if violations:
            return CategoryResult(None, failures=(ValidationFailure(tuple(violations)),))
        required = list(dict.fromkeys(required_attributes))
        canonical = self._canonical(name)
        try:
            return await self._in_tree_transaction(
                slug,
                lambda session: self._create(
                    session, slug, canonical, actor, parent, position, required, provenance, dry_run
                ),
            )
        except DuplicateKeyError:
            return CategoryResult(None, failures=(SlugTaken(slug),), dry_run=dry_run)

    async def _create(
        self,
        session: AsyncClientSession,
        slug: str,
        name: dict[str, str],
        actor: Actor,
        parent: str | None,
        position: int | None,
        required: list[str],
        provenance: Provenance,
        dry_run: bool,
    ) -> CategoryResult:
        categories = self.catalog.categories
        if await categories.find_one({"slug": slug}, {"_id": 1}, session=session):
            return CategoryResult(None, failures=(SlugTaken(slug),), dry_run=dry_run)
        ancestors: list[str] = []
        if parent is not None:
            found = await categories.find_one({"slug": parent}, session=session)
            if found is None:
                failure = CategoryNotFound(parent, ("parent",))
                return CategoryResult(None, failures=(failure,), dry_run=dry_run)
            ancestors = [*(found.get("ancestors") or []), parent]
        siblings = await categories.count_documents({"parent": parent}, session=session)
        at = siblings if position is None else min(position, siblings)
        now = self.clock()
        document: Document = {
            "slug": slug,
            "name": name,
            "parent": parent,
            "ancestors": ancestors,
            "position": at,
            "requiredAttributes": required,
            "revision": 1,
            "createdAt": now,
            "updatedAt": now,
        }
        changes = category_changes({}, document)
        if dry_run:
            return CategoryResult(document, tuple(changes), dry_run=True)
        await self._lock_tree(session)
        await categories.update_many(
            {"parent": parent, "position": {"$gte": at}}, {"$inc": {"position": 1}}, session=session
        )
        inserted = await categories.insert_one(document, session=session)
        document["_id"] = inserted.inserted_id
        await self._record(session, document, "create", changes, actor, provenance, now)
        return CategoryResult(document, tuple(changes))

    async def update(
        self,
        slug: str,
        actor: Actor,
        *,
        name: Mapping[str, str | None] | None = None,
        required_attributes: Sequence[str] | None = None,
        provenance: Provenance = Provenance(),
        dry_run: bool = False,
    ) -> CategoryResult:
        """Merge ``name`` per locale (None removes a locale) and replace ``requiredAttributes``;
        the products of the category are rescored when those change."""
        violations = _check_name(name or {}, replace=False) + self._check_locales(name or {})
        if required_attributes is not None:
            violations += await self._unknown_attributes(required_attributes)
        if violations:
            return CategoryResult(None, failures=(ValidationFailure(tuple(violations)),))
        for attempt in range(self.max_attempts):
            stored = await self.catalog.categories.find_one({"slug": slug})
            if stored is None:
                failure = CategoryNotFound(slug, ("slug",))
                return CategoryResult(None, failures=(failure,), dry_run=dry_run)
            after = dict(stored)
            if name:
                merged = {**(stored.get("name") or {}), **self._canonical(name)}
                after["name"] = {tag: text for tag, text in merged.items() if text is not None}
                if not after["name"]:
                    missing = Violation(
                        ("name",), "REQUIRED", "a category needs a name", "category.name"
                    )
                    return CategoryResult(
                        stored, failures=(ValidationFailure((missing,)),), dry_run=dry_run
                    )
            if required_attributes is not None:
                after["requiredAttributes"] = list(dict.fromkeys(required_attributes))
            changes = category_changes(stored, after)
            if not changes:
                return CategoryResult(stored, dry_run=dry_run)
            now = self.clock()
            after.update(revision=category_revision(stored) + 1, updatedAt=now)
            if dry_run:
                return CategoryResult(after, tuple(changes), dry_run=True)
            try:
                async with self._session() as session, await session.start_transaction():
                    await self._replace(session, stored, after, changes)
                    await self._record(session, after, "update", changes, actor, provenance, now)
            except _RacedError:
                continue
            except PyMongoError as exc:
                if exc.has_error_label("TransientTransactionError"):
                    await _backoff(attempt)
                    continue
                raise
            if any(change.path == ("requiredAttributes",) for change in changes):
                await self._rescore_products_of(slug)
            return CategoryResult(after, tuple(changes))
        raise RuntimeError(f"category {slug!r}: other writes came in between every attempt")

    async def move(
        self,
        slug: str,
        actor: Actor,
        *,
        parent: str | None,
        position: int | None = None,
        provenance: Provenance = Provenance(),
        dry_run: bool = False,
    ) -> CategoryResult:
        """Move the category (and its subtree) under ``parent`` (None: a root) at ``position``
        among its new siblings (None: last); also reorders siblings when the parent is the
        same. ``CycleFailure`` when ``parent`` is the category or one of its descendants."""
        violations = _check_position(position)
        if violations:
            return CategoryResult(None, failures=(ValidationFailure(tuple(violations)),))
        return await self._in_tree_transaction(
            slug,
            lambda session: self._move(session, slug, actor, parent, position, provenance, dry_run),
        )

    async def _move(
        self,
        session: AsyncClientSession,
        slug: str,
        actor: Actor,
        parent: str | None,
        position: int | None,
        provenance: Provenance,
        dry_run: bool,
    ) -> CategoryResult:
        categories = self.catalog.categories
        # Tree writes are serialised by the lock: the reads below cannot go stale before commit.
        if not dry_run:
            await self._lock_tree(session)
        stored = await categories.find_one({"slug": slug}, session=session)
        if stored is None:
            return CategoryResult(
                None, failures=(CategoryNotFound(slug, ("slug",)),), dry_run=dry_run
            )
        ancestors: list[str] = []
        if parent is not None:
            found = await categories.find_one({"slug": parent}, session=session)
            if found is None:
                failure = CategoryNotFound(parent, ("parent",))
                return CategoryResult(stored, failures=(failure,), dry_run=dry_run)
            ancestors = [*(found.get("ancestors") or []), parent]
            if slug in ancestors:
                return CategoryResult(
                    stored, failures=(CycleFailure(slug, parent),), dry_run=dry_run
                )
        old_parent, old_position = stored.get("parent"), int(stored.get("position", 0))
        same_parent = old_parent == parent
        siblings = await categories.count_documents({"parent": parent}, session=session)
        last = siblings - 1 if same_parent else siblings
        at = last if position is None else min(position, last)
        if same_parent and position is None:
            at = old_position  # a move to where it is: nothing to do
        after = {**stored, "parent": parent, "ancestors": ancestors, "position": at}
        changes = category_changes(stored, after)
        descendants = await categories.count_documents({"ancestors": slug}, session=session)
        if not changes:
            return CategoryResult(stored, dry_run=dry_run)
        now = self.clock()
        after.update(revision=category_revision(stored) + 1, updatedAt=now)
        if dry_run:
            return CategoryResult(after, tuple(changes), dry_run=True, descendants=descendants)
        # Out of the old siblings (closing the gap), into the new ones (opening one).
        await categories.update_many(
            {"parent": old_parent, "position": {"$gt": old_position}, "slug": {"$ne": slug}},
            {"$inc": {"position": -1}},
            session=session,
        )
        await categories.update_many(
            {"parent": parent, "position": {"$gte": at}, "slug": {"$ne": slug}},
            {"$inc": {"position": 1}},
            session=session,
        )
        await self._replace(session, stored, after, changes)
        if descendants and stored.get("ancestors") != ancestors:
            # Each descendant keeps its path below the moved category, under the new prefix.
            prefix = [*ancestors, slug]
            await categories.update_many(
                {"ancestors": slug},
                [
                    {
                        "$set": {
                            "ancestors": {
                                "$concatArrays": [
                                    {"$literal": prefix},
                                    {
                                        "$slice": [
                                            "$ancestors",
                                            {"$add": [{"$indexOfArray": ["$ancestors", slug]}, 1]},
                                            {"$size": "$ancestors"},
                                        ]
                                    },
                                ]
                            },
                            "updatedAt": now,
                        }
                    }
                ],
                session=session,
            )
        await self._record(session, after, "move", changes, actor, provenance, now)
        return CategoryResult(after, tuple(changes), descendants=descendants)

    def _session(self) -> AsyncClientSession:
        return self.catalog.db.client.start_session()

    async def _in_tree_transaction(
        self,
        slug: str,
        work: Callable[[AsyncClientSession], Awaitable[CategoryResult]],
    ) -> CategoryResult:
        """``work`` in a transaction, run again when another tree write raced it."""
        for attempt in range(self.max_attempts):
            async with self._session() as session:
                try:
                    async with await session.start_transaction():
                        return await work(session)
                except _RacedError:
                    continue
                except PyMongoError as exc:
                    if exc.has_error_label("TransientTransactionError"):
                        await _backoff(attempt)
                        continue
                    raise
        raise RuntimeError(f"category {slug!r}: other tree writes came in between every attempt")

    async def _lock_tree(self, session: AsyncClientSession) -> None:
        await self.catalog.db["gateway_locks"].update_one(
            {"_id": TREE_LOCK}, {"$inc": {"writes": 1}}, upsert=True, session=session
        )

    async def _replace(
        self,
        session: AsyncClientSession,
        stored: Document,
        after: Document,
        changes: Sequence[FieldChange],
    ) -> None:
        """Compare-and-set on the revision read: a write that lost the race reads again."""
        fields = dict.fromkeys(str(change.path[0]) for change in changes)
        same = (
            {"revision": stored["revision"]}
            if "revision" in stored
            else {"revision": {"$exists": False}}
        )
        updated = await self.catalog.categories.update_one(
            {"_id": stored["_id"], **same},
            {
                "$set": {
                    **{name: after[name] for name in fields},
                    "revision": after["revision"],
                    "updatedAt": after["updatedAt"],
                }
            },
            session=session,
        )
        if updated.matched_count == 0:
            raise _RacedError

    async def _record(
        self,
        session: AsyncClientSession,
        category: Document,
        operation: CategoryOperation,
        changes: Sequence[FieldChange],
        actor: Actor,
        provenance: Provenance,
        at: datetime,
    ) -> None:
        event = {
            "entity": "category",
            "slug": category["slug"],
            "categoryId": category.get("_id"),
            "revision": category["revision"],
            "operation": operation,
            "actor": actor.to_document(),
            "requestId": provenance.request_id,
            "importJob": provenance.import_job,
            "at": at,
            "changes": [change.to_document() for change in changes],
        }
        await self.catalog.category_events.insert_one(event, session=session)

    def _check_locales(self, name: Mapping[str, Any]) -> list[Violation]:
        violations = []
        for tag in name:
            try:
                self.locales.resolve(tag)
            except LocaleError as exc:
                violations.append(Violation(("name", tag), "LOCALE", str(exc), "locales"))
        return violations

    def _canonical(self, name: Mapping[str, Any]) -> dict[str, Any]:
        """``name`` keyed by canonical locale tags (``de-de`` → ``de-DE``)."""
        return {self.locales.resolve(tag): text for tag, text in name.items()}

    async def _unknown_attributes(self, codes: Sequence[str]) -> list[Violation]:
        if not codes:
            return []
        found = self.catalog.attributes.find({"code": {"$in": list(codes)}}, {"code": 1})
        known = {document["code"] async for document in found}
        return [
            Violation(
                ("requiredAttributes", index),
                "UNKNOWN_ATTRIBUTE",
                f"no attribute has the code {code!r}",
                "category.requiredAttributes",
            )
            for index, code in enumerate(codes)
            if code not in known
        ]

    async def _rescore_products_of(self, slug: str) -> None:
        found = self.catalog.products.find({"categories": slug}, {"sku": 1, "_id": 0})
        skus = [document["sku"] async for document in found]
        if skus:
            await rescore_skus(self.catalog, self.channels, self.locales, self.clock(), skus)


async def _backoff(attempt: int) -> None:
    """A moment for the transaction that won to commit before this one tries again."""
    await asyncio.sleep(RETRY_DELAY_S * (attempt + 1))


def _check_slug(slug: str) -> list[Violation]:
    if not slug:
        return [Violation(("slug",), "REQUIRED", "a category needs a slug", "category.slug")]
    if len(slug) > MAX_SLUG_LENGTH:
        message = f"a slug has at most {MAX_SLUG_LENGTH} characters"
        return [Violation(("slug",), "TOO_LONG", message, "category.slug", MAX_SLUG_LENGTH)]
    if not SLUG.fullmatch(slug):
        message = "a slug is lowercase letters and digits, in words joined by single dashes"
        return [Violation(("slug",), "PATTERN", message, "category.slug", SLUG.pattern)]
    return []


def _check_name(name: Mapping[str, str | None], *, replace: bool) -> list[Violation]:
    violations: list[Violation] = []
    if replace and not any(name.values()):
        violations.append(
            Violation(("name",), "REQUIRED", "a category needs a name", "category.name")
        )
    for tag, text in name.items():
        if text is None:
            continue
        if not text.strip():
            message = "a name is not blank (give null to remove a locale)"
            violations.append(Violation(("name", tag), "REQUIRED", message, "category.name"))
        elif len(text) > MAX_NAME_LENGTH:
            message = f"a name has at most {MAX_NAME_LENGTH} characters"
            violations.append(
                Violation(("name", tag), "TOO_LONG", message, "category.name", MAX_NAME_LENGTH)
            )
    return violations


def _check_position(position: int | None) -> list[Violation]:
    if position is not None and position < 0:
        message = "a position counts from 0"
        return [Violation(("position",), "RANGE", message, "category.position", 0)]
    return []
