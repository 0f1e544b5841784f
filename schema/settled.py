"""Resolvers that answer at once when their data is loaded, and await the loaders otherwise.

graphql-core completes a field synchronously when its resolver returns a value, and schedules
it on the event loop when it returns an awaitable. A listing whose media and taxonomy were
prefetched for the whole page (``schema.lookahead``) therefore resolves every product without
creating a coroutine per field; anything not prefetched still goes through the batching loaders.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import strawberry

from resolvers.assets import AssetKey
from resolvers.db import Document
from resolvers.media import reference_key
from schema.context import Context

Info = strawberry.Info[Context, None]
T = TypeVar("T")
MaybeAwaitable: TypeAlias = T | Awaitable[T]


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a resolver asked for: assets by key, and the taxonomy when it asked for it."""

    assets: dict[AssetKey, Document | None]
    categories: dict[str, Document]
    attributes: dict[str, Document]


def with_loaded(
    info: Info,
    build: Callable[[Loaded], T],
    references: Sequence[Document] = (),
    *,
    categories: bool = False,
    attributes: bool = False,
) -> MaybeAwaitable[T]:
    """``build`` over the assets of ``references`` (and the taxonomy), now if all are loaded.

    The field that calls this declares what it reads (``schema.reads``), so that the prefetch
    of its page has loaded it; otherwise it is loaded here, one batch for the page.
    """
    loaders = info.context.loaders
    keys = [reference_key(r) for r in references]
    found = loaders.asset_by_key.peek_many(keys)
    settled_categories = loaders.taxonomy.settled_categories() if categories else {}
    settled_attributes = loaders.taxonomy.settled_attributes() if attributes else {}
    if found is not None and settled_categories is not None and settled_attributes is not None:
        return build(
            Loaded(dict(zip(keys, found, strict=True)), settled_categories, settled_attributes)
        )
    return _load_then_build(info, build, keys, categories=categories, attributes=attributes)


async def _load_then_build(
    info: Info,
    build: Callable[[Loaded], T],
    keys: list[AssetKey],
    *,
    categories: bool,
    attributes: bool,
) -> T:
    loaders = info.context.loaders
    taxonomy = loaders.taxonomy
    found, all_categories, definitions = await asyncio.gather(
        loaders.asset_by_key.load_many(keys),
        taxonomy.categories() if categories else _nothing(),
        taxonomy.attributes() if attributes else _nothing(),
    )
    return build(Loaded(dict(zip(keys, found, strict=True)), all_categories, definitions))


async def _nothing() -> dict[str, Any]:
    return {}
