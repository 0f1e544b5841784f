"""The planner's copy-saving steps answer what the writer's functions answer."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.bench_catalog import generate_bench_catalog
from resolvers.imports.plan import _created, merged
from resolvers.writes import diff, merge_patch
from resolvers.writes.changes import BOOKKEEPING

PRODUCTS = generate_bench_catalog(60).products
FIRST_VARIANT = PRODUCTS[0]["variants"][0]["sku"]


def test_a_create_s_change_set_is_the_writer_s_diff_from_nothing() -> None:
    for document in PRODUCTS:
        product = {k: v for k, v in document.items() if k not in BOOKKEEPING or k == "sku"}
        product["related"] = []
        assert _created(product) == diff({}, product)


@pytest.mark.parametrize(
    "patch",
    [
        {},
        {"brand": "Other", "status": None},
        {"name": {"de-DE": None, "fr-FR": "Chaussure"}, "attributes": {"weight": None}},
        {"variants": {"NEW-1": {"options": {"size": "M"}}}},
        {"variants": {"GONE": None, FIRST_VARIANT: {"options": {"color": "red"}, "stock": 4}}},
        {"variants": {FIRST_VARIANT: None}},
        {"variants": {"ANY": {"sku": "ignored", "attributes": {"color": {"value": "red"}}}}},
        {"variants": []},
        {"media": [{"publicId": "x", "role": "hero", "position": 0}], "bundle": None},
    ],
)
def test_merging_a_row_onto_a_stored_product_is_merge_patch(patch: dict[str, Any]) -> None:
    stored = {**PRODUCTS[0], "readiness": {"web": {"score": 80}}, "revision": 3}
    before = repr(stored)
    assert merged(stored, patch) == merge_patch(stored, patch)
    assert repr(stored) == before
