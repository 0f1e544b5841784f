"""Bulk import of products from CSV or JSONL: parse, dry run, apply.

``parse`` turns a file into rows (``ImportParseError`` names the line and column of a file that
cannot be read); ``ImportPlanner`` plans what each row would do, checked as ``ProductWriter``
checks a write (validation, ownership) and more (media references against the asset mirror,
variant SKUs other products have), with the readiness each product would have; ``ImportJob``
runs a dry run or applies under an error policy, in one transaction per batch, with history.
"""

from resolvers.imports.job import (
    ERROR_POLICIES,
    ChannelReadiness,
    ChecksumMismatchError,
    ErrorPolicy,
    ImportJob,
    ImportRaceError,
    ImportReport,
    checksum,
)
from resolvers.imports.parsing import (
    Format,
    ImportParseError,
    ImportRow,
    RowError,
    detect_format,
    parse,
)
from resolvers.imports.plan import ImportPlanner, RowPlan

__all__ = [
    "ERROR_POLICIES",
    "ChannelReadiness",
    "ChecksumMismatchError",
    "ErrorPolicy",
    "Format",
    "ImportJob",
    "ImportParseError",
    "ImportPlanner",
    "ImportRaceError",
    "ImportReport",
    "ImportRow",
    "RowError",
    "RowPlan",
    "checksum",
    "detect_format",
    "parse",
]
