"""The dry run: what each row would do (create, update, nothing), or why it cannot.

Per batch of rows a handful of queries (the stored products, their categories, the mirrored
assets, the attribute definitions readiness needs, variant SKUs other products hold), then
pure work per row, the same steps ``ProductWriter`` takes for one product:

- create (SKU not stored) or update (``merge_patch`` onto the stored, upcast document), and the
  change set (``diff``): an empty one is ``unchanged`` and will write nothing;
- ownership for the acting principal, and validation by the gateway's ``Validator`` (on an
  update only what the row makes worse, as the writer does);
- media references the row sets, against the asset mirror: unknown, missing, deleted and
  rejected assets are row errors (the writer's stored readiness would only flag them later);
- variant SKUs another product (stored, or earlier in the file) has: DUPLICATE, which the
  writer only learns from the unique index at commit;
- the readiness the would-be document has per channel, by the evaluator behind stored scores.

``ProductWriter`` reads one product per write; this reads a batch per query, which is what
makes a 10,000-row dry run take seconds (``tests/resolvers/imports`` checks it answers what
``ProductWriter(dry_run=True)`` answers).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from resolvers.channels import Channels
from resolvers.db import Catalog, Document
from resolvers.imports.parsing import ImportRow, RowError
from resolvers.locales import LocaleResolver
from resolvers.media.selection import reference_key
from resolvers.readiness.rules import needed_codes
from resolvers.readiness.store import ReadinessContext, rules_hash, stored_readiness
from resolvers.upcasting import upcast
from resolvers.validation.violations import Path
from resolvers.writes.changes import BOOKKEEPING, KEYED, LOCALIZED, FieldChange, diff, merge_patch
from resolvers.writes.history import Actor
from resolvers.writes.ownership import Ownership
from resolvers.writes.writer import EMPTY_PRODUCT, Validate, revision_of

Action = Literal["create", "update", "unchanged", "error"]
BATCH_SIZE = 500
YIELD_EVERY = 50
# Mirror statuses of assets that cannot be delivered (resolvers.assets.mirror).
UNUSABLE = {"missing": "MISSING_ASSET", "deleted": "DELETED_ASSET", "rejected": "REJECTED_ASSET"}


@dataclass(slots=True)
class RowPlan:
    line: int
    sku: str | None
    action: Action
    errors: tuple[RowError, ...] = ()
    changes: tuple[FieldChange, ...] = ()
    revision: int | None = None
    """The product's revision after the row (would-be; stored when unchanged)."""
    readiness: dict[str, Document] = field(default_factory=dict)
    """Channel → the stored readiness the would-be document gets (score, ready, failed, …)."""
    stored: Document | None = None
    """The product as read (the apply's compare-and-set); None for a create."""
    product: Document | None = None
    """The would-be product document (without bookkeeping but ``sku``)."""


@dataclass(slots=True)
class FileState:
    """What earlier batches of the same file decided, for checks across batches."""

    skus: dict[str, int] = field(default_factory=dict)
    """SKU → the line that has it."""
    variants: dict[str, str] = field(default_factory=dict)
    """Variant SKU → the product SKU the file gives it to."""
    categories: dict[str, Document | None] = field(default_factory=dict)
    attributes: dict[str, Document | None] = field(default_factory=dict)

    def copy(self) -> FileState:
        """Its own SKU maps; the category and attribute caches are shared (they only grow)."""
        return FileState(dict(self.skus), dict(self.variants), self.categories, self.attributes)


