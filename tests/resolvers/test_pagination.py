from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from resolvers.db import Catalog
from resolvers.errors import BadUserInputError
from resolvers.pagination import SortSpec, decode_cursor, encode_cursor
from resolvers.products import SortField, fetch_page, sort_spec

BASE = datetime(2026, 1, 1, tzinfo=UTC)


def rows(n: int) -> list[dict[str, Any]]:
    """Names with duplicates and gaps: ties and nulls are where keyset pagination breaks."""
    documents = []
    for i in range(n):
        name = None if i % 5 == 0 else f"name-{i % 7}"
        documents.append(
            {
                "sku": f"SKU-{i:03d}",
                "name": {"en-US": name} if name else {},
                "updatedAt": BASE + timedelta(minutes=i % 4),
                # Stored readiness scores with ties and gaps (some products never scored).
                **({"readiness": {"web": {"score": (i * 37) % 11}}} if i % 6 else {}),
            }
        )
    return documents


async def walk(catalog: Catalog, spec: SortSpec, size: int) -> list[str]:
    skus, after = [], None
    while True:
        page = await fetch_page(catalog, {}, spec, size, after)
        skus += [d["sku"] for d in page.documents]
        if not page.has_next_page:
            return skus
        after = encode_cursor(spec, page.documents[-1])


@pytest.mark.parametrize("field", list(SortField))
@pytest.mark.parametrize("descending", [False, True])
async def test_pages_cover_every_row_once_in_sort_order(
    db: Any, field: SortField, descending: bool
) -> None:
    catalog = Catalog(db)
    await catalog.products.insert_many(rows(37))
    spec = sort_spec(field, descending, "en-US", channel="web")
    expected = [d["sku"] async for d in catalog.products.find().sort(spec.mongo_sort)]
    assert await walk(catalog, spec, 5) == expected
    assert len(expected) == 37


async def test_rows_inserted_between_pages_neither_repeat_nor_shift(db: Any) -> None:
    catalog = Catalog(db)
    await catalog.products.insert_many(rows(10))
    spec = sort_spec(SortField.SKU, False, "en-US")
    first = await fetch_page(catalog, {}, spec, 4, None)
    assert [d["sku"] for d in first.documents] == ["SKU-000", "SKU-001", "SKU-002", "SKU-003"]
    # One row lands before the cursor, one after it.
    await catalog.products.insert_many([{"sku": "SKU-001a"}, {"sku": "SKU-005a"}])
    second = await fetch_page(catalog, {}, spec, 4, encode_cursor(spec, first.documents[-1]))
    assert [d["sku"] for d in second.documents] == ["SKU-004", "SKU-005", "SKU-005a", "SKU-006"]


async def test_zero_rows_and_exact_last_page(db: Any) -> None:
    catalog = Catalog(db)
    await catalog.products.insert_many(rows(4))
    spec = sort_spec(SortField.SKU, False, "en-US")
    empty = await fetch_page(catalog, {}, spec, 0, None)
    assert (empty.documents, empty.has_next_page) == ([], False)
    exact = await fetch_page(catalog, {}, spec, 4, None)
    assert (len(exact.documents), exact.has_next_page) == (4, False)


def test_cursor_round_trip_keeps_datetimes() -> None:
    spec = sort_spec(SortField.UPDATED_AT, True, "en-US")
    oid = ObjectId()
    cursor = decode_cursor(encode_cursor(spec, {"_id": oid, "updatedAt": BASE}), spec)
    assert (cursor.value, cursor.id) == (BASE, oid)


@pytest.mark.parametrize("cursor", ["garbage", "", "W10", "eyJhIjoxfQ"])
def test_malformed_cursors_are_user_errors(cursor: str) -> None:
    with pytest.raises(BadUserInputError, match="invalid cursor"):
        decode_cursor(cursor, sort_spec(SortField.SKU, False, "en-US"))


