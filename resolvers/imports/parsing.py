"""Import files → rows: one partial product (``merge_patch``'s shape) per product, with its line.

JSONL: one product document per line, the shape ``ProductWriter`` writes (a partial product
for an update). CSV: one row per product or per variant (``parentSku``), with the column
conventions ``docs/import.md`` lists. A file that cannot be read is an ``ImportParseError``
naming its line and column; a value that does not fit its column (``attr:weight`` = ``heavy``)
is a row error, and the other rows are still checked.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from resolvers.db import Document
from resolvers.documents import MEDIA_ROLES
from resolvers.validation import Path, ValidationRules

Format = Literal["csv", "jsonl"]
LIST_SEPARATOR = "|"
FIELDS = ("sku", "parentSku", "status", "brand", "categories", "accessories", "related", "bundle")
LOCALIZED_COLUMN = re.compile(r"^(name|description)\[([A-Za-z0-9-]+)\]$")
ATTRIBUTE_COLUMN = re.compile(r"^attr:([A-Za-z0-9_-]+)(?:\[([A-Za-z0-9-]+)\])?$")
OPTION_COLUMN = re.compile(r"^option:([A-Za-z0-9_-]+)$")
MEDIA_COLUMN = re.compile(r"^media:([a-z]+)$")
QUANTITY = re.compile(r"^\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([^\s0-9].*?)?\s*$")


class ImportParseError(Exception):
    """The file cannot be read as its format; ``line`` and ``column`` are 1-based."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.line = line
        self.column = column
        self.message = message


@dataclass(frozen=True, slots=True)
class RowError:
    """One thing wrong with one row: where (line, SKU, path in the product) and why."""

    line: int
    sku: str | None
    path: Path
    code: str
    message: str

    def to_json(self) -> Document:
        return {
            "line": self.line,
            "sku": self.sku,
            "path": ".".join(str(p) for p in self.path),
            "code": self.code,
            "message": self.message,
        }


@dataclass(slots=True)
class ImportRow:
    """One product of the file: its first line, SKU, the partial product and what is already
    wrong with it (values that did not fit their column)."""

    line: int
    sku: str | None
    patch: Document
    errors: list[RowError] = field(default_factory=list)


def detect_format(name: str) -> Format | None:
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lowered.endswith(".csv"):
        return "csv"
    return None


