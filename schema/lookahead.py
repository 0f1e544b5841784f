"""Prefetch what a page of products will need, judged from the fields the query selects.

A products page or an ``_entities`` batch knows its documents before their fields resolve.
Loading the page's assets and the taxonomy right then (one batch, as the loaders would) lets
every product field answer synchronously (``schema.settled``). Only what is selected is loaded,
so media stay lazy: a query without media fields reads no asset.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from resolvers.db import Document
from resolvers.media import reference_key
from schema.context import Context

Info = strawberry.Info[Context, None]

# Fields that read the assets of every media reference, on a product and on its variants.
ALL_MEDIA_FIELDS = frozenset({"media", "mediaManifest", "readiness"})
VARIANT_MEDIA_FIELDS = frozenset({"media", "swatch"})


@dataclass(frozen=True, slots=True)
class Needs:
    """What the selected product fields will read."""

    all_media: bool = False
    hero_media: bool = False
    categories: bool = False
    attributes: bool = False

    @classmethod
    def of(cls, info: Info, path: Sequence[str] = ()) -> Needs:
        """The needs of the products at ``path`` below the field being resolved."""
        selections = [s for field in info.selected_fields for s in field.selections]
        product = selected_names(selections, path)
        variant = (
            selected_names(selections, (*path, "variants")) if "variants" in product else set()
        )
        return cls(
            all_media=bool(product & ALL_MEDIA_FIELDS or variant & VARIANT_MEDIA_FIELDS),
            hero_media="heroImage" in product,
            categories="readiness" in product,
            attributes=bool({"readiness", "attributes"} & product or "attributes" in variant),
        )


def selected_names(selections: Iterable[Selection], path: Sequence[str] = ()) -> set[str]:
    """Names of the fields selected at ``path`` below ``selections``, through fragments."""
    names: set[str] = set()
    for selection in selections:
        if not isinstance(selection, SelectedField):
            names |= selected_names(selection.selections, path)
        elif not path:
            names.add(selection.name)
        elif selection.name == path[0]:
            names |= selected_names(selection.selections, path[1:])
    return names


async def prefetch_products(info: Info, products: Sequence[Document], needs: Needs) -> None:
    """Load the assets and taxonomy that the selected fields of ``products`` will read.

    Failures are left to the fields themselves: each one awaits its loader again and reports
    its own error at its own path.
    """
    loaders = info.context.loaders
    pending: list[Awaitable[Any]] = []
    if needs.all_media:
        references = [r for p in products for r in p.get("media") or []]
    elif needs.hero_media:
        roles = _hero_roles(info)
        references = [r for p in products for r in p.get("media") or [] if r.get("role") in roles]
    else:
        references = []
    if references:
        keys = list(dict.fromkeys(reference_key(r) for r in references))
        pending.append(loaders.asset_by_key.prefetch(keys))
    if needs.categories:
        pending.append(loaders.taxonomy.categories())
    if needs.attributes:
        pending.append(loaders.taxonomy.attributes())
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


def _hero_roles(info: Info) -> set[str]:
    """Roles of every channel's hero-led slots: what any ``heroImage(channel:)`` may read."""
    return {
        role
        for profile in info.context.services.channels.profiles.values()
        for slot in profile.slots.values()
        if slot.roles[0] == "hero"
        for role in slot.roles
    }
