"""Resolvers called without Strawberry's per-call machinery where it would do nothing.

For every field with a resolver, Strawberry's wrapper converts the arguments (walking each
argument's type), asks the field's extensions to map them, folds the extensions into a chain of
partials and calls the resolver through two more layers. For a field without extensions whose
arguments are built-in scalars (or lists of them), all of that returns the arguments unchanged:
on a 48-product listing it was about a tenth of the gateway's CPU (issue 17).

``use_lean_resolvers`` gives such fields a resolver that renames the arguments to the Python
parameters and calls the function, with the same ``Info`` Strawberry would pass. Every other
field (extensions such as ``requires``, enum or input arguments, ``root``/``parent``
parameters, subscriptions) keeps Strawberry's resolver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from graphql import GraphQLField, GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema
from strawberry import ID
from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver
from strawberry.types.info import Info

# Where Strawberry keeps a GraphQL field's definition.
_DEFINITION = "strawberry-definition"
# Argument types Strawberry passes through unchanged (its convert_argument returns the value).
_SCALARS: tuple[object, ...] = (str, int, float, bool, ID)


def use_lean_resolvers(schema: GraphQLSchema, info_class: type[Info[Any, Any]] = Info) -> int:
    """Give every field that qualifies (see module docstring) the lean resolver; how many."""
    subscription = schema.subscription_type
    replaced = 0
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type is subscription:
            continue
        for graphql_field in graphql_type.fields.values():
            resolve = lean_resolver(graphql_field, info_class)
            if resolve is not None:
                graphql_field.resolve = resolve
                replaced += 1
    return replaced


def lean_resolver(
    graphql_field: GraphQLField, info_class: type[Info[Any, Any]] = Info
) -> Callable[..., Any] | None:
    """The lean resolver of a field, or None when Strawberry's wrapper may do something."""
    field = graphql_field.extensions.get(_DEFINITION)
    if not isinstance(field, StrawberryField) or not _qualifies(field):
        return None
    resolver = field.base_resolver
    assert resolver is not None  # _qualifies checked it
    # A classmethod or staticmethod is bound to its class when the type is built.
    function = cast("Callable[..., Any]", resolver.wrapped_func)
    # (GraphQL name, Python name, whether to copy): graphql-core hands every request that omits
    # a list argument the same default list, so a resolver must get its own copy.
    names = tuple(
        (
            _graphql_name(graphql_field, argument.python_name),
            argument.python_name,
            _is_list(argument.type),
        )
        for argument in field.arguments
    )
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    with_self = resolver.self_parameter is not None

    def resolve(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        kwargs: dict[str, Any] = {}
        for graphql_name, python_name, copy in names:
            if graphql_name in arguments:
                value = arguments[graphql_name]
                kwargs[python_name] = list(value) if copy and value is not None else value
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=field)
        if with_self:
            return function(source, **kwargs)
        return function(**kwargs)

    return resolve


def _qualifies(field: StrawberryField) -> bool:
    resolver = field.base_resolver
    return (
        resolver is not None
        and not field.extensions
        # Subclasses (relay connections, federation fields) may resolve differently.
        and type(field).get_result is StrawberryField.get_result
        and type(resolver) is StrawberryResolver
        and callable(resolver.wrapped_func)
        and resolver.parent_parameter is None
        and resolver.root_parameter is None
        and all(_passes_through(argument.type) for argument in field.arguments)
    )


def _passes_through(type_: object) -> bool:
    """Whether Strawberry's argument conversion returns a value of this type unchanged."""
    # Exact types: StrawberryMaybe subclasses StrawberryOptional and wraps values.
    if type(type_) is StrawberryOptional:
        return _passes_through(type_.of_type)
    if type(type_) is StrawberryList:
        return _passes_through(type_.of_type)
    return any(type_ is scalar for scalar in _SCALARS)


def _is_list(type_: object) -> bool:
    if type(type_) is StrawberryOptional:
        return _is_list(type_.of_type)
    return type(type_) is StrawberryList


def _graphql_name(graphql_field: GraphQLField, python_name: str | None) -> str:
    for name, argument in graphql_field.args.items():
        definition = argument.extensions.get(_DEFINITION)
        if getattr(definition, "python_name", None) == python_name:
            return name
    raise LookupError(f"no GraphQL argument for the parameter {python_name!r}")
