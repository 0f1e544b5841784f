"""The aggregation expressions behind the audit's definitions: SKU and name normal forms, blank
values and locales filled through fallback chains, run in MongoDB."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.audit.expressions import (
    filled,
    locale_pattern,
    name_key,
    pattern_filled,
    sku_key,
)
from resolvers.normal_forms import normalize_name
from tests.fixtures.audit_catalogs import Database


@pytest.mark.parametrize(
    "name",
    [
        "Trail Runner",
        "  Trail   Runner ",
        "trail-runner",
        "TRAIL__RUNNER",
        "Écouteurs Sans-Fil",
        "écouteurs\tsans fil",
        "ÉCOUTEURS  SANS_FIL ",
        "Ölkanne Ø 20 cm",
        "---",
    ],
)
async def test_name_normal_form_is_normalize_name(db: Database, name: str) -> None:
    await db["t"].insert_one({"name": name})
    cursor = await db["t"].aggregate([{"$project": {"_id": 0, "key": name_key("$name")}}])
    assert (await cursor.to_list()) == [{"key": normalize_name(name)}]


@pytest.mark.parametrize(
    ("value", "is_filled"),
    [
        ("x", True),
        (0, True),
        (False, True),
        (["x", ""], True),
        ({"en-US": ["x"]}, True),
        ("", False),
        (" \t", False),
        (None, False),
        ([], False),
        ([" ", None], False),
        ({}, False),
        ({"en-US": " ", "de-DE": []}, False),
    ],
)
async def test_blank_values(db: Database, value: Any, is_filled: bool) -> None:
    await db["t"].insert_one({"value": value})
    cursor = await db["t"].aggregate([{"$project": {"_id": 0, "filled": filled("$value")}}])
    assert (await cursor.to_list()) == [{"filled": is_filled}]


async def test_locale_pattern_follows_fallback_chains(db: Database) -> None:
    await db["t"].insert_many(
        [
            {"value": {"en-US": "x", "de-DE": "y", "de-AT": " "}},
            {"value": {"en-US": "x", "de-AT": "z"}},
            {"value": "plain"},
            {"value": ""},
        ]
    )
    chains = [["en-US"], ["de-DE"], ["de-AT", "de-DE"], ["fr-FR"]]
    cursor = await db["t"].aggregate(
        [{"$project": {"_id": 0, "p": locale_pattern("$value", chains)}}], hint={"$natural": 1}
    )
    patterns = [d["p"] for d in await cursor.to_list()]
    assert patterns == ["o11110", "o11010", "s1", "s0"]
    assert pattern_filled("o11010", 4) == (True, [True, False, True, False])
    assert pattern_filled("s1", 4) == (True, [True] * 4)


async def test_sku_normal_form_ignores_case_spaces_dashes_and_underscores(db: Database) -> None:
    spellings = ["AB-12-x", "ab_12_X", " Ab 12x ", "AB12X", "a-b_1 2-x"]
    await db["t"].insert_many([{"sku": sku} for sku in spellings])
    cursor = await db["t"].aggregate([{"$project": {"_id": 0, "key": sku_key("$sku")}}])
    assert {d["key"] for d in await cursor.to_list()} == {"AB12X"}
