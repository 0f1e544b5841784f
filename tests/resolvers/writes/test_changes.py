"""Change sets: paths as fine as a person edits, and apply(diff) giving the document back."""

from __future__ import annotations

from typing import Any

from resolvers.writes.changes import FieldChange, apply, diff, merge_patch, overlaps, value_at

BEFORE: dict[str, Any] = {
    "_id": 1,
    "sku": "P-1",
    "revision": 3,
    "status": "draft",
    "name": {"en-US": "Trail Shoe", "de-DE": "Laufschuh"},
    "attributes": {"weight": {"value": 300, "unit": "g"}, "color": {"value": "red"}},
    "variants": [
        {"sku": "P-1-S", "options": {"size": "S"}, "attributes": {"gtin": {"value": "1"}}},
        {"sku": "P-1-M", "options": {"size": "M"}},
    ],
    "media": [{"publicId": "a", "role": "hero", "position": 0}],
    "accessories": ["X"],
    "categories": ["shoes"],
}


def test_paths_per_locale_attribute_variant_field_and_whole_lists() -> None:
    after = merge_patch(
        BEFORE,
        {
            "name": {"de-DE": "Trailschuh", "fr-FR": "Chaussure", "en-US": None},
            "attributes": {"weight": {"value": 0.3, "unit": "kg"}},
            "variants": {
                "P-1-S": {"attributes": {"gtin": {"value": "2"}}, "stock": 4},
                "P-1-M": None,
                "P-1-L": {"options": {"size": "L"}},
            },
            "media": [*BEFORE["media"], {"publicId": "b", "role": "side", "position": 1}],
            "status": "published",
            "revision": 99,
        },
    )
    # Fields in name order; inside a field, by locale or code; variants in document order.
    assert [c.path for c in diff(BEFORE, after)] == [
        ("attributes", "weight"),
        ("media",),
        ("name", "de-DE"),
        ("name", "en-US"),
        ("name", "fr-FR"),
        ("status",),
        ("variants", "P-1-S", "attributes", "gtin"),
        ("variants", "P-1-S", "stock"),
        ("variants", "P-1-M"),
        ("variants", "P-1-L"),
    ]
    assert after["revision"] == 3, "bookkeeping is never patched"
    changes = {c.path: c for c in diff(BEFORE, after)}
    assert changes[("name", "en-US")] == FieldChange(("name", "en-US"), "Trail Shoe", None)
    assert changes[("variants", "P-1-M")].after is None


def test_apply_of_a_diff_gives_the_document_back_and_undoing_it_gives_the_original() -> None:
    after = merge_patch(
        BEFORE,
        {
            "name": {"de-DE": "Trailschuh"},
            "variants": {"P-1-S": {"options": {"size": "XS"}}, "P-1-M": None},
            "accessories": None,
            "related": ["Y"],
        },
    )
    changes = diff(BEFORE, after)
    assert apply(BEFORE, changes) == after
    undo = [FieldChange(c.path, c.after, c.before) for c in changes]
    assert apply(after, undo) == BEFORE


def test_no_change_is_an_empty_set_and_empty_lists_equal_absent_ones() -> None:
    assert diff(BEFORE, merge_patch(BEFORE, {"name": {"de-DE": "Laufschuh"}})) == []
    assert diff({"sku": "A"}, {"sku": "A", "related": [], "name": {}}) == []


def test_value_at_and_overlaps() -> None:
    assert value_at(BEFORE, ("name", "de-DE")) == "Laufschuh"
    assert value_at(BEFORE, ("variants", "P-1-S", "attributes", "gtin")) == {"value": "1"}
    assert value_at(BEFORE, ("variants", "P-1-M", "options")) == {"size": "M"}
    assert value_at(BEFORE, ("variants", "nope")) is None
    assert overlaps(("variants", "P-1-S"), ("variants", "P-1-S", "options"))
    assert not overlaps(("name", "de-DE"), ("name", "fr-FR"))
