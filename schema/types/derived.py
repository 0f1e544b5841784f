"""GraphQL object types derived from the domain's dataclasses instead of restated next to them.

A derived type has the dataclass's fields, in its order, with their types mapped to GraphQL:
``tuple[X, ...]`` and ``list[X]`` → ``[X!]!``, ``X | None`` → nullable, a ``Literal`` of strings →
``String``, a dataclass → the type derived from it before; a generic dataclass is derived once per
type argument (``Section[DuplicateSku]``). What GraphQL adds is given by name: the type's name
and description, field descriptions, the fields to show (and their order) and fields computed
by a resolver. The values are the domain objects themselves: the default resolvers read their
attributes, so nothing copies a domain object into a GraphQL one.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import strawberry
from strawberry.types.field import StrawberryField

SCALARS: tuple[type, ...] = (str, int, float, bool)


class DerivedTypes:
    """Strawberry types derived from dataclasses; each one derived can be a field of the next."""

    def __init__(self) -> None:
        self._types: dict[Any, type[Any]] = {}

    def object_type(
        self,
        domain: Any,
        name: str,
        *,
        description: str | None = None,
        docs: Mapping[str, str] | None = None,
        fields: Sequence[str] | None = None,
        computed: Mapping[str, Any] | None = None,
    ) -> type[Any]:
        """The GraphQL type ``name`` for the dataclass (or generic dataclass alias) ``domain``.

        ``docs``: field descriptions; ``fields``: the dataclass fields shown, in order (default:
        all); ``computed``: fields among them resolved by a ``strawberry.field(resolver=...)``
        (whose ``root`` is the domain object) instead of read as they are.
        """
        if domain in self._types:
            raise ValueError(f"{domain!r} already has the GraphQL type {self._types[domain]}")
        cls = get_origin(domain) or domain
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise TypeError(f"{domain!r} is not a dataclass")
        typevars = dict(zip(getattr(cls, "__parameters__", ()), get_args(domain), strict=True))
        hints = get_type_hints(cls)
        names = [f.name for f in dataclasses.fields(cls)] if fields is None else list(fields)
        docs, computed = docs or {}, computed or {}
        unknown = set(names) - set(hints)
        if unknown:
            raise ValueError(f"{cls.__name__} has no fields {sorted(unknown)}")
        stray = (set(docs) | set(computed)) - set(names)
        if stray:
            raise ValueError(f"{name} does not show the fields {sorted(stray)}")
        namespace: dict[str, Any] = {}
        annotations: dict[str, Any] = {}
        for field_name in names:
            if field_name in computed:
                field = computed[field_name]
                if not (isinstance(field, StrawberryField) and field.base_resolver):
                    raise TypeError(f"{name}.{field_name}: give strawberry.field(resolver=...)")
                annotations[field_name] = field.base_resolver.type_annotation
                namespace[field_name] = field
                continue
            annotations[field_name] = self._graphql_type(hints[field_name], typevars)
            if field_name in docs:
                namespace[field_name] = strawberry.field(description=docs[field_name])
        namespace["__annotations__"] = annotations
        derived = strawberry.type(type(name, (), namespace), name=name, description=description)
        self._types[domain] = derived
        return derived

    def _graphql_type(self, hint: Any, typevars: Mapping[Any, Any]) -> Any:
        if isinstance(hint, TypeVar):
            hint = typevars[hint]
        if hint in self._types:
            return self._types[hint]
        if hint in SCALARS:
            return hint
        origin, args = get_origin(hint), get_args(hint)
        if origin in (Union, types.UnionType) and len(args) == 2 and type(None) in args:
            (inner,) = (arg for arg in args if arg is not type(None))
            return self._graphql_type(inner, typevars) | None
        if (origin is tuple and len(args) == 2 and args[1] is Ellipsis) or origin is list:
            return list[self._graphql_type(args[0], typevars)]  # type: ignore[misc]
        if origin is Literal and all(isinstance(arg, str) for arg in args):
            return str
        raise TypeError(f"no GraphQL type for {hint!r}: derive the types of its parts first")
