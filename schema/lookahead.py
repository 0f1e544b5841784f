"""Prefetch what a page of products will need, judged from the fields the query selects.

A products page, a product or an ``_entities`` batch knows its documents before their fields
resolve. Loading right then what the selected fields will read (linked products level by level,
then every level's assets and the taxonomy, one batch each, as the loaders would) lets every
product field answer synchronously (``schema.settled``). Only what is selected is loaded, so
media stay lazy: a query without media fields reads no asset.

What a field reads is declared next to its resolver (``schema.reads``); the lookahead adds up
the declarations of the selected fields, through fragments, and knows no field by name.

The same declarations say which top-level fields of product documents a query reads
(``product_fields``): the request's product loaders and pages read only those.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)
from strawberry.types.nodes import SelectedField, Selection

from resolvers.assets import AssetKey
from resolvers.channels import Channels
from resolvers.db import Document
from resolvers.media import reference_key
from schema.context import Context
from schema.reads import (
    Linked,
    built_from,
    declared_reads,
    has_resolver,
    product_document_reads,
    python_arguments,
)

Info = strawberry.Info[Context, None]
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Needs:
    """What the selected fields of a product (and of the products it links to) will read."""

    all_media: bool = False
    # Roles whose assets are read when not all are (media(roles:), heroImage's slot roles).
    roles: frozenset[str] = frozenset()
    categories: bool = False
    attributes: bool = False
    # The needs of the linked products, for each selected relation.
    relations: tuple[tuple[Linked, Needs], ...] = ()

    @classmethod
    def of(cls, info: Info) -> Needs:
        """What the selected fields of the objects the field being resolved returns will read.

        Every item of a list shares its field's selection, so the answer is kept per response
        path (list indices left out) for the rest of the request. If reading the selection
        fails (a declaration that raises), nothing is prefetched: the fields load for
        themselves, and the failure is logged.
        """
        key = ("needs", *(k for k in info.path.as_list() if isinstance(k, str)))
        memo = info.context.memo
        if key not in memo:
            try:
                memo[key] = _Walk(info).needs_of_field()
            except Exception:
                _warn(info, "reading what the selected fields need failed")
                memo[key] = cls()
        needs: Needs = memo[key]
        return needs


@dataclass(slots=True)
class _Collected:
    all_media: bool = False
    roles: set[str] = field(default_factory=set)
    categories: bool = False
    attributes: bool = False
    relations: list[tuple[Linked, Needs]] = field(default_factory=list)

    def needs(self) -> Needs:
        return Needs(
            all_media=self.all_media,
            roles=frozenset(self.roles),
            categories=self.categories,
            attributes=self.attributes,
            relations=tuple(self.relations),
        )


class _Walk:
    """Adds up the declarations (``schema.reads``) of the fields a selection reaches."""

    def __init__(self, info: Info) -> None:
        self.info = info
        self.schema: GraphQLSchema = info._raw_info.schema
        self.channels: Channels = info.context.services.channels

    def needs_of_field(self) -> Needs:
        info = self.info
        typename = info.path.typename
        parent = self.schema.get_type(typename) if typename is not None else None
        if not isinstance(parent, GraphQLObjectType):
            raise TypeError(f"no object type for {info.path.as_list()}")
        returned = get_named_type(parent.fields[info.field_name].type)
        return self.needs([s for f in info.selected_fields for s in f.selections], returned)

    def needs(self, selections: list[Selection], named: GraphQLNamedType) -> Needs:
        """The needs of ``selections`` on values of ``named``. For a union or an interface
        (``_entities``) the fields of each of its object types add up: only the types that
        stand for products declare what they read."""
        collected = _Collected()
        for each in _object_types(self.schema, named):
            self._collect(selections, each, collected)
        return collected.needs()

    def _collect(
        self, selections: Iterable[Selection], owner: GraphQLObjectType, into: _Collected
    ) -> None:
        for selection in selections:
            if not isinstance(selection, SelectedField):
                if _fragment_applies(self.schema, selection.type_condition, owner):
                    self._collect(selection.selections, owner, into)
                continue
            graphql_field = owner.fields.get(selection.name)  # None for __typename
            declared = declared_reads(graphql_field) if graphql_field is not None else None
            if graphql_field is None or declared is None:
                continue
            if declared.media is not None:
                arguments = python_arguments(graphql_field, selection.arguments)
                roles = declared.media(arguments, self.channels)
                if roles is None:
                    into.all_media = True
                else:
                    into.roles |= roles
            into.categories |= declared.categories
            into.attributes |= declared.attributes
            below = get_named_type(graphql_field.type)
            if isinstance(declared.nested, Linked):
                into.relations.append((declared.nested, self.needs(selection.selections, below)))
            elif declared.nested is not None:
                for each in _object_types(self.schema, below):
                    self._collect(selection.selections, each, into)


def _object_types(schema: GraphQLSchema, named: GraphQLNamedType) -> list[GraphQLObjectType]:
    """The object types a value of ``named`` may have."""
    if isinstance(named, GraphQLObjectType):
        return [named]
    if isinstance(named, GraphQLUnionType | GraphQLInterfaceType):
        return list(schema.get_possible_types(named))
    return []


def _fragment_applies(
    schema: GraphQLSchema, condition: str | None, owner: GraphQLObjectType
) -> bool:
    """A fragment on ``condition`` applies to objects of ``owner``'s type."""
    if condition is None or condition == owner.name:
        return True
    named = schema.get_type(condition)
    if isinstance(named, GraphQLUnionType | GraphQLInterfaceType):
        return schema.is_sub_type(named, owner)
    return False


