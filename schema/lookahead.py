"""Prefetch what a page of products will need, judged from the fields the query selects.

A products page, a product or an ``_entities`` batch knows its documents before their fields
resolve. Loading right then what the selected fields will read (linked products level by level,
then every level's assets and the taxonomy, one batch each, as the loaders would) lets every
product field answer synchronously (``schema.settled``). Only what is selected is loaded, so
media stay lazy: a query without media fields reads no asset.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from resolvers.assets import AssetKey
from resolvers.channels import Channels
from resolvers.db import Document
from resolvers.media import reference_key
from schema.context import Context
from schema.types.media import MediaRole

Info = strawberry.Info[Context, None]
log = logging.getLogger(__name__)

# Fields that read the assets of every media reference, on a product and on its variants.
ALL_MEDIA_FIELDS = frozenset({"mediaManifest", "readiness"})
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
    # Roles whose assets are read when not all are (media(roles:), heroImage's slot roles).
    roles: frozenset[str] = frozenset()
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
            memo[key] = cls._of(selections, tuple(path), info.context.services.channels)
        needs: Needs = memo[key]
        return needs

    @classmethod
    def _of(cls, selections: list[Selection], path: tuple[str, ...], channels: Channels) -> Needs:
        fields = selected_fields(selections, path)
        product = {f.name for f in fields}
        variant = (
            {f.name for f in selected_fields(selections, (*path, "variants"))}
            if "variants" in product
            else set()
        )
        roles: set[str] = set()
        all_media = bool(product & ALL_MEDIA_FIELDS or variant & VARIANT_MEDIA_FIELDS)
        for field in fields:
            if field.name == "heroImage":
                roles |= _hero_roles(channels, field.arguments.get("channel"))
            elif field.name == "media":
                wanted = _role_values(field.arguments.get("roles"))
                if wanted is None:
                    all_media = True
                roles |= wanted or set()
        return cls(
            all_media=all_media,
            roles=frozenset(roles),
            categories="readiness" in product,
            attributes=bool({"readiness", "attributes"} & product or "attributes" in variant),
            relations=tuple(
                (field_name, cls._of(selections, (*path, *below), channels))
                for below, field_name in RELATIONS
                if below[0] in product
            ),
        )


def selected_fields(
    selections: Iterable[Selection], path: Sequence[str] = ()
) -> list[SelectedField]:
    """The fields selected at ``path`` below ``selections``, through fragments."""
    found: list[SelectedField] = []
    for selection in selections:
        if not isinstance(selection, SelectedField):
            found += selected_fields(selection.selections, path)
        elif not path:
            found.append(selection)
        elif selection.name == path[0]:
            found += selected_fields(selection.selections, path[1:])
    return found


async def prefetch_products(info: Info, products: Sequence[Document], needs: Needs) -> None:
    """Load what the selected fields of ``products`` will read: linked products one level at
    a time (one batch per level), then every level's assets and the taxonomy in one batch.

    Only an optimisation: if anything here fails (a malformed document, MongoDB down), the
    fields load for themselves and each reports its own error at its own path.
    """
    try:
        await _prefetch(info, products, needs)
    except Exception:
        log.debug("prefetch failed; fields load for themselves", exc_info=True)


async def _prefetch(info: Info, products: Sequence[Document], needs: Needs) -> None:
    loaders = info.context.loaders
    keys: dict[AssetKey, None] = {}
    categories = attributes = False
    level: list[tuple[Sequence[Document], Needs]] = [(products, needs)]
    while level:
        linked: list[tuple[list[str], Needs]] = []
        for documents, wanted in level:
            categories |= wanted.categories
            attributes |= wanted.attributes
            for document in documents:
                for reference in _references(document):
                    if wanted.all_media or reference.get("role") in wanted.roles:
                        keys[reference_key(reference)] = None
            for field, below in wanted.relations:
                skus = [_linked_sku(item) for d in documents for item in _items(d, field)]
                linked.append(([sku for sku in skus if sku is not None], below))
        if not linked:
            break
        wanted_skus = list(dict.fromkeys(sku for skus, _ in linked for sku in skus))
        found = await loaders.product_by_sku.load_many(wanted_skus)
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


def _items(document: Document, field: str) -> list[Any]:
    value = document.get(field)
    return value if isinstance(value, list) else []


def _references(document: Document) -> list[Document]:
    """Well-formed media references; a malformed one is left for its field to report."""
    return [
        r
        for r in _items(document, "media")
        if isinstance(r, dict) and isinstance(r.get("publicId"), str)
    ]


def _linked_sku(item: Any) -> str | None:
    """The SKU of an accessory/related entry (a string) or a bundle component (a document)."""
    sku = item.get("sku") if isinstance(item, dict) else item
    return sku if isinstance(sku, str) else None


def _role_values(roles: Any) -> set[str] | None:
    """The roles a ``media(roles:)`` argument names (enum names), or None for every role."""
    if not isinstance(roles, list) or not roles:
        return None
    values: set[str] = set()
    for role in roles:  # enum names from literals, members from coerced variables
        if isinstance(role, MediaRole):
            values.add(role.value)
        elif isinstance(role, str) and role in MediaRole.__members__:
            values.add(MediaRole[role].value)
        else:
            return None
    return values


def _hero_roles(channels: Channels, channel: Any) -> set[str]:
    """Roles ``heroImage(channel:)`` may read: its channel's hero slot (every channel's when the
    argument is not a known channel; the field itself reports that error)."""
    profiles = channels.profiles
    chosen = [profiles[channel]] if isinstance(channel, str) and channel in profiles else []
    return {
        role
        for profile in chosen or profiles.values()
        if (lead := profile.lead_slot("hero")) is not None
        for role in lead[1].roles
    }
