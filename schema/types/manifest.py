from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import strawberry

from resolvers.channels import ChannelProfile, Channels, SlotProfile
from resolvers.db import Document
from resolvers.errors import BadUserInputError
from resolvers.media import (
    SlotChoice,
    UrlBuilder,
    delivered_size,
    delivery_problem,
    fill_slot,
    hero_slot,
    position_order,
    reference_key,
    slot_candidates,
    swatch_slot,
)
from schema.context import Context
from schema.reads import Arguments
from schema.settled import Loaded, MaybeAwaitable, with_loaded
from schema.types.media import (
    AltText,
    MediaAsset,
    MediaRole,
    ResourceType,
    alt_text,
    references_of,
)

Info = strawberry.Info[Context, None]

MAX_MEDIA = 100


@strawberry.type(description="What one slot of the channel shows, and why.")
class MediaManifestSlot:
    slot: str = strawberry.field(description="The slot's name.")
    resource_type: ResourceType = strawberry.field(
        description="Whether the slot shows an image or a video."
    )
    asset: MediaAsset = strawberry.field(
        description="The asset (or placeholder) that fills the slot."
    )
    url: str = strawberry.field(description="Delivery URL at 1x.")
    srcset: str = strawberry.field(description="srcset of the slot's pixel densities.")
    width: int = strawberry.field(description="Delivered width in CSS pixels (1x).")
    height: int | None = strawberry.field(
        description="Delivered height in CSS pixels; null keeps the aspect ratio."
    )
    format: str = strawberry.field(description="'auto' means negotiated per browser (f_auto).")
    alt: AltText = strawberry.field(description="Alt text in the manifest's locale.")
    role: MediaRole | None = strawberry.field(description="Role of the chosen asset.")
    poster_url: str | None = strawberry.field(description="For video slots.")
    is_fallback: bool = strawberry.field(
        description="Not the slot's first-choice role, or a placeholder."
    )
    is_placeholder: bool = strawberry.field(
        description="No usable asset had the slot's roles: the placeholder fills it."
    )
    reasons: list[str] = strawberry.field(
        description="Why the preferred media was not used, in the order they were tried."
    )


@strawberry.type(description="Every slot of a channel filled for one product.")
class MediaManifest:
    channel: str = strawberry.field(description="The channel.")
    locale: str = strawberry.field(description="The locale of the alt texts.")
    complete: bool = strawberry.field(description="No slot needed a placeholder.")
    slots: list[MediaManifestSlot] = strawberry.field(
        description="Every slot of the channel, in the profile's order."
    )


def _media_asset(choice: SlotChoice, channel: str, product: Document) -> MediaAsset:
    if choice.asset is None:
        return MediaAsset.placeholder(
            choice.slot, channel, product.get("name"), product.get("sku"), choice.slot_name
        )
    return MediaAsset.from_asset(
        choice.asset, channel, choice.role, product.get("sku"), choice.slot_name
    )


def build_manifest(
    info: Info, product: Document, channel: str, locale: str | None
) -> MaybeAwaitable[MediaManifest]:
    context = info.context
    channel = context.channel_name(channel)
    profile = context.channel(channel)
    requested = context.locale(locale)
    references = references_of(product)
    urls = context.urls(channel)

    def build(loaded: Loaded) -> MediaManifest:
        slots = []
        for index, (name, slot) in enumerate(profile.slots.items()):
            choice = fill_slot(name, slot, product, loaded.assets, channel, context.now)
            asset = _media_asset(choice, channel, product)
            alt_values = choice.asset.get("alt") if choice.asset else product.get("name")
            path: list[str | int] = [*info.path.as_list(), "slots", index, "alt"]
            picked = context.pick(alt_values, requested, path)
            width, height = delivered_size(slot, choice.asset)
            slots.append(
                MediaManifestSlot(
                    slot=name,
                    resource_type=ResourceType(slot.resource_type),
                    asset=asset,
                    url=urls.url(slot, choice.public_id, choice.asset),
                    srcset=urls.srcset(slot, choice.public_id, choice.asset),
                    width=width,
                    height=height,
                    format=slot.format,
                    alt=alt_text(picked),
                    role=MediaRole(choice.role) if choice.role else None,
                    poster_url=_poster_url(urls, slot, choice)
                    if slot.resource_type == "video"
                    else None,
                    is_fallback=choice.is_fallback,
                    is_placeholder=choice.is_placeholder,
                    reasons=list(choice.reasons),
                )
            )
        return MediaManifest(
            channel=channel,
            locale=requested,
            complete=not any(s.is_placeholder for s in slots),
            slots=slots,
        )

    return with_loaded(info, build, references)


