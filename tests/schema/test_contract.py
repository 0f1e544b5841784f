"""The GraphQL contract: schema.graphql is what the code serves, and nothing breaks unannounced."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_ast_schema, find_breaking_changes, parse

from gateway.cli import main

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "schema.graphql"
RELEASED = ROOT / "schema" / "released.graphql"
ACCEPTED = ROOT / "schema" / "breaking_changes.toml"


def printed_sdl(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["schema"]) == 0
    return capsys.readouterr().out


def schema_of(sdl: str) -> GraphQLSchema:
    # Federation's directives (@link, @key) are applied, not defined, in a subgraph's SDL.
    return build_ast_schema(parse(sdl), assume_valid_sdl=True)


def breaking_changes(before: str, after: str) -> set[tuple[str, str]]:
    changes = find_breaking_changes(schema_of(before), schema_of(after))
    return {(change.type.name, change.description) for change in changes}


def accepted_changes() -> set[tuple[str, str]]:
    listed = tomllib.loads(ACCEPTED.read_text(encoding="utf-8"))["change"]
    return {(entry["type"], entry["description"]) for entry in listed}


def test_committed_sdl_is_what_the_gateway_serves(capsys: pytest.CaptureFixture[str]) -> None:
    assert printed_sdl(capsys) == COMMITTED.read_text(encoding="utf-8"), (
        "schema.graphql is stale: run `make schema` and review the diff"
    )


def test_every_breaking_change_since_the_release_is_listed() -> None:
    found = breaking_changes(RELEASED.read_text(encoding="utf-8"), COMMITTED.read_text("utf-8"))
    unlisted = found - accepted_changes()
    assert not unlisted, f"breaking changes not listed in {ACCEPTED.name}: {sorted(unlisted)}"


def test_every_listed_change_still_happens() -> None:
    found = breaking_changes(RELEASED.read_text(encoding="utf-8"), COMMITTED.read_text("utf-8"))
    stale = accepted_changes() - found
    assert not stale, f"{ACCEPTED.name} lists changes that no longer happen: {sorted(stale)}"


def test_a_removed_field_or_a_new_required_argument_is_breaking() -> None:
    released = RELEASED.read_text(encoding="utf-8")
    assert "  requestedLocale: String!\n" in released
    assert "  heroImage(channel: String!): MediaAsset\n" in released
    changed = released.replace("  requestedLocale: String!\n", "").replace(
        "  heroImage(channel: String!): MediaAsset\n",
        "  heroImage(channel: String!, slot: String!): MediaAsset\n",
    )
    assert breaking_changes(released, changed) == {
        ("FIELD_REMOVED", "Field AltText.requestedLocale was removed."),
        ("REQUIRED_ARG_ADDED", "A required argument Product.heroImage(slot:) was added."),
    }


def test_an_added_optional_field_is_not_breaking() -> None:
    released = RELEASED.read_text(encoding="utf-8")
    changed = released.replace(
        "  requestedLocale: String!\n", "  requestedLocale: String!\n  x: Int\n"
    )
    assert breaking_changes(released, changed) == set()
