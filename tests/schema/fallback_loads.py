"""Finds fields that read loaders they did not declare (``schema.reads``).

While the ``fallback_loads`` fixture is active, every load on a request's loaders (the
dataloaders and the taxonomy) is recorded with the field that made it, unless the prefetch
(``schema.lookahead.load_needs``) made it or the prefetch had already settled it. A declared
field finds everything settled and loads nothing; a field that reads something it did not
declare loads it for itself: that is a fallback load.

Not counted: the loads of the root fields themselves (``product(sku:)`` loading its product,
``_entities`` its representations), and loads at or below a field declared ``loads_itself``.

    async def test_something(demo: Services, fallback_loads: FallbackLoads) -> None:
        await data_of(demo, QUERY)
        assert fallback_loads.fallbacks() == []
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiodataloader import DataLoader
from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

import schema.lookahead
from resolvers.batching import succeeded
from resolvers.loaders import Taxonomy
from schema.reads import declared_reads
from schema.schema import CatalogSchema

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Resolving:
    """The field whose resolver (or the awaitable it returned) is running."""

    field: str  # "Product.heroImage"
    path: Path


@dataclass(frozen=True, slots=True)
class FallbackLoad:
    loader: str
    key: Hashable | None
    resolving: Resolving | None

    def __str__(self) -> str:
        where = self.resolving
        by = f"{where.field} at {'.'.join(map(str, where.path))}" if where else "no field"
        return f"{by} loaded {self.loader}[{self.key!r}]"


_RESOLVING: ContextVar[Resolving | None] = ContextVar("resolving", default=None)
_PREFETCHING: ContextVar[bool] = ContextVar("prefetching", default=False)


@dataclass
class FallbackLoads:
    """Loads that fields made for themselves; see the module's docstring."""

    loads: list[FallbackLoad] = field(default_factory=list)
    # Paths of fields declared ``loads_itself``: loads at or below them are theirs to make.
    own_loads: set[Path] = field(default_factory=set)

    def fallbacks(self) -> list[FallbackLoad]:
        """The loads that fields below the root made without declaring them."""
        return [
            load
            for load in self.loads
            if load.resolving is None
            or (len(load.resolving.path) > 1 and not self._theirs(load.resolving.path))
        ]

    def fields(self) -> set[str]:
        """The fields that made fallback loads."""
        return {load.resolving.field if load.resolving else "?" for load in self.fallbacks()}

    def describe(self, limit: int = 20) -> str:
        found = self.fallbacks()
        lines = [str(load) for load in found[:limit]]
        if len(found) > limit:
            lines.append(f"... and {len(found) - limit} more")
        return "\n".join(lines)

    def clear(self) -> None:
        self.loads.clear()
        self.own_loads.clear()

    def _theirs(self, path: Path) -> bool:
        return any(path[:n] in self.own_loads for n in range(1, len(path) + 1))

    def _record(self, loader: str, key: Hashable | None) -> None:
        if not _PREFETCHING.get():
            self.loads.append(FallbackLoad(loader, key, _RESOLVING.get()))

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Instrument the loaders, the prefetch and the schema's execution (undone by
        ``monkeypatch``)."""
        load = DataLoader.load

        def recording_load(loader: DataLoader[Any, Any], key: Any) -> Any:
            cached = loader._cache.get(loader.get_cache_key(key)) if loader.cache else None
            if cached is None or not succeeded(cached):
                self._record(type(loader).__name__, key)
            return load(loader, key)

        monkeypatch.setattr(DataLoader, "load", recording_load)
        for name, settled in (
            ("categories", Taxonomy.settled_categories),
            ("attributes", Taxonomy.settled_attributes),
        ):
            monkeypatch.setattr(Taxonomy, name, self._recording_read(name, settled))

        load_needs = schema.lookahead.load_needs

        async def prefetching(*args: Any, **kwargs: Any) -> None:
            token = _PREFETCHING.set(True)
            try:
                await load_needs(*args, **kwargs)
            finally:
                _PREFETCHING.reset(token)

        monkeypatch.setattr(schema.lookahead, "load_needs", prefetching)

        get_extensions = CatalogSchema.get_extensions

        def with_attribution(
            catalog_schema: CatalogSchema, sync: bool = False
        ) -> list[SchemaExtension]:
            return [*get_extensions(catalog_schema, sync), _Attribution(self)]

        monkeypatch.setattr(CatalogSchema, "get_extensions", with_attribution)

    def _recording_read(
        self, name: str, settled: Callable[[Taxonomy], object]
    ) -> Callable[[Taxonomy], Awaitable[Any]]:
        read = getattr(Taxonomy, name)

        async def recording(taxonomy: Taxonomy) -> Any:
            if settled(taxonomy) is None:
                self._record(f"Taxonomy.{name}", None)
            return await read(taxonomy)

        return recording


class _Attribution(SchemaExtension):
    """Tells which field is resolving while a load is made (tests only: it wraps every
    resolver)."""

    def __init__(self, detector: FallbackLoads) -> None:
        super().__init__()
        self.detector = detector

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        path: Path = tuple(info.path.as_list())
        resolving = Resolving(f"{info.parent_type.name}.{info.field_name}", path)
        graphql_field = info.parent_type.fields.get(info.field_name)
        declared = declared_reads(graphql_field) if graphql_field is not None else None
        if declared is not None and declared.loads_itself:
            self.detector.own_loads.add(path)
        with _resolving(resolving):
            result = _next(root, info, *args, **kwargs)
        if inspect.isawaitable(result):
            return _attributed(result, resolving)
        return result


@contextmanager
def _resolving(resolving: Resolving) -> Iterator[None]:
    token = _RESOLVING.set(resolving)
    try:
        yield
    finally:
        _RESOLVING.reset(token)


async def _attributed(awaitable: Awaitable[Any], resolving: Resolving) -> Any:
    with _resolving(resolving):
        return await awaitable


@pytest.fixture
def fallback_loads(monkeypatch: pytest.MonkeyPatch) -> FallbackLoads:
    """Records the loads fields make for themselves (see ``FallbackLoads``)."""
    detector = FallbackLoads()
    detector.install(monkeypatch)
    return detector