@dataclass(frozen=True, slots=True)
class ImportPlanner:
    catalog: Catalog
    validate: Validate
    ownership: Ownership
    channels: Channels
    locales: LocaleResolver
    clock: Callable[[], datetime]
    batch_size: int = BATCH_SIZE

    async def plan(self, rows: Sequence[ImportRow], actor: Actor) -> AsyncIterator[list[RowPlan]]:
        """The rows' plans, one batch at a time (memory stays one batch of documents)."""
        seen = FileState()
        for start in range(0, len(rows), self.batch_size):
            yield await self.plan_batch(rows[start : start + self.batch_size], actor, seen)

    async def plan_batch(
        self, rows: Sequence[ImportRow], actor: Actor, seen: FileState | None = None
    ) -> list[RowPlan]:
        seen = seen if seen is not None else FileState()
        skus = [row.sku for row in rows if row.sku is not None]
        stored = {d["sku"]: d async for d in self.catalog.products.find({"sku": {"$in": skus}})}
        drafts = [self._draft(row, stored.get(row.sku or ""), seen) for row in rows]
        live = [d for d in drafts if not d.errors and d.target is not None]
        await self._load_categories(live, seen)
        assets = await self._assets(live)
        taken = await self._variant_owners(live)
        now = self.clock()
        plans: list[RowPlan] = []
        for draft in drafts:
            if draft.target is not None and not draft.errors:
                self._check(draft, actor, assets, taken, seen)
            plans.append(draft.plan())
        await self._load_attributes(plans, seen)
        context = ReadinessContext(
            assets,
            {s: d for s, d in seen.categories.items() if d is not None},
            {c: d for c, d in seen.attributes.items() if d is not None},
        )
        current_hash = rules_hash(self.channels)
        for index, plan in enumerate(plans):
            if index % YIELD_EVERY == YIELD_EVERY - 1:
                # Scoring is CPU work: let a batch's transaction in flight go on meanwhile.
                await asyncio.sleep(0)
            if plan.action == "unchanged" and plan.stored is not None:
                kept = _stored_scores(plan.stored, self.channels.names(), current_hash)
                if kept is not None:
                    # The same document scored by the same rules: the stored scores stand.
                    plan.readiness = kept
                    continue
            if plan.action != "error" and plan.product is not None:
                plan.readiness = stored_readiness(
                    plan.product, self.channels, self.locales, now, context
                )
        return plans

    def _draft(self, row: ImportRow, stored: Document | None, seen: FileState) -> _Draft:
        draft = _Draft(row, stored)
        errors = draft.errors
        errors += row.errors
        sku = row.sku
        if sku is None:
            return draft
        if sku in seen.skus:
            errors.append(
                RowError(
                    row.line, sku, ("sku",), "DUPLICATE", f"line {seen.skus[sku]} has this SKU too"
                )
            )
            return draft
        seen.skus[sku] = row.line
        patch = {k: v for k, v in row.patch.items() if k != "sku"}
        errors += [
            RowError(row.line, sku, (name,), "READ_ONLY", f"{name} cannot be written")
            for name in patch
            if name in BOOKKEEPING
        ]
        errors += _shape_errors(row, patch)
        if errors:
            return draft
        if stored is None:
            draft.current = {}
            if _plain(patch):
                # The row's documents are the import's own and never mutated: no copies.
                draft.target = {**EMPTY_PRODUCT, **patch, "sku": sku}
                draft.changes = _created(draft.target)
                return draft
            draft.target = merge_patch({**EMPTY_PRODUCT, "sku": sku}, patch)
        else:
            draft.current = upcast(stored)
            draft.target = merged(draft.current, patch)
        draft.changes = diff(draft.current, draft.target)
        return draft

    def _check(
        self,
        draft: _Draft,
        actor: Actor,
        assets: Mapping[tuple[str, str], Document],
        taken: Mapping[str, str],
        seen: FileState,
    ) -> None:
        row, target, current = draft.row, draft.target, draft.current
        assert target is not None
        assert current is not None
        assert row.sku is not None
        if not draft.changes:
            return
        line, sku = row.line, row.sku
        errors = draft.errors
        for violation in self.ownership.check(actor.principal, draft.changes):
            errors.append(
                RowError(
                    line,
                    sku,
                    violation.path,
                    "FIELD_OWNERSHIP",
                    f"owned by {violation.owner}: this source may not write it",
                )
            )

        def categories_of(document: Document) -> list[Document]:
            found = (seen.categories.get(s) for s in document.get("categories") or [])
            return [c for c in found if c is not None]

        violations = list(self.validate(target, categories_of(target)))
        if draft.stored is not None and violations:
            already = {(v.path, v.code) for v in self.validate(current, categories_of(current))}
            violations = [v for v in violations if (v.path, v.code) not in already]
        errors += [RowError(line, sku, v.path, v.code, v.message) for v in violations]
        before_media = {m.get("publicId") for m in current.get("media") or []}
        for index, reference in enumerate(target.get("media") or []):
            if reference.get("publicId") in before_media:
                continue
            problem = _media_problem(assets.get(reference_key(reference)))
            if problem is not None:
                code, reason = problem
                message = f"{reference['publicId']}: {reason}"
                errors.append(RowError(line, sku, ("media", index), code, message))
        before_variants = {v.get("sku") for v in current.get("variants") or []}
        for variant in target.get("variants") or []:
            variant_sku = variant["sku"]
            if variant_sku in before_variants:
                continue
            owner = taken.get(variant_sku) or seen.variants.get(variant_sku)
            if owner is not None and owner != sku:
                errors.append(
                    RowError(
                        line,
                        sku,
                        ("variants", variant_sku),
                        "DUPLICATE",
                        f"variant SKU {variant_sku!r} belongs to product {owner}",
                    )
                )
        if not errors:
            for variant in target.get("variants") or []:
                seen.variants.setdefault(variant["sku"], sku)

    async def _load_categories(self, drafts: Iterable[_Draft], seen: FileState) -> None:
        slugs = {
            slug
            for draft in drafts
            for document in (draft.current, draft.target)
            for slug in (document or {}).get("categories") or []
            if isinstance(slug, str) and slug not in seen.categories
        }
        if not slugs:
            return
        found = {
            d["slug"]: d async for d in self.catalog.categories.find({"slug": {"$in": list(slugs)}})
        }
        for slug in slugs:
            seen.categories[slug] = found.get(slug)

    async def _load_attributes(self, plans: Iterable[RowPlan], seen: FileState) -> None:
        categories = [
            seen.categories[s]
            for plan in plans
            if plan.product is not None
            for s in plan.product.get("categories") or []
            if seen.categories.get(s) is not None
        ]
        codes = [c for c in needed_codes(c for c in categories if c) if c not in seen.attributes]
        if not codes:
            return
        found = {d["code"]: d async for d in self.catalog.attributes.find({"code": {"$in": codes}})}
        for code in codes:
            seen.attributes[code] = found.get(code)

    async def _assets(self, drafts: Iterable[_Draft]) -> dict[tuple[str, str], Document]:
        ids = {
            reference["publicId"]
            for draft in drafts
            for reference in (draft.target or {}).get("media") or []
        }
        if not ids:
            return {}
        return {
            (d.get("resourceType", "image"), d["publicId"]): d
            async for d in self.catalog.assets.find(
                {"publicId": {"$in": list(ids)}}, {"fingerprint": 0}
            )
        }

    async def _variant_owners(self, drafts: Iterable[_Draft]) -> dict[str, str]:
        """Variant SKU → the stored product that has it, for the rows' new variants."""
        new: list[str] = []
        for draft in drafts:
            before = {v.get("sku") for v in (draft.current or {}).get("variants") or []}
            new += [
                v["sku"]
                for v in (draft.target or {}).get("variants") or []
                if v["sku"] not in before
            ]
        if not new:
            return {}
        owners: dict[str, str] = {}
        wanted = set(new)
        async for document in self.catalog.products.find(
            {"variants.sku": {"$in": new}}, {"sku": 1, "variants.sku": 1}
        ):
            for variant in document.get("variants") or []:
                if variant.get("sku") in wanted:
                    owners[variant["sku"]] = document["sku"]
        return owners


