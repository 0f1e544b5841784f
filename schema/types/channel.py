from __future__ import annotations

import strawberry

from resolvers.channels import ChannelProfile, SlotProfile
from schema.types.media import MediaRole, ResourceType


@strawberry.type(description="A named place in a front end and how media is delivered into it.")
class ChannelSlot:
    name: str
    resource_type: ResourceType
    width: int
    height: int | None
    crop: str
    gravity: str | None
    format: str
    quality: str
    densities: list[float]
    background: str | None
    named_transformation: str | None
    watermark: str | None
    roles: list[MediaRole] = strawberry.field(description="Roles in order of preference.")
    placeholder: str
    min_width: int = strawberry.field(description="Smallest source width accepted (no upscaling).")
    min_height: int

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
    name: str
    description: str
    locales: list[str]
    signed: bool = strawberry.field(description="Delivery URLs carry a Cloudinary signature.")
    slots: list[ChannelSlot]

    @classmethod
    def from_profile(cls, name: str, profile: ChannelProfile) -> Channel:
        return cls(
            name=name,
            description=profile.description,
            locales=list(profile.locales),
            signed=profile.signed,
            slots=[ChannelSlot.from_profile(n, s) for n, s in profile.slots.items()],
        )