def test_cursor_of_another_sort_is_rejected() -> None:
    by_sku = sort_spec(SortField.SKU, False, "en-US")
    cursor = encode_cursor(by_sku, {"_id": ObjectId(), "sku": "A"})
    with pytest.raises(BadUserInputError, match="another sort"):
        decode_cursor(cursor, sort_spec(SortField.SKU, True, "en-US"))
    with pytest.raises(BadUserInputError, match="another sort"):
        decode_cursor(cursor, sort_spec(SortField.NAME, False, "en-US"))


async def test_names_sort_alphabetically_in_their_language(db: Any) -> None:
    catalog = Catalog(db)
    names = ["zebra", "Äpfel", "apple", "Banana", "Apfel"]
    await catalog.products.insert_many(
        [{"sku": f"S{i}", "name": {"de-DE": n}} for i, n in enumerate(names)]
    )
    spec = sort_spec(SortField.NAME, False, "de-DE")
    skus = await walk(catalog, spec, 2)
    assert [names[int(s[1:])] for s in skus] == ["Apfel", "Äpfel", "apple", "Banana", "zebra"]


# de-AT falls back to de-DE, then to the default locale (resolvers.locales.LocaleResolver.chain).
DE_AT_CHAIN = ("de-AT", "de-DE", "en-US")
# What name(locale: "de-AT") shows for each product, by SKU; None: no name in the chain.
SHOWN_IN_DE_AT = {
    "S0": "Apfel",  # de-DE, its English name is ignored
    "S1": "Banana",  # en-US only
    "S2": "Marille",  # de-AT wins over de-DE
    "S3": "Citrus",  # blank de-DE counts as missing
    "S4": None,
    "S5": "Äpfel",  # sorts with A in German, after Apfel
    "S6": "Zwetschke",
    "S7": None,  # only a locale outside the chain
}


def names_in_the_chain() -> list[dict[str, Any]]:
    names: list[dict[str, str]] = [
        {"en-US": "Zebra", "de-DE": "Apfel"},
        {"en-US": "Banana"},
        {"de-AT": "Marille", "de-DE": "Aprikose", "en-US": "Apricot"},
        {"de-DE": "  ", "en-US": "Citrus"},
        {},
        {"de-DE": "Äpfel"},
        {"de-AT": "Zwetschke", "en-US": "Plum"},
        {"fr-FR": "Aaa"},
    ]
    return [{"sku": f"S{i}", "name": name} for i, name in enumerate(names)]


@pytest.mark.parametrize("descending", [False, True])
async def test_name_sort_follows_the_fallback_chain_of_its_locale(
    db: Any, descending: bool
) -> None:
    """NAME in de-AT orders by the name ``name(locale: "de-AT")`` shows, in German order; the
    products without any name of the chain come first ascending, last descending."""
    catalog = Catalog(db)
    await catalog.products.insert_many(names_in_the_chain())
    spec = sort_spec(SortField.NAME, descending, "de-AT", chain=DE_AT_CHAIN)
    named = ["S0", "S5", "S1", "S3", "S2", "S6"]  # Apfel Äpfel Banana Citrus Marille Zwetschke
    expected = ["S4", "S7", *named] if not descending else [*reversed(named), "S7", "S4"]
    assert await walk(catalog, spec, 2) == expected


async def test_name_sort_cursors_carry_the_shown_name_and_survive_inserts(db: Any) -> None:
    catalog = Catalog(db)
    await catalog.products.insert_many(names_in_the_chain())
    spec = sort_spec(SortField.NAME, False, "de-AT", chain=DE_AT_CHAIN)
    first = await fetch_page(catalog, {}, spec, 4, None)
    assert [d["sku"] for d in first.documents] == ["S4", "S7", "S0", "S5"]
    cursor = encode_cursor(spec, first.documents[-1])
    assert decode_cursor(cursor, spec).value == SHOWN_IN_DE_AT["S5"]
    # One product lands before the cursor (by its de-DE name), one after it (by its English one).
    await catalog.products.insert_many(
        [
            {"sku": "N1", "name": {"de-DE": "Ameise", "en-US": "Ant"}},
            {"sku": "N2", "name": {"en-US": "Bear"}},
        ]
    )
    second = await fetch_page(catalog, {}, spec, 3, cursor)
    assert [d["sku"] for d in second.documents] == ["S1", "N2", "S3"]
