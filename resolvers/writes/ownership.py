"""Field ownership (``ownership.toml``): which source system owns which product fields.

"What happens when someone updates a product title in your ERP": the ERP's key is refused,
and told that ``pim`` owns the title. Ownership is checked on a change set
(``resolvers.writes.changes``), so a write is judged by what it actually changes, not by the
fields its input happened to mention.

Proposals (a violating change recorded for the owner to accept instead of refused) would hook
in where ``ProductWriter`` turns violations into an ``OwnershipFailure``: a per-owner policy
here (``[proposals] erp = true``) and a ``proposals`` collection there. Not implemented yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from resolvers.access.principal import Principal
from resolvers.config_files import ConfigFileError, line_of, parse_config, read_config_text
from resolvers.validation.violations import Path
from resolvers.writes.changes import FieldChange

# The fields a pattern may start with: the product document's own (resolvers.documents).
PRODUCT_FIELDS = frozenset(
    {
        "status",
        "brand",
        "name",
        "description",
        "categories",
        "attributes",
        "variants",
        "accessories",
        "bundle",
        "related",
        "media",
    }
)
_SEGMENT = re.compile(r"^(\*|[A-Za-z0-9_-]+)$")
ANY = "*"


class OwnershipConfigError(ConfigFileError):
    """The ownership file is invalid; the message names the file, line, key and reason."""


class _OwnershipFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default: str = Field(description="The owner of fields no pattern matches.")
    editors_write: list[str] = Field(
        description="The systems whose fields editors and leads (keys without a source) write."
    )
    owners: dict[str, list[str]] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OwnershipViolation:
    path: Path
    owner: str
    """The source system that owns the field (and may write it)."""


@dataclass(frozen=True, slots=True)
class Ownership:
    rules: Mapping[tuple[str, ...], str]
    """Pattern (split on dots) → owning source system."""
    default: str
    editors_write: frozenset[str]
    source: str = "<built-in>"

    @classmethod
    def open(cls) -> Ownership:
        """No ownership: every field belongs to the editors (tests, in-process tools)."""
        return cls({}, "editorial", frozenset({"editorial"}))

    def owner_of(self, path: Path) -> str:
        """The system that owns the value at ``path``: the longest matching pattern's."""
        best: tuple[int, str] = (-1, self.default)
        for pattern, owner in self.rules.items():
            if len(pattern) <= len(path) and _matches(pattern, path) and len(pattern) > best[0]:
                best = (len(pattern), owner)
        return best[1]

    def writable_by(self, principal: Principal) -> frozenset[str] | None:
        """The systems whose fields ``principal`` may write; None: every field (in-process
        callers such as the seeder, whose defects the audit finds instead)."""
        if principal.kind == "system":
            return None
        if principal.source is None or principal.source in self.editors_write:
            return self.editors_write
        return frozenset({principal.source})

    def check(
        self, principal: Principal, changes: Iterable[FieldChange]
    ) -> list[OwnershipViolation]:
        """One violation per change (or field inside a coarser change, e.g. a new variant's
        ``stock``) that ``principal`` may not write, naming its owner."""
        allowed = self.writable_by(principal)
        if allowed is None:
            return []
        violations: list[OwnershipViolation] = []
        for change in changes:
            for path, owner in self._owners_touched(change):
                if owner not in allowed:
                    violations.append(OwnershipViolation(path, owner))
        return violations

    def _owners_touched(self, change: FieldChange) -> list[tuple[Path, str]]:
        touched = [(change.path, self.owner_of(change.path))]
        # A change above a finer rule (a whole variant added, with stock) touches that rule's
        # field when the field differs inside it.
        for pattern, owner in self.rules.items():
            if len(pattern) <= len(change.path) or not _matches(pattern, change.path):
                continue
            rest = pattern[len(change.path) :]
            for sub, before, after in _expand(rest, change.before, change.after):
                if before != after:
                    touched.append(((*change.path, *sub), owner))
        return touched


def _matches(pattern: Sequence[str], path: Path) -> bool:
    """Whether ``pattern`` matches the first segments of ``path`` (or all of a shorter path)."""
    return all(p == ANY or p == str(s) for p, s in zip(pattern, path, strict=False))


def _expand(rest: Sequence[str], before: Any, after: Any) -> list[tuple[Path, Any, Any]]:
    """The values under ``rest`` in ``before`` and ``after`` (``*`` over keys or variant SKUs)."""
    if not rest:
        return [((), before, after)]
    head, tail = rest[0], rest[1:]
    old, new = _children(before), _children(after)
    keys = list(dict.fromkeys([*old, *new])) if head == ANY else [head]
    found: list[tuple[Path, Any, Any]] = []
    for key in keys:
        for sub, b, a in _expand(tail, old.get(key), new.get(key)):
            found.append(((key, *sub), b, a))
    return found


def _children(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list):  # variants, by SKU
        return {str(v["sku"]): v for v in value if isinstance(v, Mapping) and "sku" in v}
    return {}


def load_ownership(path: FilePath, sources: Sequence[str]) -> Ownership:
    """Read and validate ``path`` against the source systems of ``roles.toml``, or raise
    OwnershipConfigError naming file, line, key and reason."""
    return parse_ownership(
        read_config_text(path, "field ownership", OwnershipConfigError), str(path), sources
    )


def parse_ownership(text: str, source: str, sources: Sequence[str]) -> Ownership:
    parsed = parse_config(text, source, _OwnershipFile, OwnershipConfigError)
    known = ", ".join(sources) or "none"

    def fail(loc: list[str], reason: str) -> OwnershipConfigError:
        return OwnershipConfigError(f"{source}:{line_of(text, loc)}: {'.'.join(loc)}: {reason}")

    def system(loc: list[str], name: str) -> str:
        if name not in sources:
            raise fail(loc, f"{name!r} is not a source system of roles.toml ({known})")
        return name

    rules: dict[tuple[str, ...], str] = {}
    for owner, patterns in parsed.owners.items():
        system(["owners", owner], owner)
        for pattern in patterns:
            parts = tuple(pattern.split("."))
            if parts[0] not in PRODUCT_FIELDS:
                raise fail(
                    ["owners", owner],
                    f"{pattern!r} does not start with a product field "
                    f"({', '.join(sorted(PRODUCT_FIELDS))})",
                )
            if not all(_SEGMENT.match(part) for part in parts):
                raise fail(
                    ["owners", owner],
                    f"{pattern!r}: segments are codes (letters, digits, _ or -) or *",
                )
            if parts in rules:
                raise fail(["owners", owner], f"{pattern!r} is already owned by {rules[parts]!r}")
            rules[parts] = owner
    editors = frozenset(system(["editors_write"], s) for s in parsed.editors_write)
    return Ownership(rules, system(["default"], parsed.default), editors, source)
