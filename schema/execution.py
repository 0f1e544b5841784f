"""graphql-core's executor with each field's per-request work done once per field, not per item.

For every field of every object it completes, graphql-core looks the field up in the schema,
asks the middleware manager for its resolver, copies the field's nodes into a new list and
coerces its arguments from the document (and the variables) again. Within one request all four
give the same answer for every item of a list: on a 48-product listing the arguments of
``name(locale:)``, ``heroImage(channel:)``, ``url(slot:)`` and ``readiness(channel:)`` were
coerced 48 times each, a twentieth of the gateway's CPU (issue 17).

``CatalogExecutionContext`` keeps them per field group for the request. graphql-core memoizes
the field groups of a selection per request (``collect_subfields``), so every item of a list
hands ``execute_field`` the same group object: the plan is keyed on its identity, and holds the
group so that the identity cannot be reused while the request runs. What happens after the
resolver is called (completion, errors, nulls) is graphql-core's own code, unchanged.

Arguments whose coercion fails are not kept: each item reports the error at its own path, as
graphql-core does. Arguments are passed to resolvers as a fresh ``**`` mapping each call, so a
resolver cannot change another item's; the lean resolvers copy list arguments (they may be the
schema's shared default list either way).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from graphql import FieldNode, GraphQLField, GraphQLObjectType, GraphQLOutputType
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.values import get_argument_values
from graphql.pyutils import AwaitableOrValue, Path, Undefined, UndefinedType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


@dataclass(frozen=True, slots=True)
class _FieldPlan:
    """What ``execute_field`` works out for a field group, the same for every item."""

    group: FieldDetailsList  # held: the plan is keyed on its identity
    field: GraphQLField
    resolve: Callable[..., Any]
    nodes: list[FieldNode]
    arguments: dict[str, Any] | None  # None: coerced per call (coercion raised)


class CatalogExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, planning each field group once per request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[GraphQLObjectType, int], _FieldPlan | None] = {}

    def _plan(self, parent_type: GraphQLObjectType, group: FieldDetailsList) -> _FieldPlan | None:
        """The group's plan; None for a field the type does not have (graphql-core skips it)."""
        first = group[0]
        field = self.schema.get_field(parent_type, first.node.name.value)
        if field is None:
            return None
        resolve = field.resolve or self.field_resolver
        if self.middleware_manager:
            resolve = self.middleware_manager.get_field_resolver(resolve)
        arguments: dict[str, Any] | None
        try:
            arguments = (
                get_argument_values(
                    field,
                    first.node,
                    self.variable_values,
                    first.fragment_variable_values,
                    self.hide_suggestions,
                )
                if field.args or first.node.arguments
                else {}
            )
        except Exception:
            arguments = None
        return _FieldPlan(group, field, resolve, [d.node for d in group], arguments)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any | None,
    ) -> AwaitableOrValue[Any] | UndefinedType:
        """graphql-core's ``execute_field`` (3.3) with the plan's lookups and arguments."""
        key = (parent_type, id(field_details_list))
        try:
            plan = self._plans[key]
        except KeyError:
            plan = self._plans[key] = self._plan(parent_type, field_details_list)
        if plan is None:
            return Undefined
        field = plan.field
        return_type = field.type
        info = self.build_resolve_info(field, plan.nodes, parent_type, path)
        try:
            arguments = plan.arguments
            if arguments is None:
                first = field_details_list[0]
                arguments = get_argument_values(
                    field,
                    first.node,
                    self.variable_values,
                    first.fragment_variable_values,
                    self.hide_suggestions,
                )
            result = plan.resolve(source, info, **arguments)
            if self.is_awaitable(result):
                return self.complete_awaitable_value(
                    return_type, field_details_list, info, path, result, position_context
                )
            completed = self.complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
            if self.is_awaitable(completed):
                return self._await_completed(completed, return_type, field_details_list, path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        return completed

    async def _await_completed(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
