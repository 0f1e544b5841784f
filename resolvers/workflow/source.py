"""Where a request reads products: the working copy, or the publications of one channel.

Picked once per request (``schema.context.Context``) and handed to the loaders and the listing,
so every entry point (lookups by SKU and ID, ``node``, ``_entities``, relations, pages, counts
and the brand list of a refused filter) reads the same place with the same queries:

- a principal with ``catalog:read-drafts`` reads the working copy (``products``), unless it
  names a channel (``X-Channel``): then it sees exactly what that channel's storefronts see;
- any other principal (storefront keys, anonymous requests) reads ``publications.<channel>``
  only, for its channel (``read_channel``), unless it shows a valid preview token
  (``resolvers.workflow.preview``), which lets it read the working copy for a short while.

A channel's publications have the shape and the ``_id`` of the products they snapshot, so a
storefront's read costs the same commands as an editor's.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from resolvers.access.principal import Principal
from resolvers.db import Catalog, Collection
from resolvers.errors import BadUserInputError, ForbiddenError


@dataclass(frozen=True, slots=True)
class ProductSource:
    collection: Collection
    channel: str | None = None
    """The channel whose publications these are; None: the working copy."""
    clause: dict[str, Any] | None = None
    """Equalities every product read must match (see ``resolvers.loaders``)."""

    @property
    def published(self) -> bool:
        return self.channel is not None

    @property
    def key(self) -> Hashable:
        """Tells sources apart in results shared between requests (the known brands)."""
        return (self.collection.name, *sorted((self.clause or {}).items()))


def working_copy(catalog: Catalog, clause: dict[str, Any] | None = None) -> ProductSource:
    return ProductSource(catalog.products, None, clause)


def published(catalog: Catalog, channel: str) -> ProductSource:
    return ProductSource(catalog.publications(channel), channel)


def read_channel(
    principal: Principal,
    requested: str | None,
    channels: Sequence[str],
    default: str | None = None,
) -> str:
    """The channel whose publications ``principal`` reads.

    ``requested`` (the ``X-Channel`` header, canonical) when given and readable; else the key's
    channel when it is bound to exactly one; else ``default`` (``CATALOG_DEFAULT_CHANNEL``) when
    the principal may read it; else the first configured channel it may read.
    """
    if requested is not None:
        if requested not in channels:
            raise BadUserInputError(
                f"unknown channel {requested!r}; channels: {', '.join(channels)}",
                channels=list(channels),
            )
        if not principal.may_read_channel(requested):
            raise ForbiddenError(f"this key may not read channel {requested!r}", channel=requested)
        return requested
    readable = [c for c in channels if principal.may_read_channel(c)]
    if principal.channels is not None and len(readable) == 1:
        return readable[0]
    if default is not None and default in readable:
        return default
    if not readable:
        raise ForbiddenError("this key may read none of the configured channels")
    return readable[0]


def source_for(
    catalog: Catalog,
    principal: Principal,
    channels: Sequence[str],
    *,
    requested: str | None = None,
    default: str | None = None,
    preview: bool = False,
) -> ProductSource:
    """The source of one request (the rules in this module's docstring)."""
    if preview:
        # A preview shows the working copy as an editor sees it, drafts included.
        return working_copy(catalog)
    if principal.sees_drafts and requested is None:
        return working_copy(catalog, principal.product_clause())
    return published(catalog, read_channel(principal, requested, channels, default))
