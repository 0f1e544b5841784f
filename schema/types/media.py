from __future__ import annotations

from collections.abc import Awaitable
from enum import Enum
from typing import Annotated, Any

import strawberry

from resolvers.channels import SlotProfile
from resolvers.db import Document
from resolvers.errors import BadUserInputError
from resolvers.locales import Localized
from resolvers.media import UrlBuilder, delivered_size, ordered_references
from schema.context import Context
from schema.global_ids import to_global_id
from schema.types.enums import described

Info = strawberry.Info[Context, None]

SlotArgument = Annotated[
    str, strawberry.argument(description="A slot of the channel, e.g. thumbnail, card or hero.")
]
ChannelArgument = Annotated[
    str | None,
    strawberry.argument(
        description="The channel whose slot profiles apply; default: the channel this asset "
        "was reached through (required for an asset reached without one)."
    ),
]


@strawberry.enum(description="What a media reference shows.")
class MediaRole(Enum):
    HERO = described("hero", "The main product picture.")
    FRONT = described("front", "The product seen from the front.")
    SIDE = described("side", "The product seen from the side.")
    BACK = described("back", "The product seen from the back.")
    DETAIL = described("detail", "A close-up of a detail or material.")
    SWATCH = described("swatch", "A colour or material swatch.")
    LIFESTYLE = described("lifestyle", "The product in use, in a scene.")
    VIDEO = described("video", "A product video.")


@strawberry.enum(description="Whether an asset is a picture or a video.")
class ResourceType(Enum):
    IMAGE = described("image", "A still image.")
    VIDEO = described("video", "A video (its poster is an image).")


@strawberry.enum(description="srcset descriptors: pixel densities (1x, 2x) or widths (400w).")
class SrcsetDescriptor(Enum):
    DENSITY = described("density", "Pixel densities: 1x, 2x, 3x.")
    WIDTH = described("width", "Intrinsic widths: 400w, 800w.")


@strawberry.type(description="Alt text, with the locale it really came from.")
class AltText:
    text: str | None = strawberry.field(
        description="The alt text along the locale's fallback chain; null when none is set."
    )
    locale: str | None = strawberry.field(description="The locale of 'text'; null if none.")
    requested_locale: str = strawberry.field(description="The locale that was asked for.")
    is_fallback: bool = strawberry.field(description="'text' comes from a fallback locale.")


@strawberry.type(description="One slot's rendition of an asset.")
class MediaVariant:
    slot: str = strawberry.field(description="The slot's name in the channel profile.")
    url: str = strawberry.field(description="Delivery URL at 1x for the slot.")
    width: int = strawberry.field(description="Delivered width in CSS pixels (1x).")
    height: int | None = strawberry.field(
        description="Delivered height in CSS pixels; null when the slot keeps the aspect ratio."
    )
    format: str = strawberry.field(description="'auto' means negotiated per browser (f_auto).")


def alt_text(picked: Localized) -> AltText:
    return AltText(
        text=picked.value,
        locale=picked.locale,
        requested_locale=picked.requested,
        is_fallback=picked.is_fallback,
    )


