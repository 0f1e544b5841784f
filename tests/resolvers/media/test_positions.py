"""Ordering references by position when the PIM store holds positions that are not numbers."""

import math

from bson import Decimal128, Int64

from resolvers.media import next_position, ordered_references


def refs(*positions: object) -> list[dict[str, object]]:
    return [{"publicId": f"p{n}", "role": "front", "position": p} for n, p in enumerate(positions)]


def ids(references: list[dict[str, object]]) -> list[object]:
    return [r["publicId"] for r in references]


def test_numbers_in_order_then_the_rest_in_stored_order() -> None:
    references = refs("2", 1, None, 0.5, True, Decimal128("3"), math.nan, Int64(2), {"at": 1})
    del references[2]["position"]  # no position at all counts as 0, as it always has
    assert ids(ordered_references(references)) == [
        "p2",
        "p3",
        "p1",
        "p7",
        "p5",
        "p0",
        "p4",
        "p6",
        "p8",
    ]


def test_shared_references_still_come_before_variant_ones() -> None:
    references = refs("x", 1)
    references[1]["variantSku"] = "V-1"
    assert ids(ordered_references(references)) == ["p0", "p1"]
    assert ids(ordered_references(references, "V-1")) == ["p1", "p0"]


def test_next_position_counts_only_numbered_references() -> None:
    assert next_position([]) == 0
    assert next_position(refs("7", None)) == 0
    assert next_position(refs(0, "9", 2)) == 3
    assert next_position(refs(2.5, Decimal128("4"))) == 5
