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

from resolvers.assets import AssetKey
from resolvers.db import Document
from resolvers.media import reference_key
from schema.context import Context

Info = strawberry.Info[Context, None]

# Fields that read the assets of every media reference, on a product and on its variants.
ALL_MEDIA_FIELDS = frozenset({"media", "mediaManifest", "readiness"})
VARIANT_MEDIA_FIELDS = frozenset({"media", "swatch"})
# Relation fields to other products: (response path below the product, document field).
RELATIONS = (
    (("accessories",), "accessories"),
    (("related",), "related"),
    (("bundleItems", "product"), "bundle"),
)


@dataclass(frozen=True, slots=True)
class Needs:
    """What the selected fields of a product (and of the products it links to) will read."""

    all_media: bool = False
    hero_media: bool = False
    categories: bool = False
    attributes: bool = False
    # (document field, needs of the linked products) for each selected relation.
    relations: tuple[tuple[str, Needs], ...] = ()

    @classmethod
    def of(cls, info: Info, path: Sequence[str] = ()) -> Needs:
        """The needs of the products at ``path`` below the field being resolved.

        Every item of a list shares its field's selection, so the answer is kept per response
        path (list indices left out) for the rest of the request.
        """
        key = ("needs", *(k for k in info.path.as_list() if isinstance(k, str)), *path)
        memo = info.context.memo
        if key not in memo:
            selections = [s for field in info.selected_fields for s in field.selections]
            memo[key] = cls._of(selections, tuple(path))
        needs: Needs = memo[key]
        return needs

    @classmethod
    def _of(cls, selections: list[Selection], path: tuple[str, ...]) -> Needs:
        product = selected_names(selections, path)
        variant = (
            selected_names(selections, (*path, "variants")) if "variants" in product else set()
        )
        return cls(
            all_media=bool(product & ALL_MEDIA_FIELDS or variant & VARIANT_MEDIA_FIELDS),
            hero_media="heroImage" in product,
            categories="readiness" in product,
            attributes=bool({"readiness", "attributes"} & product or "attributes" in variant),
            relations=tuple(
                (field, cls._of(selections, (*path, *below)))
                for below, field in RELATIONS
                if below[0] in product
            ),
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
    """Load what the selected fields of ``products`` will read: linked products one level at
    a time (one batch per level), then every level's assets and the taxonomy in one batch.

    Failures are left to the fields themselves: each one loads again and reports its own
    error at its own path.
    """
    loaders = info.context.loaders
    hero_roles = _hero_roles(info)
    keys: dict[AssetKey, None] = {}
    categories = attributes = False
    level: list[tuple[Sequence[Document], Needs]] = [(products, needs)]
    while level:
        linked: list[tuple[list[str], Needs]] = []
        for documents, wanted in level:
            categories |= wanted.categories
            attributes |= wanted.attributes
            for document in documents:
                for reference in document.get("media") or []:
                    if wanted.all_media or (
                        wanted.hero_media and reference.get("role") in hero_roles
                    ):
                        keys[reference_key(reference)] = None
            for field, below in wanted.relations:
                skus = [_linked_sku(item) for d in documents for item in d.get(field) or []]
                linked.append(([sku for sku in skus if sku is not None], below))
        if not linked:
            break
        wanted_skus = list(dict.fromkeys(sku for skus, _ in linked for sku in skus))
        try:
            found = await loaders.product_by_sku.load_many(wanted_skus)
        except Exception:
            break
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
        await asyncio.gather(*pending, return_exceptions=True)


def _linked_sku(item: Any) -> str | None:
    """The SKU of an accessory/related entry (a string) or a bundle component (a document)."""
    sku = item.get("sku") if isinstance(item, dict) else item
    return sku if isinstance(sku, str) else None


def _hero_roles(info: Info) -> set[str]:
    """Roles of every channel's hero-led slots: what any ``heroImage(channel:)`` may read."""
    return {
        role
        for profile in info.context.services.channels.profiles.values()
        for slot in profile.slots.values()
        if slot.roles[0] == "hero"
        for role in slot.roles
    }