def product_fields(info: Info) -> frozenset[str] | None:
    """The top-level fields of product documents that the operation's fields read, wherever
    products appear in it (pages, products, entities, nodes, linked products): one answer per
    request, so a product loaded for one place serves every other. None means whole
    documents: a mutation or a subscription (whose documents may be written back or shown
    whole), a selected field on a product type that declared nothing, or a walk that fails.
    """
    return _operation_reads(info)[0]


def _operation_reads(info: Info) -> tuple[frozenset[str] | None, bool]:
    """``product_fields``, and whether a selected field is kept by its documents' bytes."""
    key = ("product fields",)
    memo = info.context.memo
    if key not in memo:
        found: tuple[frozenset[str] | None, bool] = (None, False)
        if info.operation.operation is OperationType.QUERY:
            try:
                walk = _FieldsWalk(info)
                found = (walk.of_operation(), walk.by_content)
            except Exception:
                _warn(info, "reading which product fields the operation reads failed")
        memo[key] = found
    reads: tuple[frozenset[str] | None, bool] = memo[key]
    return reads


def project_products(info: Info) -> frozenset[str] | None:
    """Make the request's product loaders read only what the operation reads (see
    ``product_fields``), before they load, and record the documents' bytes when a selected
    field is kept by them; returns what a page must read (None: all)."""
    fields, by_content = _operation_reads(info)
    loaders = info.context.loaders
    loaders.raws.recording = loaders.raws.recording or by_content
    return loaders.read_product_fields(fields)


@functools.cache
def _read_for_every_product(schema: GraphQLSchema) -> frozenset[str]:
    """What building the objects every loaded product becomes reads, selected or not."""
    fields: set[str] = set()
    for named in schema.type_map.values():
        found = built_from(named) if isinstance(named, GraphQLObjectType) else None
        if found is not None and found.every_product:
            fields |= found.fields
    return frozenset(fields)


class _UndeclaredError(Exception):
    """A selected field of a product type declared nothing: read whole documents."""


