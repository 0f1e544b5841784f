"""Field-level change sets between two product documents.

A change set is what history records, what ownership is checked on and what optimistic
concurrency compares, so its paths are as fine as a person edits: one locale of a localized
text, one attribute, one field of one variant. Lists whose order matters to a storefront
(media, relations, categories) are one value each: reordering them is a change of the list.

Paths (``resolvers.validation.Path``, the same shape violations use):

- ``("name", "de-DE")``, ``("description", "fr-FR")``: one locale; ``None`` is "absent".
- ``("attributes", code)``: the whole attribute value ``{"value": …, "unit": …}``.
- ``("variants", sku)``: a variant added (before ``None``) or removed (after ``None``).
- ``("variants", sku, "attributes", code)``, ``("variants", sku, field)``: one field of a
  variant present before and after (``options`` is one value).
- ``("media",)``, ``("accessories",)``, ``("related",)``, ``("bundle",)``, ``("categories",)``,
  ``("status",)``, ``("brand",)`` and any other top-level field: the whole value.

Bookkeeping fields (``_id``, ``sku``, ``revision``, ``schemaVersion``, ``createdAt``,
``updatedAt``, the stored ``readiness``) are never part of a change set.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from resolvers.db import Document
from resolvers.validation.violations import Path

LOCALIZED = ("name", "description")
KEYED = ("attributes",)
BOOKKEEPING = frozenset(
    {
        "_id",
        "sku",
        "revision",
        "schemaVersion",
        "createdAt",
        "updatedAt",
        "readiness",
        "readinessBasedOn",
        "workflow",
    }
)


@dataclass(frozen=True, slots=True)
class FieldChange:
    path: Path
    before: Any
    """``None``: the field was absent."""
    after: Any
    """``None``: the field is removed."""

    def to_document(self) -> Document:
        """The shape stored in ``change_events.changes``."""
        return {"path": list(self.path), "before": self.before, "after": self.after}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> FieldChange:
        return cls(tuple(document["path"]), document.get("before"), document.get("after"))


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    """The changes that turn ``before`` into ``after`` (in a stable order: by field, then key)."""
    changes: list[FieldChange] = []
    for name in _fields(before, after):
        old, new = _absent_if_empty(before.get(name)), _absent_if_empty(after.get(name))
        if old == new:
            continue
        if name in LOCALIZED or name in KEYED:
            changes += _keyed((name,), old or {}, new or {})
        elif name == "variants":
            changes += _variants(old or [], new or [])
        else:
            changes.append(FieldChange((name,), _copy(old), _copy(new)))
    return changes


def apply(document: Mapping[str, Any], changes: Iterable[FieldChange]) -> Document:
    """A copy of ``document`` with ``changes`` applied (their ``before`` is not checked)."""
    result = copy.deepcopy(dict(document))
    for change in changes:
        _apply_one(result, change)
    return result


def value_at(document: Mapping[str, Any], path: Path) -> Any:
    """The value a change at ``path`` would record as ``before``; ``None`` when absent."""
    name = path[0]
    if name == "variants" and len(path) > 1:
        variant = _variant(document.get("variants") or [], path[1])
        if variant is None or len(path) == 2:
            return _copy(variant)
        if path[2] == "attributes" and len(path) > 3:
            return _copy((variant.get("attributes") or {}).get(path[3]))
        return _copy(variant.get(str(path[2])))
    value = document.get(str(name))
    for part in path[1:]:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return _copy(value)


def overlaps(a: Path, b: Path) -> bool:
    """Whether a change at ``a`` and one at ``b`` touch the same value (one contains the other)."""
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def _fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    names = dict.fromkeys([*before, *after])
    return sorted(n for n in names if n not in BOOKKEEPING)


def _keyed(prefix: Path, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldChange]:
    return [
        FieldChange((*prefix, key), _copy(old.get(key)), _copy(new.get(key)))
        for key in sorted(dict.fromkeys([*old, *new]))
        if old.get(key) != new.get(key)
    ]


def _variants(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> list[FieldChange]:
    by_sku_old = {v["sku"]: v for v in old}
    by_sku_new = {v["sku"]: v for v in new}
    changes: list[FieldChange] = []
    for sku in dict.fromkeys([*by_sku_old, *by_sku_new]):
        before, after = by_sku_old.get(sku), by_sku_new.get(sku)
        if before == after:
            continue
        if before is None or after is None:
            changes.append(FieldChange(("variants", sku), _copy(before), _copy(after)))
            continue
        for name in sorted(dict.fromkeys([*before, *after])):
            if name == "sku" or before.get(name) == after.get(name):
                continue
            if name == "attributes":
                changes += _keyed(
                    ("variants", sku, "attributes"),
                    before.get(name) or {},
                    after.get(name) or {},
                )
            else:
                changes.append(
                    FieldChange(
                        ("variants", sku, name), _copy(before.get(name)), _copy(after.get(name))
                    )
                )
    return changes


def _variant(variants: Sequence[Mapping[str, Any]], sku: str | int) -> Mapping[str, Any] | None:
    return next((v for v in variants if v.get("sku") == sku), None)


def _apply_one(document: Document, change: FieldChange) -> None:
    path, after = change.path, _copy(change.after)
    name = str(path[0])
    if name == "variants" and len(path) > 1:
        _apply_variant(document, path, after)
        return
    if len(path) == 1:
        _put(document, name, after)
        return
    target = document.setdefault(name, {})
    for part in path[1:-1]:
        target = target.setdefault(part, {})
    _put(target, path[-1], after)


def _apply_variant(document: Document, path: Path, after: Any) -> None:
    variants: list[Document] = document.setdefault("variants", [])
    sku = path[1]
    index = next((i for i, v in enumerate(variants) if v.get("sku") == sku), None)
    if len(path) == 2:
        if index is not None and after is None:
            del variants[index]
        elif index is not None:
            variants[index] = after
        elif after is not None:
            # A new variant goes last: the order of variants is the order they were added.
            variants.append(after)
        return
    if index is None:
        variants.append({"sku": sku})
        index = len(variants) - 1
    variant = variants[index]
    if path[2] == "attributes" and len(path) > 3:
        attributes = variant.setdefault("attributes", {})
        _put(attributes, path[3], after)
        if not attributes:
            del variant["attributes"]
    else:
        _put(variant, path[2], after)


def _put(target: dict[Any, Any], key: str | int, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _absent_if_empty(value: Any) -> Any:
    # A product without accessories and one with ``accessories: []`` are the same product.
    return None if value == [] or value == {} else value


def _copy(value: Any) -> Any:
    # Change sets outlive the documents they were computed from (history, conflict payloads).
    return copy.deepcopy(value)


def merge_patch(document: Mapping[str, Any], patch: Mapping[str, Any]) -> Document:
    """A copy of ``document`` with a partial product (a mutation's or an import row's input)
    merged in, the way a person means it:

    - ``name``, ``description``, ``attributes``: merged per locale or code; ``None`` removes one.
    - ``variants``: a mapping merges per variant SKU (``None`` removes the variant; a variant's
      ``attributes`` merge per code, its other fields are replaced); a list replaces them all.
    - any other field is replaced whole; ``None`` removes it.

    Bookkeeping fields in ``patch`` are the caller's to refuse (``read_only_paths``).
    """
    result = copy.deepcopy(dict(document))
    for name, value in patch.items():
        if name in BOOKKEEPING:
            continue
        if (name in LOCALIZED or name in KEYED) and isinstance(value, Mapping):
            merged = dict(result.get(name) or {})
            for key, item in value.items():
                _put(merged, key, _copy(item))
            result[name] = merged
        elif name == "variants" and isinstance(value, Mapping):
            for sku, variant_patch in value.items():
                _merge_variant(result, sku, variant_patch)
        else:
            _put(result, name, _copy(value))
    return result


def read_only_paths(patch: Mapping[str, Any]) -> list[Path]:
    """Fields of ``patch`` that no write may set: identity and bookkeeping."""
    return [(name,) for name in patch if name in BOOKKEEPING]


def _merge_variant(document: Document, sku: str, variant_patch: Any) -> None:
    variants: list[Document] = document.setdefault("variants", [])
    index = next((i for i, v in enumerate(variants) if v.get("sku") == sku), None)
    if variant_patch is None:
        if index is not None:
            del variants[index]
        return
    variant: Document = dict(variants[index]) if index is not None else {"sku": sku}
    for name, value in variant_patch.items():
        if name == "sku":
            continue
        if name == "attributes" and isinstance(value, Mapping):
            attributes = dict(variant.get("attributes") or {})
            for code, item in value.items():
                _put(attributes, code, _copy(item))
            _put(variant, "attributes", attributes or None)
        else:
            _put(variant, name, _copy(value))
    if index is None:
        variants.append(variant)
    else:
        variants[index] = variant
