"""Every type, field, argument, enum value and input field says what it is: IDE hints,
GraphiQL's docs and generated client types show these descriptions and nothing else.

tests/schema/undocumented.txt lists what still has none; it may only shrink. Federation's
and introspection's own definitions (``_Service``, ``__Type`` …) are not ours to describe.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)

from tests.graphql_helpers import shared_schema

UNDOCUMENTED = Path(__file__).with_name("undocumented.txt")
BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def schema_coordinates(schema: GraphQLSchema) -> Iterator[tuple[str, str | None]]:
    """(schema coordinate, description) of everything a client sees, ours only."""
    for name, type_ in sorted(schema.type_map.items()):
        if name.startswith("_") or name.startswith("link__") or name in BUILT_IN_SCALARS:
            continue
        yield name, type_.description
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in type_.fields.items():
                if field_name.startswith("_"):  # _service, _entities
                    continue
                yield f"{name}.{field_name}", field.description
                for arg_name, arg in field.args.items():
                    yield f"{name}.{field_name}({arg_name}:)", arg.description
        elif isinstance(type_, GraphQLInputObjectType):
            for field_name, input_field in type_.fields.items():
                yield f"{name}.{field_name}", input_field.description
        elif isinstance(type_, GraphQLEnumType):
            for value_name, value in type_.values.items():
                yield f"{name}.{value_name}", value.description


def undocumented() -> set[str]:
    return {
        coordinate
        for coordinate, description in schema_coordinates(shared_schema()._schema)
        if not (description or "").strip()
    }


def allowed() -> set[str]:
    lines = UNDOCUMENTED.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_everything_new_has_a_description() -> None:
    missing = sorted(undocumented() - allowed())
    assert not missing, f"give these a description: {missing}"


def test_the_list_of_undocumented_only_shrinks() -> None:
    done = sorted(allowed() - undocumented())
    assert not done, f"documented (or gone) now: remove them from {UNDOCUMENTED.name}: {done}"
