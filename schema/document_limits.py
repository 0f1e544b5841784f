"""Bounds on what a document costs to validate, checked by one linear walk after parsing.

graphql-core's OverlappingFieldsCanBeMerged compares every pair of fields that share a response
name in a selection set, and the sub-selections of every such pair, recursively: 900 copies of
``products { edges { node { sku } } }`` (32 KB, under the token limit) took 2 s of CPU, and a
300-fragment chain overflowed the stack of Strawberry's depth limiter. This walk runs before any
validation rule and refuses, with a validation error, a document whose expanded field count,
nesting (fields and fragment spreads) or estimated pair comparisons exceed the limits. It costs
one pass over the document: fragments are summarised once, in dependency order, without
recursion across fragments, so a fragment chain or cycle cannot overflow the stack here either.

List literals longer than ``max_list_items`` are refused as ``BAD_USER_INPUT`` here, and list
variables by :func:`variable_list_error` before graphql-core coerces them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
)

VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"


@dataclass(frozen=True)
class DocumentLimits:
    """What one document may cost; real storefront and router documents stay far below.

    ``max_fields`` counts field selections with fragments expanded where they are spread.
    ``max_nesting`` counts selection sets and fragment spreads along a path (the depth limit
    counts fields only). ``max_overlap_cost`` bounds an estimate of the field pairs
    OverlappingFieldsCanBeMerged compares (a pair of same-named fields counts 1, plus the
    products of the sizes of their same-named sub-selections); graphql-core spends about 1 µs
    per unit, and documents that select each field once cost 0.
    """

    max_fields: int = 5_000
    max_nesting: int = 48
    max_overlap_cost: int = 10_000
    max_list_items: int = 1_000
    max_variable_list_items: int = 10_000


class LimitExceededError(Exception):
    def __init__(self, error: GraphQLError) -> None:
        super().__init__(error.message)
        self.error = error


def _error(
    message: str, code: str = VALIDATION_FAILED, nodes: Node | None = None, **extra: Any
) -> LimitExceededError:
    return LimitExceededError(
        GraphQLError(message, nodes=nodes, extensions={"code": code, **extra})
    )


@dataclass(slots=True)
class _Field:
    """One field selection: its expanded size and its sub-selection's fields grouped by name."""

    size: int
    # response name -> (number of fields, sum of their sizes)
    children: dict[str, tuple[int, int]]


@dataclass(slots=True)
class _Summary:
    """A selection set (or a fragment's) with the fragments it spreads expanded."""

    groups: dict[str, list[_Field]] = field(default_factory=dict)
    fields: int = 0
    nesting: int = 0
    cost: int = 0
    spreads: int = 0  # fragment spreads directly in this set (graphql-core compares each pair)


def _group_cost(fields: list[_Field]) -> int:
    """An upper bound of the comparisons among fields of one response name in one set.

    Each pair costs 1, plus for each response name under both, the pairs of those children
    (count x count) and everything beneath them (size x size): every pair graphql-core compares
    below is one pair of nodes in those subtrees.
    """
    k = len(fields)
    cost = k * (k - 1) // 2
    totals: dict[str, list[int]] = {}
    for f in fields:
        for name, (count, size) in f.children.items():
            t = totals.setdefault(name, [0, 0, 0, 0])
            t[0] += count
            t[1] += count * count
            t[2] += size
            t[3] += size * size
    for count, count_sq, size, size_sq in totals.values():
        cost += (count * count - count_sq) // 2 + (size * size - size_sq) // 2
    return cost


