"""Static query cost: what an operation may make the gateway do, priced before it runs.

The cost map follows Shopify's calculated query cost and Apollo's demand control (``@cost`` /
``@listSize``), declared here rather than as SDL directives so the published schema stays
readable by every tool: a scalar or enum field costs 0, an object field 1 (or its weight in
``FIELD_WEIGHTS``), and a list multiplies what it holds by its size: the ``first`` argument, the
number of ``_entities`` representations or ``nodes(ids:)`` ids, else ``LIST_SIZES`` or
``DEFAULT_LIST_SIZE``. A connection's ``first`` multiplies its ``edges`` and ``nodes``.

The plan (one tree per operation) is built once per document, when it is validated, and cached
with it (:mod:`schema.document_cache`); pricing a request resolves its variables against the
plan, a walk over its object fields only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)

QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
THROTTLED = "THROTTLED"
# The per-request maximum unless settings say otherwise (Saleor's default complexity limit):
# a page of 100 products with their variants, media, manifest and readiness (the tests' largest
# real query, about 28,000) passes; 100 products x accessories x related x media (111,101) not.
DEFAULT_MAX_QUERY_COST = 50_000
# A list with no size argument and no entry in LIST_SIZES.
DEFAULT_LIST_SIZE = 10
# Each mutation field, beside what its payload selects (Shopify prices mutations at 10).
MUTATION_WEIGHT = 10

# Weights of object fields that cost more than one read: readiness evaluates every rule of a
# channel profile, the manifest resolves every slot's assets, audits and dashboards scan the
# catalog (cached for CATALOG_DASHBOARD_TTL_S, but a cold one scans every product).
FIELD_WEIGHTS: Mapping[str, int] = {
    "Product.readiness": 5,
    "Product.mediaManifest": 5,
    "Product.history": 5,
    "Category.history": 5,
    "Query.catalogAudit": 200,
    "Query.catalogReadiness": 100,
    "Query.changeEvents": 5,
    "Query.eventDeliveries": 5,
}

# Sizes of lists that take no size argument: what a real catalog holds at most, typically.
LIST_SIZES: Mapping[str, int] = {
    "Query.categories": 50,
    "Query.channels": 10,
    "Query.apiKeys": 50,
    "Product.categories": 5,
    "Product.variants": 20,
    "Product.media": 10,
    "Product.accessories": 10,
    "Product.related": 10,
    "Product.bundleItems": 10,
    "Category.ancestors": 5,
    "Category.children": 20,
}

# Arguments whose value (an Int) or length (a list) is the size of the list a field returns.
SIZE_ARGUMENTS = ("first", "top", "limit")
LENGTH_ARGUMENTS: Mapping[str, str] = {"Query._entities": "representations", "Query.nodes": "ids"}
PAGE_FIELDS = frozenset({"edges", "nodes"})


@dataclass(frozen=True, slots=True)
class Size:
    """A list's size: a number, or a variable's value (``length``: its length) with a default."""

    fixed: int
    variable: str | None = None
    length: bool = False

    def resolve(self, variables: Mapping[str, Any] | None) -> int:
        if self.variable is None or not variables or self.variable not in variables:
            return self.fixed
        value = variables[self.variable]
        if self.length:
            return len(value) if isinstance(value, list) else 1
        # A bad value is graphql-core's to refuse; here it must not crash the pricing, and a
        # negative size (refused by the field) must not pay for the fields beside it.
        if isinstance(value, int) and not isinstance(value, bool):
            return max(0, value)
        return self.fixed


ONE = Size(1)


@dataclass(frozen=True, slots=True)
class CostNode:
    """An object field: ``size x (weight + children)``."""

    weight: int
    size: Size
    children: tuple[CostNode, ...]

    def price(self, variables: Mapping[str, Any] | None) -> int:
        inner = sum(child.price(variables) for child in self.children)
        return self.size.resolve(variables) * (self.weight + inner)


@dataclass(frozen=True, slots=True)
class CostPlan:
    """One tree per named operation (``None``: the document's single anonymous one)."""

    operations: Mapping[str | None, tuple[CostNode, ...]]

    def price(self, operation_name: str | None, variables: Mapping[str, Any] | None) -> int:
        roots = self.operations.get(operation_name)
        if roots is None:
            if operation_name is not None or len(self.operations) != 1:
                return 0  # no such operation: graphql-core reports it, nothing runs
            roots = next(iter(self.operations.values()))
        return sum(root.price(variables) for root in roots)


@dataclass(slots=True)
class QueryCost:
    """One request's price: the limit it is held to, then what its operation was priced at.

    ``price_only`` answers with the price and runs nothing (the X-Cost-Only header).
    ``actual`` is the requested cost once the operation ran: fields are not metered as they
    resolve (that would cost every resolver), so it is 0 when nothing ran.
    """

    limit: int = DEFAULT_MAX_QUERY_COST
    price_only: bool = False
    requested: int | None = None
    actual: int = 0
    # Spends the price from the caller's budget: None when it had enough, else seconds to wait.
    charge: Callable[[int], float | None] | None = None
    retry_after: float | None = None


def throttled(cost: int, retry_after: float) -> GraphQLError:
    return GraphQLError(
        f"The operation costs {cost:,}, more than is left of this key's budget; "
        f"retry in {retry_after:.1f} s (extensions.cost.throttleStatus has the budget).",
        extensions={"code": THROTTLED, "cost": cost},
    )


def too_costly(cost: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"The operation's cost {cost:,} is over the maximum of {limit:,} per request; "
        "ask for fewer items (first:) or fewer nested lists.",
        extensions={"code": QUERY_TOO_COSTLY, "cost": cost, "limit": limit},
    )


def _literal_size(value: ValueNode, defaults: Mapping[str, Any], length: bool) -> Size | None:
    if isinstance(value, VariableNode):
        name = value.name.value
        default = defaults.get(name)
        fallback = default.fixed if isinstance(default, Size) else DEFAULT_LIST_SIZE
        return Size(fallback, name, length)
    if length and isinstance(value, ListValueNode):
        return Size(len(value.values))
    if not length and isinstance(value, IntValueNode):
        return Size(max(0, int(value.value)))
    return None


class _Planner:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.defaults: dict[str, Size] = {}

    def operation(self, operation: OperationDefinitionNode) -> tuple[CostNode, ...]:
        self.defaults = {}
        for variable in operation.variable_definitions or ():
            value = variable.default_value
            if isinstance(value, IntValueNode):
                self.defaults[variable.variable.name.value] = Size(max(0, int(value.value)))
            elif isinstance(value, ListValueNode):
                self.defaults[variable.variable.name.value] = Size(len(value.values))
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return ()
        extra = MUTATION_WEIGHT if operation.operation is OperationType.MUTATION else 0
        return self._selections(operation.selection_set, root, extra, frozenset(), None)

    def _selections(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType,
        extra: int,
        spreading: frozenset[str],
        page: Size | None,
    ) -> tuple[CostNode, ...]:
        nodes: list[CostNode] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                node = self._field(selection, parent, extra, spreading, page)
                if node is not None:
                    nodes.append(node)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                if target is not None:
                    nodes.extend(
                        self._selections(selection.selection_set, target, extra, spreading, page)
                    )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spreading:  # validation refuses both
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                if target is not None:
                    nodes.extend(
                        self._selections(
                            fragment.selection_set, target, extra, spreading | {name}, page
                        )
                    )
        return tuple(nodes)

    def _field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType,
        extra: int,
        spreading: frozenset[str],
        page: Size | None,
    ) -> CostNode | None:
        if node.selection_set is None:
            return None  # scalars and enums cost 0
        definition = _field_definition(parent, node.name.value)
        if definition is None:
            return None  # __typename, introspection, or unknown (validation reports it)
        key = f"{parent.name}.{node.name.value}"
        returned = get_nullable_type(definition.type)
        named = get_named_type(returned)
        size = ONE
        child_page: Size | None = None
        if isinstance(returned, GraphQLList):
            if page is not None and node.name.value in PAGE_FIELDS:
                size = page
            else:
                size = self._list_size(node, key, definition)
        elif named.name.endswith("Connection"):
            child_page = self._list_size(node, key, definition)
        # An edge only wraps its node: the node is the object read.
        weight = 0 if named.name.endswith("Edge") else FIELD_WEIGHTS.get(key, 1) + extra
        children = self._selections(node.selection_set, named, 0, spreading, child_page)
        return CostNode(weight, size, children)

    def _list_size(self, node: FieldNode, key: str, definition: GraphQLField) -> Size:
        arguments = {a.name.value: a.value for a in node.arguments or ()}
        length_argument = LENGTH_ARGUMENTS.get(key)
        if length_argument is not None and length_argument in arguments:
            size = _literal_size(arguments[length_argument], self.defaults, length=True)
            if size is not None:
                return size
        for name in SIZE_ARGUMENTS:
            if name in arguments:
                size = _literal_size(arguments[name], self.defaults, length=False)
                if size is not None:
                    return size
        for name in SIZE_ARGUMENTS:
            argument = definition.args.get(name)
            if argument is not None and isinstance(argument.default_value, int):
                return Size(argument.default_value)
        return Size(LIST_SIZES.get(key, DEFAULT_LIST_SIZE))


def _field_definition(parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    fields: Mapping[str, GraphQLField] | None = getattr(parent, "fields", None)
    return fields.get(name) if fields is not None else None


def cost_plan(schema: GraphQLSchema, document: DocumentNode) -> CostPlan:
    """The document's cost plan; call it on a valid document."""
    planner = _Planner(schema, document)
    operations: dict[str | None, tuple[CostNode, ...]] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            name = definition.name.value if definition.name else None
            operations.setdefault(name, planner.operation(definition))
    return CostPlan(operations)