@dataclass(slots=True)
class _Draft:
    row: ImportRow
    stored: Document | None
    current: Document | None = None
    target: Document | None = None
    changes: list[FieldChange] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def plan(self) -> RowPlan:
        row = self.row
        if self.errors or self.target is None:
            return RowPlan(row.line, row.sku, "error", tuple(self.errors))
        revision = revision_of(self.stored) if self.stored is not None else 0
        if not self.changes:
            return RowPlan(
                row.line,
                row.sku,
                "unchanged",
                revision=revision,
                stored=self.stored,
                product=self.target,
            )
        return RowPlan(
            row.line,
            row.sku,
            "create" if self.stored is None else "update",
            changes=tuple(self.changes),
            revision=revision + 1,
            stored=self.stored,
            product=self.target,
        )


def merged(current: Mapping[str, Any], patch: Mapping[str, Any]) -> Document:
    """``merge_patch(current, patch)`` without copying: the stored product and the row are the
    import's own and never mutated, so the result may share their values (copying them was
    most of a re-run's time). ``tests/resolvers/imports/test_plan.py`` holds it to merge_patch."""
    target = dict(current)
    for name, value in patch.items():
        if (name in LOCALIZED or name in KEYED) and isinstance(value, Mapping):
            entries = dict(current.get(name) or {})
            for key, item in value.items():
                _put(entries, key, item)
            target[name] = entries
        elif name == "variants" and isinstance(value, Mapping):
            variants = list(current.get("variants") or [])
            for sku, variant_patch in value.items():
                _merge_variant(variants, sku, variant_patch)
            target["variants"] = variants
        else:
            _put(target, name, value)
    return target


