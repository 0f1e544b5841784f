"""GraphQL types derived from dataclasses (schema.types.derived): fields, order, nullability and
lists follow the dataclass, the values served are the domain objects themselves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

import pytest
import strawberry

from schema.types.derived import DerivedTypes

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    total: int
    items: tuple[T, ...]


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    kind: Literal["a", "b"]
    note: str | None
    tags: tuple[str, ...]


def test_a_derived_type_serves_the_domain_objects() -> None:
    derived = DerivedTypes()
    derived.object_type(Item, "Item", description="One item.", docs={"note": "Optional."})
    item_page = derived.object_type(Page[Item], "ItemPage", fields=("items", "total"))

    def resolve() -> Page[Item]:
        return Page(1, (Item("x", "a", None, ("t",)),))

    @strawberry.type
    class Query:
        page: Page[Item] = strawberry.field(resolver=resolve, graphql_type=item_page)

    schema = strawberry.Schema(query=Query)
    sdl = schema.as_str()
    assert '"""One item."""\ntype Item {\n  code: String!\n  kind: String!\n' in sdl
    assert '  """Optional."""\n  note: String\n  tags: [String!]!\n}' in sdl
    assert "type ItemPage {\n  items: [Item!]!\n  total: Int!\n}" in sdl
    result = schema.execute_sync("{ page { total items { code kind note tags } } }")
    assert result.errors is None
    assert result.data == {
        "page": {"total": 1, "items": [{"code": "x", "kind": "a", "note": None, "tags": ["t"]}]}
    }


def test_mistakes_are_named() -> None:
    derived = DerivedTypes()
    with pytest.raises(TypeError, match="derive the types of its parts first"):
        derived.object_type(Page[Item], "ItemPage")
    with pytest.raises(ValueError, match=r"Item has no fields \['cost'\]"):
        derived.object_type(Item, "Item", fields=("code", "cost"))
    with pytest.raises(ValueError, match=r"Item does not show the fields \['note'\]"):
        derived.object_type(Item, "Item", fields=("code",), docs={"note": "Optional."})
    with pytest.raises(TypeError, match="not a dataclass"):
        derived.object_type(int, "Int")
    derived.object_type(Item, "Item")
    with pytest.raises(ValueError, match="already has the GraphQL type"):
        derived.object_type(Item, "OtherItem")
