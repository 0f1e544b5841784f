"""Product writes: change sets, field ownership, the writer and its history.

``ProductWriter`` (``writer``) is the one way products are written: validated, checked for
ownership, versioned by ``revision`` and recorded in ``change_events`` (``history``) in one
transaction. Expected failures are values in its ``WriteResult``.
"""

from resolvers.writes.changes import FieldChange, apply, diff, merge_patch
from resolvers.writes.history import Actor, Provenance, product_history
from resolvers.writes.ownership import (
    Ownership,
    OwnershipConfigError,
    OwnershipViolation,
    load_ownership,
)
from resolvers.writes.writer import (
    AlreadyExists,
    CurrentValue,
    NotFound,
    OwnershipFailure,
    ProductWriter,
    RevisionNotFound,
    ValidationFailure,
    VersionConflict,
    WriteFailure,
    WriteResult,
    revision_of,
    validate_with,
)

__all__ = [
    "Actor",
    "AlreadyExists",
    "CurrentValue",
    "FieldChange",
    "NotFound",
    "Ownership",
    "OwnershipConfigError",
    "OwnershipFailure",
    "OwnershipViolation",
    "ProductWriter",
    "Provenance",
    "RevisionNotFound",
    "ValidationFailure",
    "VersionConflict",
    "WriteFailure",
    "WriteResult",
    "apply",
    "diff",
    "load_ownership",
    "merge_patch",
    "product_history",
    "revision_of",
    "validate_with",
]