def _merge_variant(variants: list[Document], sku: str, patch: Mapping[str, Any] | None) -> None:
    index = next((i for i, v in enumerate(variants) if v.get("sku") == sku), None)
    if patch is None:
        if index is not None:
            del variants[index]
        return
    variant: Document = dict(variants[index]) if index is not None else {"sku": sku}
    for name, value in patch.items():
        if name == "sku":
            continue
        if name == "attributes" and isinstance(value, Mapping):
            attributes = dict(variant.get("attributes") or {})
            for code, item in value.items():
                _put(attributes, code, item)
            _put(variant, "attributes", attributes or None)
        else:
            _put(variant, name, value)
    if index is None:
        variants.append(variant)
    else:
        variants[index] = variant


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _stored_scores(
    stored: Document, channels: Sequence[str], current_hash: str
) -> dict[str, Document] | None:
    scores = stored.get("readiness") or {}
    kept = {channel: scores.get(channel) for channel in channels}
    if all(isinstance(s, dict) and s.get("rulesHash") == current_hash for s in kept.values()):
        return {channel: score for channel, score in kept.items() if score is not None}
    return None


def _plain(patch: Mapping[str, Any]) -> bool:
    """Whether ``merge_patch`` onto an empty product would only copy ``patch`` (no removals,
    variants as a list)."""
    if isinstance(patch.get("variants"), Mapping):
        return False
    for name in (*LOCALIZED, *KEYED):
        value = patch.get(name)
        if isinstance(value, Mapping) and any(item is None for item in value.values()):
            return False
    return not any(value is None for value in patch.values())


def _created(product: Mapping[str, Any]) -> list[FieldChange]:
    """``diff({}, product)`` without copying values (the product is the import's own)."""
    changes: list[FieldChange] = []
    for name in sorted(n for n in product if n not in BOOKKEEPING):
        value = product[name]
        if value is None or value == [] or value == {}:
            continue
        if name in LOCALIZED or name in KEYED:
            changes += [
                FieldChange((name, key), None, value[key])
                for key in sorted(value)
                if value[key] is not None
            ]
        elif name == "variants":
            by_sku = {variant["sku"]: variant for variant in value}
            changes += [FieldChange(("variants", sku), None, v) for sku, v in by_sku.items()]
        else:
            changes.append(FieldChange((name,), None, value))
    return changes


def _media_problem(asset: Document | None) -> tuple[str, str] | None:
    if asset is None:
        return "UNKNOWN_ASSET", "not in the asset mirror (never uploaded, or not yet synced)"
    status = asset.get("status")
    if status in UNUSABLE:
        reasons = "; ".join(asset.get("rejectReasons") or [])
        return UNUSABLE[status], f"the asset is {status}" + (f" ({reasons})" if reasons else "")
    return None


def _shape_errors(row: ImportRow, patch: Mapping[str, Any]) -> list[RowError]:
    """Shapes the change set cannot be computed on (the validator judges the rest)."""
    errors: list[RowError] = []

    def wrong(path: Path, expected: str) -> None:
        errors.append(RowError(row.line, row.sku, path, "TYPE", f"expected {expected}"))

    for name in (*LOCALIZED, "attributes"):
        if patch.get(name) is not None and not isinstance(patch.get(name), Mapping):
            wrong((name,), "an object keyed by locale" if name in LOCALIZED else "an object")
    variants = patch.get("variants")
    if isinstance(variants, list):
        for index, variant in enumerate(variants):
            if not isinstance(variant, Mapping) or not isinstance(variant.get("sku"), str):
                wrong(("variants", index), "a variant with a SKU")
    elif isinstance(variants, Mapping):
        for sku, variant in variants.items():
            if variant is not None and not isinstance(variant, Mapping):
                wrong(("variants", sku), "a variant object (or null to remove it)")
    elif variants is not None:
        wrong(("variants",), "a list of variants")
    media = patch.get("media")
    if media is not None:
        if not isinstance(media, list):
            wrong(("media",), "a list of media references")
        else:
            for index, reference in enumerate(media):
                if not isinstance(reference, Mapping) or not isinstance(
                    reference.get("publicId"), str
                ):
                    wrong(("media", index), "a media reference with a publicId")
    return errors
