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

A field of a type built from product documents (``product_document``) also says which top-level
fields of the document it reads, ``reads(fields=...)``: a query reads only those of its products.
A field that says nothing makes its requests read whole documents, again only slower;
``tests/schema/test_projection.py`` finds such fields and runs each one both ways.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from graphql import GraphQLField, GraphQLObjectType

from resolvers.channels import Channels
from resolvers.db import Document

# A field's arguments as selected, by the resolver's parameter names: enum arguments arrive as
# names (literals) or members (variables), omitted arguments are absent.
Arguments = Mapping[str, Any]
# The media roles whose assets a field reads, given its arguments; None for every role.
Roles = Callable[[Arguments, Channels], frozenset[str] | None]

# Where Strawberry keeps a GraphQL field's definition (and so its metadata).
_DEFINITION = "strawberry-definition"
# Where ``product_document`` keeps what building an object of a type reads.
_TYPE_READS = "__product_document_reads__"

T = TypeVar("T")


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
    # The top-level fields of its object's product document that it reads, and that the
    # objects it returns read (except products, which declare their own): product reads are
    # projected to what the operation's fields declare (``schema.lookahead.product_fields``).
    # None: the whole document (undeclared is only slower, never wrong).
    fields: frozenset[str] | None = None
    # Its results are kept by the bytes of the documents it reads (readiness's memo): a
    # request that selects it records what MongoDB sends (``resolvers.raw_documents``).
    by_content: bool = False


def reads(
    *,
    media: Roles | None = None,
    categories: bool = False,
    attributes: bool = False,
    nested: SameProducts | Linked | None = None,
    loads_itself: bool = False,
    fields: Iterable[str] | None = None,
    by_content: bool = False,
) -> dict[type[Reads], Reads]:
    """The ``metadata`` of a field that reads these (see ``Reads``)."""
    document = frozenset(fields) if fields is not None else None
    return {Reads: Reads(media, categories, attributes, nested, loads_itself, document, by_content)}


@dataclass(frozen=True, slots=True)
class BuiltFrom:
    """What building an object of a type reads of its product document."""

    fields: frozenset[str]
    # Every product loaded becomes one (pages build them whatever their selection).
    every_product: bool


def product_document(*fields: str, every_product: bool = False) -> Callable[[type[T]], type[T]]:
    """Marks a GraphQL type whose objects are built from a product document, reading ``fields``
    of it to be built (``from_document``); its fields without a resolver read nothing more,
    those with one declare what they read (``reads(fields=...)``). ``every_product``: every
    product a request loads is built as one, selected or not."""

    def mark(cls: type[T]) -> type[T]:
        setattr(cls, _TYPE_READS, BuiltFrom(frozenset(fields), every_product))
        return cls

    return mark


def built_from(owner: GraphQLObjectType) -> BuiltFrom | None:
    """What building an object of ``owner`` reads of its product document; None when its
    objects are not built from product documents."""
    origin = getattr(owner.extensions.get(_DEFINITION), "origin", None)
    # Not inherited: a subclass is built its own way, and says so.
    found = vars(origin).get(_TYPE_READS) if isinstance(origin, type) else None
    return found if isinstance(found, BuiltFrom) else None


def product_document_reads(owner: GraphQLObjectType) -> frozenset[str] | None:
    """The fields of ``built_from``, None when ``owner`` is not built from product documents."""
    found = built_from(owner)
    return found.fields if found is not None else None


def has_resolver(field: GraphQLField) -> bool:
    """Whether a field computes its value (else it was set when its object was built)."""
    definition = field.extensions.get(_DEFINITION)
    return getattr(definition, "base_resolver", None) is not None


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
