"""Import files → rows: CSV column conventions (localized columns, attributes with units,
variant rows, media), and files that cannot be read named by line and column."""

from __future__ import annotations

import pytest

from resolvers.imports import ImportParseError, RowError, parse
from tests.resolvers.imports.fixtures import PROFILES

RULES = PROFILES.validation


def csv_rows(text: str) -> list[tuple[int, str | None, dict[str, object], list[RowError]]]:
    return [(r.line, r.sku, r.patch, r.errors) for r in parse(text.encode(), "csv", RULES)]


def parse_error(data: str, format: str) -> tuple[int, int]:
    with pytest.raises(ImportParseError) as caught:
        parse(data.encode(), format, RULES)  # type: ignore[arg-type]
    return caught.value.line, caught.value.column


def test_csv_product_and_variant_rows_become_one_partial_product() -> None:
    text = (
        "sku,parentSku,status,brand,categories,name[en-US],name[de-DE],description[fr-FR],"
        "attr:weight,attr:waterproof,attr:material[de-DE],attr:features[en-US],option:size,"
        "attr:color,media:hero,media:swatch\n"
        "SHOE-1,,draft,Acme,shoes|trail,Trail Shoe,Laufschuh,Léger,1.2 kg,yes,Leder,"
        "light|grippy,,red,catalog/SHOE-1/hero-1,\n"
        "SHOE-1-42,SHOE-1,,,,,,,,,,,42,blue,,catalog/SHOE-1/swatch-1\n"
    )
    [(line, sku, patch, errors)] = csv_rows(text)
    assert (line, sku, errors) == (2, "SHOE-1", [])
    assert patch == {
        "status": "draft",
        "brand": "Acme",
        "categories": ["shoes", "trail"],
        "name": {"en-US": "Trail Shoe", "de-DE": "Laufschuh"},
        "description": {"fr-FR": "Léger"},
        "attributes": {
            "weight": {"value": 1.2, "unit": "kg"},
            "waterproof": {"value": True},
            "material": {"value": {"de-DE": "Leder"}},
            "features": {"value": {"en-US": ["light", "grippy"]}},
            "color": {"value": "red"},
        },
        "variants": {
            "SHOE-1-42": {"options": {"size": "42"}, "attributes": {"color": {"value": "blue"}}}
        },
        "media": [
            {"publicId": "catalog/SHOE-1/hero-1", "role": "hero", "position": 0},
            {
                "publicId": "catalog/SHOE-1/swatch-1",
                "role": "swatch",
                "variantSku": "SHOE-1-42",
                "position": 1,
            },
        ],
    }


def test_variant_rows_without_their_product_row_update_the_stored_product() -> None:
    text = "sku,parentSku,option:size\nSHOE-1-43,SHOE-1,43\nSHOE-1-44,SHOE-1,44\n"
    [(line, sku, patch, errors)] = csv_rows(text)
    assert (line, sku, errors) == (2, "SHOE-1", [])
    assert patch == {
        "variants": {
            "SHOE-1-43": {"options": {"size": "43"}},
            "SHOE-1-44": {"options": {"size": "44"}},
        }
    }


def test_cells_that_do_not_fit_their_column_are_row_errors_with_line_sku_and_path() -> None:
    text = (
        "sku,parentSku,attr:weight,attr:waterproof,attr:color[de-DE]\n"
        "A-1,,heavy,,\n"
        "A-2,,,perhaps,rot\n"
        "A-1,,,,\n"
    )
    rows = csv_rows(text)
    assert [(e.line, e.sku, e.path, e.code) for _, _, _, errors in rows for e in errors] == [
        (2, "A-1", ("attributes", "weight"), "INVALID_VALUE"),
        (4, "A-1", ("sku",), "DUPLICATE"),
        (3, "A-2", ("attributes", "waterproof"), "INVALID_VALUE"),
        (3, "A-2", ("attributes", "color"), "INVALID_VALUE"),
    ]


def test_csv_files_that_cannot_be_read_name_line_and_column() -> None:
    assert parse_error("sku,colour\nA-1,red\n", "csv") == (1, 2)
    assert parse_error("sku,brand\nA-1,Acme\nA-2,Acme,extra\n", "csv") == (3, 3)
    assert parse_error('sku,brand\nA-1,"Ac"me\n', "csv") == (2, 2)
    assert parse_error('sku,brand\nA-1,Acme\nA-2,"Acme\n', "csv") == (3, 2)
    assert parse_error("", "csv") == (1, 1)


def test_jsonl_files_that_cannot_be_read_name_line_and_column() -> None:
    assert parse_error('{"sku": "A-1"}\n{"sku": "A-2",, }\n', "jsonl") == (2, 15)
    assert parse_error('{"sku": "A-1"}\n\n[1, 2]\n', "jsonl") == (3, 1)
    with pytest.raises(ImportParseError, match="line 2, column 4: not UTF-8"):
        parse(b'{"sku": "A"}\n{"s\xff": 1}\n', "jsonl", RULES)


def test_a_jsonl_line_without_a_sku_is_a_row_error() -> None:
    [row] = parse(b'{"brand": "Acme"}\n', "jsonl", RULES)
    assert row.errors == [RowError(1, None, ("sku",), "REQUIRED", "a SKU is required")]