class _Walk:
    def __init__(self, document: DocumentNode, limits: DocumentLimits) -> None:
        self.limits = limits
        self.fragments: dict[str, FragmentDefinitionNode] = {}
        self.operations: list[OperationDefinitionNode] = []
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                self.fragments.setdefault(definition.name.value, definition)
            elif isinstance(definition, OperationDefinitionNode):
                self.operations.append(definition)
        self.summaries: dict[str, _Summary] = {}

    def run(self) -> None:
        for name in self._fragment_order():
            fragment = self.fragments[name]
            self._check_values(fragment.directives)
            self.summaries[name] = self._selection_set(fragment.selection_set, 0)
        for operation in self.operations:
            self._check_values(operation.directives)
            for variable in operation.variable_definitions or ():
                if variable.default_value is not None:
                    self._check_value(variable.default_value)
                self._check_values(variable.directives)
            self._selection_set(operation.selection_set, 0)

    def _fragment_order(self) -> list[str]:
        """Fragments after those they spread (iterative DFS); a cycle is refused here."""
        spreads = {name: _spread_names(f.selection_set) for name, f in self.fragments.items()}
        order: list[str] = []
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        for root in self.fragments:
            if root in state:
                continue
            state[root] = 1
            stack = [(root, iter(spreads[root]))]
            while stack:
                name, pending = stack[-1]
                child = next(pending, None)
                if child is None:
                    stack.pop()
                    state[name] = 2
                    order.append(name)
                elif child not in spreads:
                    continue  # unknown fragment: KnownFragmentNames reports it
                elif state.get(child) == 1:
                    raise _error(
                        f"Cannot spread fragment '{child}' within itself.",
                        nodes=self.fragments[child],
                    )
                elif child not in state:
                    if len(stack) >= self.limits.max_nesting:
                        raise self._too_deep()
                    state[child] = 1
                    stack.append((child, iter(spreads[child])))
        return order

    def _too_deep(self) -> LimitExceededError:
        return _error(
            "The document nests selections and fragment spreads more than "
            f"{self.limits.max_nesting} levels deep.",
            limit=self.limits.max_nesting,
        )

    def _selection_set(self, selection_set: SelectionSetNode, level: int) -> _Summary:
        if level >= self.limits.max_nesting:
            raise self._too_deep()
        summary = _Summary()
        self._collect(selection_set, level, summary)
        for fields in summary.groups.values():
            if len(fields) > 1:
                summary.cost += _group_cost(fields)
        summary.cost += summary.spreads * (summary.spreads - 1) // 2
        if summary.cost > self.limits.max_overlap_cost:
            message = (
                "The document is too costly to validate: checking that its same-named fields "
                f"can be merged would take about {summary.cost:,} comparisons (at most "
                f"{self.limits.max_overlap_cost:,}). Select each field once per selection set"
            )
            worst = max(summary.groups, key=lambda n: len(summary.groups[n]))
            if len(summary.groups[worst]) > 1:
                message += f"; '{worst}' is selected {len(summary.groups[worst])} times here"
            raise _error(f"{message}.", nodes=selection_set, limit=self.limits.max_overlap_cost)
        return summary

    def _collect(self, selection_set: SelectionSetNode, level: int, summary: _Summary) -> None:
        """Adds the selections to ``summary``; inline fragments merge into the same set."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self._check_values(selection.arguments, selection.directives)
                size, children = 1, {}
                if selection.selection_set is not None:
                    sub = self._selection_set(selection.selection_set, level + 1)
                    size += sub.fields
                    children = {
                        name: (len(fs), sum(f.size for f in fs)) for name, fs in sub.groups.items()
                    }
                    summary.cost += sub.cost
                    summary.nesting = max(summary.nesting, sub.nesting + 1)
                name = (selection.alias or selection.name).value
                summary.groups.setdefault(name, []).append(_Field(size, children))
                self._add_fields(summary, size)
            elif isinstance(selection, InlineFragmentNode):
                self._check_values(selection.directives)
                if level + 1 >= self.limits.max_nesting:
                    raise self._too_deep()
                inner = _Summary()
                self._collect(selection.selection_set, level + 1, inner)
                self._merge(summary, inner)
                summary.spreads += inner.spreads
            elif isinstance(selection, FragmentSpreadNode):
                self._check_values(selection.directives)
                summary.spreads += 1
                spread = self.summaries.get(selection.name.value)
                if spread is not None:  # unknown: KnownFragmentNames reports it
                    if level + 1 + spread.nesting >= self.limits.max_nesting:
                        raise self._too_deep()
                    self._merge(summary, spread)

    def _merge(self, summary: _Summary, inner: _Summary) -> None:
        # Count first: merging costs as many steps as fields, so the budget bounds the walk too.
        self._add_fields(summary, inner.fields)
        for name, fields in inner.groups.items():
            summary.groups.setdefault(name, []).extend(fields)
        summary.cost += inner.cost
        summary.nesting = max(summary.nesting, inner.nesting + 1)

    def _add_fields(self, summary: _Summary, count: int) -> None:
        summary.fields += count
        if summary.fields > self.limits.max_fields:
            raise _error(
                f"The document selects more than {self.limits.max_fields:,} fields "
                "(counting each fragment where it is spread).",
                limit=self.limits.max_fields,
            )

    def _check_values(self, *groups: Iterable[ArgumentNode | DirectiveNode] | None) -> None:
        for group in groups:
            for node in group or ():
                if isinstance(node, DirectiveNode):
                    self._check_values(node.arguments)
                else:
                    self._check_value(node.value)

    def _check_value(self, value: ValueNode) -> None:
        stack = [value]
        while stack:
            node = stack.pop()
            if isinstance(node, ListValueNode):
                if len(node.values) > self.limits.max_list_items:
                    raise _error(
                        f"A list in the document has {len(node.values):,} items; "
                        f"at most {self.limits.max_list_items:,} are allowed.",
                        code=BAD_USER_INPUT,
                        nodes=node,
                    )
                stack.extend(node.values)
            elif isinstance(node, ObjectValueNode):
                stack.extend(f.value for f in node.fields)


def _spread_names(selection_set: SelectionSetNode) -> list[str]:
    names: list[str] = []
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif (
                isinstance(selection, FieldNode | InlineFragmentNode)
                and selection.selection_set is not None
            ):
                stack.append(selection.selection_set)
    return names


def document_limit_error(document: DocumentNode, limits: DocumentLimits) -> GraphQLError | None:
    """The first limit ``document`` exceeds, as a GraphQL error; None when within limits."""
    try:
        _Walk(document, limits).run()
    except LimitExceededError as exceeded:
        return exceeded.error
    return None


def variable_list_error(
    variables: Mapping[str, Any] | None, limits: DocumentLimits
) -> GraphQLError | None:
    """A BAD_USER_INPUT error when a list in the variables is too long, before coercion.

    graphql-core coerces every item (0.64 s for 100,000 brands) before any resolver could
    refuse the list, so the raw JSON is walked first, iteratively and with an item budget.
    """
    if not variables:
        return None
    total = 0
    stack: list[Any] = list(variables.values())
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            if len(value) > limits.max_list_items:
                return GraphQLError(
                    f"A list in the variables has {len(value):,} items; "
                    f"at most {limits.max_list_items:,} are allowed.",
                    extensions={"code": BAD_USER_INPUT},
                )
            total += len(value)
            if total > limits.max_variable_list_items:
                return GraphQLError(
                    f"The variables hold more than {limits.max_variable_list_items:,} "
                    "list items in all.",
                    extensions={"code": BAD_USER_INPUT},
                )
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
    return None
