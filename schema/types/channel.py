from __future__ import annotations

import strawberry

from resolvers.channels import ChannelProfile, SlotProfile
from schema.types.media import MediaRole, ResourceType


@strawberry.type(description="A named place in a front end and how media is delivered into it.")
class ChannelSlot:
    name: str = strawberry.field(description="The slot's name, e.g. thumbnail.")
    resource_type: ResourceType = strawberry.field(
        description="Whether the slot shows images or videos."
    )
    width: int = strawberry.field(description="Delivered width in CSS pixels.")
    height: int | None = strawberry.field(
        description="Delivered height in CSS pixels; null keeps the aspect ratio."
    )
    crop: str = strawberry.field(description="Cloudinary crop mode, e.g. fill, pad or limit.")
    gravity: str | None = strawberry.field(
        description="Cloudinary gravity, e.g. auto; null for the default."
    )
    format: str = strawberry.field(
        description="Delivery format; auto negotiates per browser (f_auto)."
    )
    quality: str = strawberry.field(
        description="Delivery quality; auto lets Cloudinary choose (q_auto)."
    )
    densities: list[float] = strawberry.field(
        description="Pixel densities offered in srcset, e.g. 1 and 2."
    )
    background: str | None = strawberry.field(
        description="Padding colour for crop pad, e.g. white."
    )
    named_transformation: str | None = strawberry.field(
        description="A named Cloudinary transformation applied first."
    )
    watermark: str | None = strawberry.field(
        description="Public ID of an overlay laid over the slot's images."
    )
    roles: list[MediaRole] = strawberry.field(description="Roles in order of preference.")
    placeholder: str = strawberry.field(
        description="Public ID delivered when no usable asset has the slot's roles."
    )
    min_width: int = strawberry.field(description="Smallest source width accepted (no upscaling).")
    min_height: int = strawberry.field(
        description="Smallest source height accepted (no upscaling)."
    )

    @classmethod
    def from_profile(cls, name: str, slot: SlotProfile) -> ChannelSlot:
        return cls(
            name=name,
            resource_type=ResourceType(slot.resource_type),
            width=slot.width,
            height=slot.height,
            crop=slot.crop,
            gravity=slot.gravity,
            format=slot.format,
            quality=str(slot.quality),
            densities=list(slot.densities),
            background=slot.background,
            named_transformation=slot.named_transformation,
            watermark=slot.watermark,
            roles=[MediaRole(role) for role in slot.roles],
            placeholder=slot.placeholder,
            min_width=slot.required_width,
            min_height=slot.required_height,
        )


@strawberry.type(description="A channel profile from channels.toml.")
class Channel:
    name: str = strawberry.field(description="The channel's name, e.g. web or mobile.")
    description: str = strawberry.field(description="What the channel is, for people.")
    locales: list[str] = strawberry.field(description="The locales the channel publishes in.")
    signed: bool = strawberry.field(description="Delivery URLs carry a Cloudinary signature.")
    slots: list[ChannelSlot] = strawberry.field(description="The channel's media slots.")

    @classmethod
    def from_profile(cls, name: str, profile: ChannelProfile) -> Channel:
        return cls(
            name=name,
            description=profile.description,
            locales=list(profile.locales),
            signed=profile.signed,
            slots=[ChannelSlot.from_profile(n, s) for n, s in profile.slots.items()],
        )