@strawberry.federation.type(
    keys=["publicId"],
    description="An image or video from Cloudinary, or a slot's placeholder, ready to deliver.",
)
class MediaAsset:
    public_id: str = strawberry.field(
        description="Cloudinary public ID (the federation key); not a cache key, see 'id'."
    )
    resource_type: ResourceType = strawberry.field(description="Image or video.")
    role: MediaRole | None = strawberry.field(
        description="The role the product's reference gives it; null for placeholders."
    )
    width: int | None = strawberry.field(description="Size of the original, in pixels.")
    height: int | None = strawberry.field(description="Height of the original, in pixels.")
    format: str | None = strawberry.field(description="Format of the original.")
    bytes: int | None = strawberry.field(description="Size of the original file, in bytes.")
    duration: float | None = strawberry.field(description="Seconds, for videos.")
    is_placeholder: bool = strawberry.field(
        description="The slot's placeholder, delivered because no usable asset had its roles."
    )
    asset: strawberry.Private[Document | None]
    channel: strawberry.Private[str | None]
    fallback_alt: strawberry.Private[dict[str, str] | None]
    # What, beside the asset, the fields answer from: the product it was reached through
    # (the role of its reference; a placeholder's alt is the product's name) and the slot it fills.
    product_sku: strawberry.Private[str | None] = None
    slot_name: strawberry.Private[str | None] = None

    @strawberry.field(
        description="Cache identity (an opaque ID): the same picture reached through another "
        "product, channel, slot or default locale, or after it was replaced, has another ID, "
        "because its role, url, alt and srcset may differ. Normalise by this, never by publicId."
    )
    def id(self, info: Info) -> strawberry.ID:
        version = (self.asset or {}).get("version")
        key = "|".join(
            str(part)
            for part in (
                f"{self.resource_type.value}/{self.public_id}",
                f"v{version}" if version is not None else "-",
                self.channel or "-",
                self.product_sku or "-",
                self.slot_name or "-",
                self.role.value if self.role else "-",
                info.context.locale(None),
            )
        )
        return strawberry.ID(to_global_id("MediaAsset", key))

    @classmethod
    def from_asset(
        cls,
        asset: Document,
        channel: str | None,
        role: str | None = None,
        product_sku: str | None = None,
        slot_name: str | None = None,
    ) -> MediaAsset:
        role = role or asset.get("role")
        return cls(
            public_id=asset["publicId"],
            resource_type=ResourceType(asset.get("resourceType", "image")),
            role=MediaRole(role) if role in MediaRole._value2member_map_ else None,
            width=asset.get("width"),
            height=asset.get("height"),
            format=asset.get("format"),
            bytes=asset.get("bytes"),
            duration=asset.get("duration"),
            is_placeholder=False,
            asset=asset,
            channel=channel,
            fallback_alt=None,
            product_sku=product_sku,
            slot_name=slot_name,
        )

    @classmethod
    def placeholder(
        cls,
        slot: SlotProfile,
        channel: str,
        product_name: dict[str, str] | None,
        product_sku: str | None = None,
        slot_name: str | None = None,
    ) -> MediaAsset:
        return cls(
            public_id=slot.placeholder,
            resource_type=ResourceType(slot.resource_type),
            role=None,
            width=None,
            height=None,
            format=None,
            bytes=None,
            duration=None,
            is_placeholder=True,
            asset=None,
            channel=channel,
            fallback_alt=product_name,
            product_sku=product_sku,
            slot_name=slot_name,
        )

    @classmethod
    def resolve_reference(
        cls,
        info: Info,
        publicId: str | None = None,  # noqa: N803 - the federation key's field name
        **_: Any,
    ) -> Awaitable[MediaAsset | None] | None:
        """Federation entry point; the load is queued now, so a batch shares one query."""
        if publicId is None:
            return None
        if not isinstance(publicId, str):
            raise BadUserInputError("MediaAsset representations need a string 'publicId'")
        loader = info.context.loaders.mirrored_asset_by_key
        return _active_asset(loader.load_many([("image", publicId), ("video", publicId)]))

    def _channel(self, channel: str | None) -> str:
        chosen = channel or self.channel
        if chosen is None:
            raise BadUserInputError(
                "give 'channel': this asset was not reached through a channel",
                argumentName="channel",
            )
        return chosen

    def _slot(self, info: Info, channel: str, slot: str) -> SlotProfile:
        profile = info.context.slot(channel, slot)
        if profile.resource_type == "video" and self.resource_type is not ResourceType.VIDEO:
            raise BadUserInputError(
                f"slot {slot!r} of {channel!r} delivers videos; {self.public_id} is an image",
                argumentName="slot",
            )
        return profile

    def _is_video_in_image_slot(self, profile: SlotProfile) -> bool:
        return self.resource_type is ResourceType.VIDEO and profile.resource_type == "image"

    def _poster(self, urls: UrlBuilder, profile: SlotProfile) -> str:
        """A video's poster for a slot (a video placeholder's too: a frame of it)."""
        if self.asset is None:
            return urls.placeholder_poster_url(profile, self.public_id)
        return urls.poster_url(profile, self.asset)

    @strawberry.field(description="Alt text in the locale; placeholders use the product name.")
    def alt(
        self,
        info: Info,
        locale: Annotated[
            str | None,
            strawberry.argument(description="BCP 47 locale; default: CATALOG_DEFAULT_LOCALE."),
        ] = None,
    ) -> AltText:
        values = (self.asset or {}).get("alt") if self.asset else self.fallback_alt
        return alt_text(info.context.pick(values, locale, info.path))

    @strawberry.field(
        description="Delivery URL for a slot of the channel (a video in an image slot: its poster)."
    )
    def url(self, info: Info, slot: SlotArgument, channel: ChannelArgument = None) -> str:
        name = self._channel(channel)
        profile = self._slot(info, name, slot)
        urls = info.context.urls(name)
        if self._is_video_in_image_slot(profile):
            return self._poster(urls, profile)
        return urls.url(profile, self.public_id, self.asset)

    @strawberry.field(description="srcset for a slot: its densities as 1x/2x/3x or as widths.")
    def srcset(
        self,
        info: Info,
        slot: SlotArgument,
        channel: ChannelArgument = None,
        descriptor: Annotated[
            SrcsetDescriptor,
            strawberry.argument(description="Densities (1x, 2x) or widths (400w)."),
        ] = SrcsetDescriptor.DENSITY,
    ) -> str:
        name = self._channel(channel)
        profile = self._slot(info, name, slot)
        urls = info.context.urls(name)
        if self._is_video_in_image_slot(profile):
            return self._poster(urls, profile)
        return urls.srcset(profile, self.public_id, self.asset, descriptor.value)

    @strawberry.field(description="This asset in every slot of the channel that takes its type.")
    def variants(self, info: Info, channel: ChannelArgument = None) -> list[MediaVariant]:
        name = self._channel(channel)
        urls = info.context.urls(name)
        out = []
        for slot_name, slot in info.context.channel(name).slots.items():
            if slot.resource_type != self.resource_type.value:
                continue
            width, height = delivered_size(slot, self.asset)
            out.append(
                MediaVariant(
                    slot=slot_name,
                    url=urls.url(slot, self.public_id, self.asset),
                    width=width,
                    height=height,
                    format=slot.format,
                )
            )
        return out

    @strawberry.field(
        description="For videos: a poster image sized for the slot (a frame of the video when "
        "the video has no poster of its own, as for a video placeholder)."
    )
    def poster_url(
        self, info: Info, slot: SlotArgument, channel: ChannelArgument = None
    ) -> str | None:
        if self.resource_type is not ResourceType.VIDEO:
            return None
        name = self._channel(channel)
        profile = info.context.slot(name, slot)
        return self._poster(info.context.urls(name), profile)

    @strawberry.field(description="For videos: adaptive streaming (HLS) URL.")
    def streaming_url(self, info: Info, channel: ChannelArgument = None) -> str | None:
        if self.resource_type is not ResourceType.VIDEO or self.asset is None:
            return None
        return info.context.urls(self._channel(channel)).streaming_url(self.asset)


async def _active_asset(found: Awaitable[list[Document | None]]) -> MediaAsset | None:
    for asset in await found:
        if asset is not None and asset.get("status") == "active":
            return MediaAsset.from_asset(asset, None)
    return None


def references_of(product: Document, variant_sku: str | None = None) -> list[Document]:
    return ordered_references(product.get("media") or [], variant_sku)
