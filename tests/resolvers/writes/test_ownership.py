"""Field ownership: the shipped file, who may write what, and file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.access import load_roles
from resolvers.access.principal import Principal
from resolvers.writes.changes import FieldChange
from resolvers.writes.ownership import (
    Ownership,
    OwnershipConfigError,
    OwnershipViolation,
    load_ownership,
    parse_ownership,
)

SETTINGS = Settings()
ROLES = load_roles(SETTINGS.roles_path)
OWNERSHIP = load_ownership(SETTINGS.ownership_path, ROLES.sources)


def key(role: str, source: str | None) -> Principal:
    found = ROLES.get(role)
    assert found is not None
    return Principal("key", found, "a key", key_id="k1", source=source)


PRICE = FieldChange(("attributes", "price"), {"value": 10}, {"value": 12})
NAME = FieldChange(("name", "de-DE"), "Schuh", "Laufschuh")
WEIGHT = FieldChange(("attributes", "weight"), None, {"value": 300, "unit": "g"})


def test_the_longest_pattern_decides_and_unlisted_fields_belong_to_the_default() -> None:
    assert OWNERSHIP.owner_of(("attributes", "price")) == "erp"
    assert OWNERSHIP.owner_of(("attributes", "weight")) == "pim"
    assert OWNERSHIP.owner_of(("variants", "SKU-1", "stock")) == "erp"
    assert OWNERSHIP.owner_of(("variants", "SKU-1", "options")) == "pim"
    assert OWNERSHIP.owner_of(("name", "de-DE")) == "pim"
    assert OWNERSHIP.owner_of(("somethingNew",)) == "editorial"


def test_a_source_system_writes_what_it_owns_and_is_told_who_owns_the_rest() -> None:
    erp = key("integration", "erp")
    assert OWNERSHIP.check(erp, [PRICE]) == []
    assert OWNERSHIP.check(erp, [PRICE, NAME]) == [OwnershipViolation(("name", "de-DE"), "pim")]


def test_editors_write_what_pim_and_editorial_own_but_not_the_erp_fields() -> None:
    for principal in (key("editor", None), key("lead", "editorial"), key("integration", "pim")):
        assert OWNERSHIP.check(principal, [NAME, WEIGHT]) == []
        assert OWNERSHIP.check(principal, [PRICE]) == [
            OwnershipViolation(("attributes", "price"), "erp")
        ]


def test_in_process_callers_write_everything() -> None:
    assert OWNERSHIP.check(Principal.system(), [PRICE, NAME]) == []


def test_a_new_variant_carrying_stock_touches_the_erp_field_inside_it() -> None:
    added = FieldChange(("variants", "SKU-1-RED"), None, {"sku": "SKU-1-RED", "stock": 4})
    assert OWNERSHIP.check(key("editor", None), [added]) == [
        OwnershipViolation(("variants", "SKU-1-RED", "stock"), "erp")
    ]
    without_stock = FieldChange(("variants", "SKU-1-RED"), None, {"sku": "SKU-1-RED"})
    assert OWNERSHIP.check(key("editor", None), [without_stock]) == []


def test_open_ownership_lets_editors_write_everything() -> None:
    assert Ownership.open().check(key("editor", None), [PRICE, NAME]) == []


BAD_FILES = [
    ('default = "sap"\neditors_write = ["pim"]\n', 1, "default: 'sap' is not a source system"),
    (
        'default = "pim"\neditors_write = ["pim"]\n\n[owners]\nerp = ["price"]\n',
        5,
        "owners.erp: 'price' does not start with a product field",
    ),
    (
        'default = "pim"\neditors_write = ["pim"]\n\n[owners]\nerp = ["name"]\ndam = ["name"]\n',
        6,
        "owners.dam: 'name' is already owned by 'erp'",
    ),
    (
        'default = "pim"\neditors_write = ["pim"]\n[owners]\nerp = ["attributes.pr ice"]\n',
        4,
        "segments are codes",
    ),
    ('default = "pim"\n', 1, "editors_write: Field required"),
]


@pytest.mark.parametrize(("text", "line", "reason"), BAD_FILES)
def test_a_bad_file_names_its_line_and_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(OwnershipConfigError) as raised:
        parse_ownership(text, "own.toml", ROLES.sources)
    assert str(raised.value).startswith(f"own.toml:{line}: ")
    assert reason in str(raised.value)


def test_start_up_refuses_a_bad_ownership_file(tmp_path: Path) -> None:
    bad = tmp_path / "ownership.toml"
    bad.write_text('default = "sap"\neditors_write = []\n')
    with pytest.raises(OwnershipConfigError, match=r"ownership\.toml:1: default"):
        load_profiles(Settings(ownership=bad))