def _poster_url(urls: UrlBuilder, slot: SlotProfile, choice: SlotChoice) -> str:
    """A video slot's poster: the video's, or a frame of the placeholder video."""
    if choice.asset is None:
        return urls.placeholder_poster_url(slot, choice.public_id)
    return urls.poster_url(slot, choice.asset)


def selected_roles(arguments: Arguments, channels: Channels) -> frozenset[str] | None:
    """What ``deliverable_media`` reads (the declaration of fields with a ``roles`` argument):
    the assets of the roles it names, or of every role when it is omitted (or not understood)."""
    roles = arguments.get("roles")
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
    return frozenset(values)


def deliverable_media(
    info: Info,
    product: Document,
    channel: str,
    roles: list[MediaRole] | None,
    first: int | None,
    variant_sku: str | None = None,
) -> MaybeAwaitable[list[MediaAsset]]:
    """The channel's deliverable media of a product (or variant), in position order."""
    if first is not None and not 0 <= first <= MAX_MEDIA:
        raise BadUserInputError(f"'first' must be between 0 and {MAX_MEDIA}", argumentName="first")
    channel = info.context.channel_name(channel)
    references = references_of(product, variant_sku)
    if variant_sku is None:
        references.sort(key=position_order)
    if roles:
        wanted = {role.value for role in roles}
        references = [r for r in references if r.get("role") in wanted]
    now = info.context.now

    def build(loaded: Loaded) -> list[MediaAsset]:
        media = []
        for reference in references:
            asset = loaded.assets[reference_key(reference)]
            if asset is not None and delivery_problem(asset, channel, now) is None:
                media.append(
                    MediaAsset.from_asset(asset, channel, reference.get("role"), product.get("sku"))
                )
        return media[:first] if first is not None else media

    return with_loaded(info, build, references)


@dataclass(frozen=True, slots=True)
class FieldSlot:
    """The slot a field fills (``heroImage``, a variant's ``swatch``), found in a channel's
    profile by ``find`` (``resolvers.media.hero_slot``, ``swatch_slot``)."""

    find: Callable[[ChannelProfile], tuple[str, SlotProfile] | None]

    def roles(self, arguments: Arguments, channels: Channels) -> frozenset[str]:
        """What ``chosen_asset`` reads (the declaration of its fields): the roles of the slot
        of the ``channel`` argument, or of every channel's slot when it names none (the field
        itself reports that error)."""
        channel = arguments.get("channel")
        profiles = channels.profiles
        named = channels.get(channel) if isinstance(channel, str) else None
        chosen = [named] if named is not None else []
        return frozenset(
            role
            for profile in chosen or profiles.values()
            if (found := self.find(profile)) is not None
            for role in found[1].roles
        )


HERO = FieldSlot(hero_slot)
# A variant's swatch: the swatch of its colour, else a front or hero image of its colour.
SWATCH = FieldSlot(swatch_slot)


def chosen_asset(
    info: Info,
    product: Document,
    channel: str,
    field_slot: FieldSlot,
    variant_sku: str | None = None,
) -> MaybeAwaitable[MediaAsset | None]:
    """The asset that fills the channel's slot for ``field_slot`` (hero image, swatch), or its
    placeholder, chosen as the manifest chooses; None when the channel has no such slot."""
    channel = info.context.channel_name(channel)
    profile = info.context.channel(channel)
    found = field_slot.find(profile)
    if found is None:
        return None
    name, slot = found
    # Only the slot's roles are ever looked at: a hero image reads one or two assets, not all.
    references = slot_candidates(product, slot.roles, variant_sku)
    now = info.context.now

    def build(loaded: Loaded) -> MediaAsset:
        choice = fill_slot(name, slot, product, loaded.assets, channel, now, variant_sku)
        return _media_asset(choice, channel, product)

    return with_loaded(info, build, references)