class _FieldsWalk:
    """Adds up ``reads(fields=...)`` over every selection on a type built from product
    documents, anywhere in the operation; everything else is only walked through."""

    def __init__(self, info: Info) -> None:
        raw = info._raw_info
        self.schema = raw.schema
        self.fragments = raw.fragments
        self.operation = raw.operation
        self.fields: set[str] = set()
        self.by_content = False

    def of_operation(self) -> frozenset[str] | None:
        root = self.schema.query_type
        if root is None:
            return None
        self.fields |= _read_for_every_product(self.schema)
        try:
            self._walk(self.operation.selection_set, root)
        except _UndeclaredError:
            return None
        return frozenset(self.fields)

    def _walk(self, selection_set: SelectionSetNode, owner: GraphQLObjectType) -> None:
        to_build = product_document_reads(owner)
        if to_build is not None:
            self.fields |= to_build
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                self._field(node, owner, to_build is not None)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                name = condition.name.value if condition else None
                if _fragment_applies(self.schema, name, owner):
                    self._walk(node.selection_set, owner)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments[node.name.value]
                if _fragment_applies(self.schema, fragment.type_condition.name.value, owner):
                    self._walk(fragment.selection_set, owner)

    def _field(self, node: FieldNode, owner: GraphQLObjectType, of_product: bool) -> None:
        graphql_field = owner.fields.get(node.name.value)
        if graphql_field is None:  # __typename and the like
            return
        if of_product and has_resolver(graphql_field):
            declared = declared_reads(graphql_field)
            if declared is None or declared.fields is None:
                raise _UndeclaredError(f"{owner.name}.{node.name.value}")
            self.fields |= declared.fields
            self.by_content = self.by_content or declared.by_content
        if node.selection_set is not None:
            for each in _object_types(self.schema, get_named_type(graphql_field.type)):
                self._walk(node.selection_set, each)


async def prefetch_products(info: Info, products: Sequence[Document], needs: Needs) -> None:
    """Load what the selected fields of ``products`` will read (see ``load_needs``).

    Only an optimisation: if anything here fails (a malformed document, MongoDB down, a bug),
    the failure is logged and the fields load for themselves, each reporting its own error at
    its own path.
    """
    try:
        await load_needs(info, products, needs)
    except Exception:
        _warn(info, "prefetch failed")


async def load_needs(info: Info, products: Sequence[Document], needs: Needs) -> None:
    """Load linked products one level at a time (one batch per level), then every level's
    assets and the taxonomy in one batch each."""
    loaders = info.context.loaders
    keys: dict[AssetKey, None] = {}
    categories = attributes = False
    level: list[tuple[Sequence[Document], Needs]] = [(products, needs)]
    while level:
        linked: list[tuple[list[str], Needs]] = []
        for documents, wanted in level:
            categories |= wanted.categories
            attributes |= wanted.attributes
            for document in documents:
                for reference in _references(document):
                    if wanted.all_media or reference.get("role") in wanted.roles:
                        keys[reference_key(reference)] = None
            for relation, below in wanted.relations:
                linked.append(([sku for d in documents for sku in relation.skus(d)], below))
        if not linked:
            break
        wanted_skus = list(dict.fromkeys(sku for skus, _ in linked for sku in skus))
        found = await loaders.product_by_sku.load_many(wanted_skus)
        by_sku = {d["sku"]: d for d in found if d is not None}
        level = [([by_sku[s] for s in skus if s in by_sku], below) for skus, below in linked]
    pending: list[Awaitable[Any]] = []
    if keys:
        pending.append(loaders.asset_by_key.prefetch(list(keys)))
    if categories:
        pending.append(loaders.taxonomy.categories())
    if attributes:
        pending.append(loaders.taxonomy.attributes())
    if pending:
        # Errors are left for the fields' own loads, which report them at their paths.
        await asyncio.gather(*pending, return_exceptions=True)


def _warn(info: Info, what: str) -> None:
    """A prefetch that fails costs latency, not correctness: loud enough to be seen."""
    log.warning(
        "request %s: %s at %s; the fields load for themselves",
        info.context.request_id,
        what,
        info.path.as_list(),
        exc_info=True,
    )


def _references(document: Document) -> list[Document]:
    """Well-formed media references; a malformed one is left for its field to report."""
    media = document.get("media")
    return [
        r
        for r in (media if isinstance(media, list) else [])
        if isinstance(r, dict) and isinstance(r.get("publicId"), str)
    ]
