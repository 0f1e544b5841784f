"""The product loaders hide what the request's product clause excludes, in the same command."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.db import Catalog
from resolvers.loaders import Loaders
from tests.command_counter import CommandCounter
from tests.fixtures.small_catalog import product

PUBLISHED_ONLY = {"status": "published"}


async def test_a_hidden_product_loads_as_none_in_one_command(
    db: Any, command_counter: CommandCounter
) -> None:
    catalog = Catalog(db)
    await catalog.products.insert_many(
        [product("P-1", 1), product("D-1", 2, status="draft"), product("A-1", 3, status="archived")]
    )
    loaders = Loaders(catalog, 100, product_clause=PUBLISHED_ONLY)
    with command_counter.record(db.name) as recorded:
        found = await loaders.product_by_sku.load_many(["P-1", "D-1", "A-1", "MISSING"])
    assert [d["sku"] if d else None for d in found] == ["P-1", None, None, None]
    assert [name for _, name, _ in recorded.commands] == ["find"]
    everything = await Loaders(catalog, 100).product_by_sku.load_many(["P-1", "D-1", "A-1"])
    assert [d["sku"] for d in everything if d] == ["P-1", "D-1", "A-1"]


async def test_priming_cannot_slip_a_hidden_product_in(db: Any) -> None:
    catalog = Catalog(db)
    draft = {**product("D-1", 2, status="draft"), "_id": "d1"}
    published = {**product("P-1", 1), "_id": "p1"}
    loaders = Loaders(catalog, 100, product_clause=PUBLISHED_ONLY)
    loaders.prime_products([draft, published])
    assert loaders.product_by_sku.peek_many(["D-1", "P-1"]) == [None, published]
    assert loaders.product_by_id.peek_many(["d1", "p1"]) == [None, published]


async def test_a_clause_the_loaders_cannot_check_is_refused(db: Any) -> None:
    with pytest.raises(ValueError, match="equalities"):
        Loaders(Catalog(db), 100, product_clause={"status": {"$ne": "draft"}})
