"""What a field reads through the request's loaders, declared next to its resolver.

A products page, a product and an ``_entities`` batch load what their selected fields will read
before those fields resolve (``schema.lookahead``), so that the fields answer from settled
loader results (``schema.settled``). Each field says what it reads in its ``metadata``::

    @strawberry.field(graphql_type=MediaAsset | None, metadata=reads(media=HERO.roles))
    def hero_image(self, info: Info, channel: str) -> MaybeAwaitable[MediaAsset | None]:
        return chosen_asset(info, self.doc, channel, HERO)

The lookahead knows no field by name: it walks the selection and adds up these declarations.
A field that reads a loader without declaring it still answers (through the batching loaders),
only slower; ``tests/schema/test_prefetch.py`` finds such fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from graphql import GraphQLField

from resolvers.channels import Channels
from resolvers.db import Document

# A field's arguments as selected, by the resolver's parameter names: enum arguments arrive as
# names (literals) or members (variables), omitted arguments are absent.
Arguments = Mapping[str, Any]
# The media roles whose assets a field reads, given its arguments; None for every role.
Roles = Callable[[Arguments, Channels], frozenset[str] | None]

# Where Strawberry keeps a GraphQL field's definition (and so its metadata).
_DEFINITION = "strawberry-definition"


def every_role(arguments: Arguments, channels: Channels) -> None:
    """The field reads the assets of every media reference of its product."""
    return None


@dataclass(frozen=True, slots=True)
class SameProducts:
    """The field's own selection reads the products its object stands for (a variant's
    product, a page's or an edge's products, a bundle component's product)."""


SAME_PRODUCTS: Final = SameProducts()


@dataclass(frozen=True, slots=True)
class Linked:
    """The field's own selection reads the products that a document field lists: SKUs, or
    objects with a ``sku`` (bundle components)."""

    field: str

    def skus(self, document: Document) -> list[str]:
        """The linked SKUs of ``document``; malformed entries are left for the field to report."""
        value = document.get(self.field)
        items = value if isinstance(value, list) else []
        skus = [item.get("sku") if isinstance(item, dict) else item for item in items]
        return [sku for sku in skus if isinstance(sku, str)]


@dataclass(frozen=True, slots=True)
class Reads:
    """What a field reads through the loaders, beyond its object's own document."""

    # Assets of the product's media references with these roles (variants read the product's).
    media: Roles | None = None
    # The taxonomy: all categories, all attribute definitions.
    categories: bool = False
    attributes: bool = False
    # Whose data the field's own selection reads, when it reads any product's.
    nested: SameProducts | Linked | None = None
    # Loads what it shows for itself (one batch per level), and so does everything below it:
    # nothing for the prefetch to do, said so that a check can tell it from an omission.
    loads_itself: bool = False


def reads(
    *,
    media: Roles | None = None,
    categories: bool = False,
    attributes: bool = False,
    nested: SameProducts | Linked | None = None,
    loads_itself: bool = False,
) -> dict[type[Reads], Reads]:
    """The ``metadata`` of a field that reads these (see ``Reads``)."""
    return {Reads: Reads(media, categories, attributes, nested, loads_itself)}


def declared_reads(field: GraphQLField) -> Reads | None:
    """What a field of the schema declared it reads; None when it declared nothing."""
    definition = field.extensions.get(_DEFINITION)
    metadata: Mapping[Any, Any] = getattr(definition, "metadata", None) or {}
    declared = metadata.get(Reads)
    return declared if isinstance(declared, Reads) else None


def python_arguments(field: GraphQLField, selected: Mapping[str, Any]) -> dict[str, Any]:
    """A selected field's arguments (keyed by GraphQL names) by the resolver's parameter names."""
    arguments: dict[str, Any] = {}
    for name, value in selected.items():
        argument = field.args.get(name)
        definition = argument.extensions.get(_DEFINITION) if argument is not None else None
        arguments[getattr(definition, "python_name", name)] = value
    return arguments