def parse(data: bytes, format: Format, rules: ValidationRules) -> list[ImportRow]:
    """The rows of an import file (UTF-8, a BOM allowed)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ImportParseError(line, column, "not UTF-8") from None
    return parse_jsonl(text) if format == "jsonl" else parse_csv(text, rules)


# -- JSONL ------------------------------------------------------------------------------------


def parse_jsonl(text: str) -> list[ImportRow]:
    rows: list[ImportRow] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportParseError(number, exc.colno, exc.msg) from None
        if not isinstance(document, dict):
            raise ImportParseError(number, 1, "a line must be one JSON object (a product)")
        sku = document.get("sku")
        row = ImportRow(number, sku if isinstance(sku, str) and sku else None, document)
        if row.sku is None:
            row.errors.append(RowError(number, None, ("sku",), "REQUIRED", "a SKU is required"))
        rows.append(row)
    return rows


# -- CSV --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Column:
    index: int
    header: str
    kind: Literal["field", "localized", "attribute", "option", "media"]
    name: str
    locale: str | None = None


def parse_csv(text: str, rules: ValidationRules) -> list[ImportRow]:
    """Product rows and variant rows (``parentSku`` set), variants merged into their product's
    row (or, when the product has no row in the file, into an update of the stored one)."""
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _csv_error(exc, 1, reader.line_num, lines) from None
    if header is None:
        raise ImportParseError(1, 1, "empty file: the first line names the columns")
    columns = _columns(header, rules)
    state = _CsvRows()
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            raise _csv_error(exc, line, reader.line_num, lines) from None
        if cells is None:
            break
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(columns):
            raise ImportParseError(
                line, len(columns) + 1, f"{len(cells)} cells, but the header names {len(columns)}"
            )
        _add_row(line, cells, columns, rules, state)
    return [state.finish(row) for row in state.order]


@dataclass(slots=True)
class _CsvRows:
    products: dict[str, ImportRow] = field(default_factory=dict)
    order: list[ImportRow] = field(default_factory=list)
    product_rows: set[str] = field(default_factory=set)
    """SKUs that have a product row (not only variant rows)."""
    variant_media: dict[str, list[Document]] = field(default_factory=dict)

    def finish(self, row: ImportRow) -> ImportRow:
        """Variant rows' media joins the product row's list; positions follow the order."""
        patch = row.patch
        variant_media = self.variant_media.get(row.sku or "")
        if variant_media:
            if "media" not in patch:
                row.errors.append(
                    RowError(
                        row.line,
                        row.sku,
                        ("media",),
                        "MEDIA_WITHOUT_PRODUCT_MEDIA",
                        "a variant row's media needs the product row's media columns too "
                        "(the list is written whole)",
                    )
                )
            else:
                patch["media"] = patch["media"] + variant_media
        if "media" in patch:
            patch["media"] = [{**m, "position": i} for i, m in enumerate(patch["media"])]
        return row


def _columns(header: list[str], rules: ValidationRules) -> list[_Column]:
    columns: list[_Column] = []
    seen: set[str] = set()
    for index, raw in enumerate(header):
        name = raw.strip()
        column = _column(index, name)
        if column is None:
            raise ImportParseError(
                1,
                index + 1,
                f"unknown column {name!r}: one of {', '.join(FIELDS)}, name[LOCALE], "
                "description[LOCALE], attr:CODE, attr:CODE[LOCALE], option:CODE, media:ROLE",
            )
        if column.kind == "media" and column.name not in MEDIA_ROLES:
            raise ImportParseError(
                1, index + 1, f"{name!r}: the media role is one of {', '.join(MEDIA_ROLES)}"
            )
        if name in seen:
            raise ImportParseError(1, index + 1, f"column {name!r} appears twice")
        seen.add(name)
        columns.append(column)
    if "sku" not in seen:
        raise ImportParseError(1, 1, "the header needs a 'sku' column")
    return columns


def _column(index: int, name: str) -> _Column | None:
    if name in FIELDS:
        return _Column(index, name, "field", name)
    if match := LOCALIZED_COLUMN.match(name):
        return _Column(index, name, "localized", match[1], match[2])
    if match := ATTRIBUTE_COLUMN.match(name):
        return _Column(index, name, "attribute", match[1], match[2])
    if match := OPTION_COLUMN.match(name):
        return _Column(index, name, "option", match[1])
    if match := MEDIA_COLUMN.match(name):
        return _Column(index, name, "media", match[1])
    return None


def _add_row(
    line: int,
    cells: list[str],
    columns: list[_Column],
    rules: ValidationRules,
    state: _CsvRows,
) -> None:
    values = {c.header: cells[c.index].strip() for c in columns if c.index < len(cells)}
    sku = values.get("sku") or None
    parent = values.get("parentSku") or None
    if parent is None:
        row = state.products.get(sku or "")
        if row is not None and sku in state.product_rows:
            row.errors.append(
                RowError(line, sku, ("sku",), "DUPLICATE", f"line {row.line} has this SKU too")
            )
            return
        if row is None:
            row = ImportRow(line, sku, {})
            state.order.append(row)
            if sku is not None:
                state.products[sku] = row
        else:  # variant rows came first: the product row leads
            row.line = line
        if sku is not None:
            state.product_rows.add(sku)
        if sku is None:
            row.errors.append(RowError(line, None, ("sku",), "REQUIRED", "a SKU is required"))
        _product_cells(line, sku, values, columns, rules, row)
        return
    row = state.products.get(parent)
    if row is None:
        row = ImportRow(line, parent, {})
        state.products[parent] = row
        state.order.append(row)
    if sku is None:
        row.errors.append(
            RowError(line, parent, ("variants",), "REQUIRED", "a variant row needs a SKU")
        )
        return
    variants = row.patch.setdefault("variants", {})
    if sku in variants:
        row.errors.append(
            RowError(line, parent, ("variants", sku), "DUPLICATE", "this variant has two rows")
        )
        return
    variant: Document = {}
    for column in columns:
        value = values.get(column.header, "")
        if not value:
            continue
        path: Path = ("variants", sku)
        if column.kind == "option":
            variant.setdefault("options", {})[column.name] = value
        elif column.kind == "attribute":
            parsed = _attribute(
                line, parent, (*path, "attributes", column.name), value, column, rules, row
            )
            if parsed is not None:
                _put_attribute(variant.setdefault("attributes", {}), column, parsed)
        elif column.kind == "media":
            media = state.variant_media.setdefault(parent, [])
            for public_id in _split(value):
                media.append({"publicId": public_id, "role": column.name, "variantSku": sku})
        elif column.header not in ("sku", "parentSku"):
            row.errors.append(
                RowError(
                    line,
                    parent,
                    (*path, column.header),
                    "NOT_A_VARIANT_FIELD",
                    f"{column.header!r} belongs on the product's row, not a variant's",
                )
            )
    variants[sku] = variant


def _product_cells(
    line: int,
    sku: str | None,
    values: Mapping[str, str],
    columns: list[_Column],
    rules: ValidationRules,
    row: ImportRow,
) -> None:
    patch = row.patch
    media: list[Document] = []
    for column in columns:
        value = values.get(column.header, "")
        if not value:
            continue
        if column.kind == "field":
            if column.name in ("categories", "accessories", "related"):
                patch[column.name] = _split(value)
            elif column.name == "bundle":
                patch["bundle"] = _bundle(line, sku, value, row)
            elif column.name != "sku":
                patch[column.name] = value
        elif column.kind == "localized":
            patch.setdefault(column.name, {})[column.locale] = value
        elif column.kind == "attribute":
            parsed = _attribute(line, sku, ("attributes", column.name), value, column, rules, row)
            if parsed is not None:
                _put_attribute(patch.setdefault("attributes", {}), column, parsed)
        elif column.kind == "media":
            media += [{"publicId": p, "role": column.name} for p in _split(value)]
        else:
            row.errors.append(
                RowError(
                    line,
                    sku,
                    (column.header,),
                    "NOT_A_PRODUCT_FIELD",
                    f"{column.header!r} belongs on a variant's row (with parentSku)",
                )
            )
    if media:
        patch["media"] = media


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def _bundle(line: int, sku: str | None, value: str, row: ImportRow) -> list[Document]:
    components: list[Document] = []
    for part in _split(value):
        component, _, quantity = part.partition("*")
        try:
            count = int(quantity) if quantity else 1
        except ValueError:
            row.errors.append(
                RowError(
                    line, sku, ("bundle",), "INVALID_VALUE", f"{part!r}: write SKU or SKU*QUANTITY"
                )
            )
            continue
        components.append({"sku": component.strip(), "quantity": count})
    return components


def _put_attribute(attributes: Document, column: _Column, value: Document) -> None:
    if column.locale is None:
        attributes[column.name] = value
        return
    entry = attributes.setdefault(column.name, {"value": {}})
    entry["value"][column.locale] = value["value"]


def _attribute(
    line: int,
    sku: str | None,
    path: Path,
    text: str,
    column: _Column,
    rules: ValidationRules,
    row: ImportRow,
) -> Document | None:
    """A cell typed by the attribute's rule: ``1.2 kg`` → ``{"value": 1.2, "unit": "kg"}``,
    ``true``, ``a|b`` for lists; an unknown code stays text for the validator to name."""
    rule = rules.attributes.get(column.name)
    kind = rule.type if rule is not None else "text"

    def invalid(message: str) -> None:
        row.errors.append(RowError(line, sku, path, "INVALID_VALUE", message))

    if column.locale is not None and (rule is None or not rule.localizable):
        invalid(f"{column.name} is not localizable: write the column as attr:{column.name}")
        return None
    if kind == "number":
        match = QUANTITY.match(text)
        number = float(match[1]) if match else math.nan
        if match is None or not math.isfinite(number):
            invalid(f"{text!r} is not a number (with a unit, e.g. '1.2 kg')")
            return None
        value: Document = {"value": int(number) if number.is_integer() else number}
        if match[2]:
            value["unit"] = match[2]
        return value
    if kind == "boolean":
        lowered = text.lower()
        if lowered not in ("true", "false", "yes", "no", "1", "0"):
            invalid(f"{text!r} is not true or false")
            return None
        return {"value": lowered in ("true", "yes", "1")}
    if kind == "list":
        return {"value": _split(text)}
    return {"value": text}


def _csv_error(exc: csv.Error, first: int, last: int, lines: list[str]) -> ImportParseError:
    """csv.Error knows the line it stopped on, not the column: find the cell whose quoting
    broke by scanning the record (lines ``first`` to ``last``) again."""
    return ImportParseError(first, _broken_cell("".join(lines[first - 1 : last])), str(exc))


def _broken_cell(record: str) -> int:
    """The 1-based cell number where quoting breaks in ``record``."""
    cell, quoted, at_start, index = 1, False, True, 0
    while index < len(record):
        char = record[index]
        if quoted:
            if char == '"':
                if record[index + 1 : index + 2] == '"':
                    index += 1
                else:
                    quoted = False
                    following = record[index + 1 : index + 2]
                    if following not in (",", "\r", "\n", ""):
                        return cell
        elif char == '"':
            if not at_start:
                return cell
            quoted = True
        elif char == ",":
            cell += 1
            at_start = True
            index += 1
            continue
        at_start = False
        index += 1
    return cell
