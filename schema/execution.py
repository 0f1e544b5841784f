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

Each selection (a grouped field set, also memoized per request) is planned too: fields that
only read an attribute of their source and return a scalar or an enum, and ``__typename``, are
answered in place without ``execute_field``, falling back to it when the value would fail.

A union's member type is found once per class per request where Strawberry's union resolver
answers from the class alone (``complete_abstract_value``): an ``_entities`` batch searched the
union's members for every entity.

Arguments whose coercion fails are not kept: each item reports the error at its own path, as
graphql-core does. Arguments are passed to resolvers as a fresh ``**`` mapping each call, so a
resolver cannot change another item's; the lean resolvers copy list arguments (they may be the
schema's shared default list either way).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLUnionType,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.values import get_argument_values
from graphql.pyutils import AwaitableOrValue, Path, Undefined, UndefinedType, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.cast import get_strawberry_type_cast
from strawberry.types.field import StrawberryField


@dataclass(frozen=True, slots=True)
class _FieldPlan:
    """What ``execute_field`` works out for a field group, the same for every item."""

    group: FieldDetailsList  # held: the plan is keyed on its identity
    field: GraphQLField
    resolve: Callable[..., Any]
    nodes: list[FieldNode]
    arguments: dict[str, Any] | None  # None: coerced per call (coercion raised)


@dataclass(frozen=True, slots=True)
class _Attribute:
    """A field that reads one attribute of its source and returns a scalar or an enum."""

    name: str
    type: GraphQLLeafType
    non_null: bool


@dataclass(frozen=True, slots=True)
class _TypeName:
    """``__typename``: the parent type's name."""

    value: str


# Field directives graphql-core has applied before execute_fields sees the field.
_APPLIED_WHEN_COLLECTED = frozenset({"include", "skip"})

# What execute_fields does for each response key of a selection: read an attribute, answer
# the type name, or graphql-core's execute_field (None).
_Entry = tuple[str, FieldDetailsList, _Attribute | _TypeName | None]


def _class_decides(return_type: GraphQLAbstractType, cls: type, value: Any) -> bool:
    """Whether Strawberry's resolver of this union answers from ``cls`` alone."""
    if not isinstance(return_type, GraphQLUnionType) or not _is_strawberry_union_resolver(
        return_type.resolve_type
    ):
        return False
    definition = getattr(cls, "__strawberry_definition__", None)
    return (
        isinstance(definition, StrawberryObjectDefinition)
        and not definition.is_graphql_generic
        and definition.concrete_of is None
        and get_strawberry_type_cast(value) is None
    )


def _is_strawberry_union_resolver(resolve_type: Any) -> bool:
    # Strawberry builds it in StrawberryUnion.get_type_resolver; a union given another
    # resolver may answer from more than the class.
    return getattr(resolve_type, "__qualname__", "") == _STRAWBERRY_UNION_RESOLVER


_STRAWBERRY_UNION_RESOLVER = "StrawberryUnion.get_type_resolver.<locals>._resolve_union_type"


@dataclass(frozen=True, slots=True)
class _SelectionPlan:
    fields: GroupedFieldSet  # held: the plan is keyed on its identity
    entries: tuple[_Entry, ...] | None  # None: no attribute field, graphql-core's loop


class CatalogExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, planning each field group once per request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[GraphQLObjectType, int], _FieldPlan | None] = {}
        self._selections: dict[tuple[GraphQLObjectType, int], _SelectionPlan] = {}
        self._runtime_types: dict[tuple[GraphQLAbstractType, type], GraphQLObjectType] = {}
        # Strawberry hands every request a manager, empty unless an extension has resolve().
        manager = self.middleware_manager
        self._middleware = bool(manager is not None and manager.middlewares)

    def _in_place(
        self, parent_type: GraphQLObjectType, group: FieldDetailsList
    ) -> _Attribute | _TypeName | None:
        """How to answer a field without ``execute_field``; None when it needs it."""
        # Middleware (a schema extension's resolve hook) must see every field.
        if self._middleware or any(
            directive.name.value not in _APPLIED_WHEN_COLLECTED
            for details in group
            for directive in details.node.directives or ()
        ):
            return None
        node = group[0].node
        if node.name.value == "__typename":
            return _TypeName(parent_type.name)
        field = self.schema.get_field(parent_type, node.name.value)
        if field is None or field.args or node.arguments:
            return None
        definition = field.extensions.get("strawberry-definition")
        if (
            not isinstance(definition, StrawberryField)
            or not getattr(field.resolve, "_is_default", False)
            or not definition.is_basic_field
            or definition.default_resolver is not getattr
        ):
            return None
        return_type = field.type
        non_null = isinstance(return_type, GraphQLNonNull)
        leaf = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        if not isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
            return None
        return _Attribute(definition.python_name, leaf, non_null)

    def _plan_selection(
        self, parent_type: GraphQLObjectType, fields: GroupedFieldSet
    ) -> _SelectionPlan:
        entries = tuple(
            (name, group, self._in_place(parent_type, group)) for name, group in fields.items()
        )
        if all(in_place is None for _, _, in_place in entries):
            return _SelectionPlan(fields, None)
        return _SelectionPlan(fields, entries)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any | None,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """graphql-core's ``execute_fields`` (3.3), reading attribute fields in place.

        A field that only reads an attribute and returns a scalar (``sku``, ``score``, an
        attribute's ``code``), and ``__typename``, need no resolve info, no path and no
        completion chain: on a listing they are half of the fields. When the value is null for
        a non-null field, or does not serialize, the field goes through ``execute_field`` and
        fails exactly as there (reading an attribute twice changes nothing).
        """
        key = (parent_type, id(grouped_field_set))
        try:
            plan = self._selections[key]
        except KeyError:
            plan = self._selections[key] = self._plan_selection(parent_type, grouped_field_set)
        entries = plan.entries
        if entries is None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list, in_place in entries:
                if type(in_place) is _TypeName:
                    results[response_name] = in_place.value
                    continue
                if type(in_place) is _Attribute:
                    attribute = in_place
                    try:
                        value = getattr(source_value, attribute.name)
                        if value is None:
                            if not attribute.non_null:
                                results[response_name] = None
                                continue
                        else:
                            coerced = attribute.type.coerce_output_value(value)
                            if coerced is not None and coerced is not Undefined:
                                results[response_name] = coerced
                                continue
                    except Exception:
                        pass
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._gather_fields(results, awaitable_fields)

    @staticmethod
    async def _gather_fields(
        results: dict[str, Any], awaitable_fields: list[str]
    ) -> dict[str, Any]:
        if len(awaitable_fields) == 1:
            field = awaitable_fields[0]
            results[field] = await results[field]
        else:
            awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
        return results

    def complete_abstract_value(
        self,
        return_type: GraphQLAbstractType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any | None,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """graphql-core's, with a union member's object type found once per class per request.

        Strawberry's union resolver answers from the value's class alone when the class is a
        plain (not generic) Strawberry type and the value is not cast (``strawberry.cast``):
        on an ``_entities`` batch it searched the union's members for every entity.
        """
        cls = type(result)
        if not _class_decides(return_type, cls, result):
            return super().complete_abstract_value(
                return_type, field_details_list, info, path, result, position_context
            )
        key = (return_type, cls)
        runtime_type = self._runtime_types.get(key)
        if runtime_type is None:
            name = return_type.resolve_type(result, info, return_type)  # type: ignore[misc]
            runtime_type = self.ensure_valid_runtime_type(
                name, return_type, field_details_list, info, result
            )
            self._runtime_types[key] = runtime_type
        return self.complete_object_value(
            runtime_type, field_details_list, info, path, result, position_context
        )

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
