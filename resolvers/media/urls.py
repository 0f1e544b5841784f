"""Delivering media for a channel: each slot's transformation, delivered size and URLs.

One way of building URLs for the GraphQL layer, readiness scoring and tests; the URLs are built
locally from templates the DamClient derives from the Cloudinary SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from resolvers.assets import DamClient
from resolvers.channels import ChannelProfile, SlotProfile
from resolvers.db import Document

WATERMARK_GRAVITY = "south_east"
WATERMARK_OPACITY = 60
WATERMARK_WIDTH = 0.25  # of the delivered image's width


def slot_transformation(slot: SlotProfile, dpr: float | None = None) -> list[dict[str, Any]]:
    """The SDK transformation chain for a slot; f_auto/q_auto come after named transformations."""
    steps: list[dict[str, Any]] = []
    if slot.named_transformation:
        steps.append({"transformation": slot.named_transformation})
    resize: dict[str, Any] = {"width": slot.width, "crop": slot.crop}
    if slot.height is not None:
        resize["height"] = slot.height
    if slot.gravity is not None:
        resize["gravity"] = slot.gravity
    if slot.background is not None:
        resize["background"] = slot.background
    if dpr is not None and dpr != 1:
        resize["dpr"] = f"{dpr:.1f}"
    steps.append(resize)
    if slot.watermark:
        steps.append(
            {
                "overlay": slot.watermark.replace("/", ":"),
                "gravity": WATERMARK_GRAVITY,
                "opacity": WATERMARK_OPACITY,
                "width": WATERMARK_WIDTH,
                "flags": "relative",
            }
        )
    delivery: dict[str, Any] = {}
    if slot.format == "auto":
        delivery["fetch_format"] = "auto"
    delivery["quality"] = slot.quality
    steps.append(delivery)
    return steps


def slot_url_options(slot: SlotProfile, signed: bool, dpr: float | None = None) -> dict[str, Any]:
    """The SDK options of a slot's delivery URL (at ``dpr``, or its 1x density)."""
    options: dict[str, Any] = {
        "resource_type": slot.resource_type,
        "transformation": slot_transformation(slot, dpr),
        "sign_url": signed,
    }
    if slot.format != "auto":
        options["format"] = slot.format
    return options


def delivered_size(
    slot: SlotProfile, asset: Document | None, dpr: float = 1.0
) -> tuple[int, int | None]:
    """Pixel size the delivery URL yields (at ``dpr``), computed the way Cloudinary crops."""
    width, height = slot.width, slot.height
    source_w, source_h = (asset or {}).get("width"), (asset or {}).get("height")
    if slot.crop in ("fit", "limit", "mfit", "scale") and source_w and source_h:
        scale = width / source_w if height is None else min(width / source_w, height / source_h)
        if slot.crop == "limit":
            scale = min(scale, 1.0)
        if slot.crop == "mfit":
            scale = max(scale, 1.0)
        width, height = max(1, round(source_w * scale)), max(1, round(source_h * scale))
    elif height is None:
        height = None
    return round(width * dpr), (round(height * dpr) if height is not None else None)


def _slot_key(slot: SlotProfile) -> tuple[Any, ...]:
    """The slot fields a delivery URL depends on (SlotProfile itself is not hashable)."""
    return (
        slot.resource_type,
        slot.width,
        slot.height,
        slot.crop,
        slot.gravity,
        slot.format,
        slot.quality,
        slot.background,
        slot.named_transformation,
        slot.watermark,
    )


@dataclass(frozen=True, slots=True)
class UrlBuilder:
    """Builds delivery URLs locally (no network), through templates the DamClient keeps.

    Each kind of URL has a template key naming everything its SDK options depend on (the slot's
    fields, the density, whether the channel signs), so one template serves every product; the
    options themselves are only built when a template is derived or the SDK must build the URL.
    """

    dam: DamClient
    profile: ChannelProfile

    def url(
        self, slot: SlotProfile, public_id: str, asset: Document | None, dpr: float | None = None
    ) -> str:
        signed = self.profile.signed
        key = ("url", signed, dpr, *_slot_key(slot))
        version = asset.get("version") if asset else None
        return self.dam.templated_url(
            key, public_id, version, lambda: slot_url_options(slot, signed, dpr)
        )

    def srcset(
        self, slot: SlotProfile, public_id: str, asset: Document | None, descriptor: str = "density"
    ) -> str:
        entries = []
        for density in slot.densities:
            url = self.url(slot, public_id, asset, density)
            if descriptor == "width":
                entries.append(f"{url} {delivered_size(slot, asset, density)[0]}w")
            else:
                entries.append(f"{url} {density:g}x")
        return ", ".join(entries)

    def poster_url(self, slot: SlotProfile, asset: Document) -> str:
        """A poster for a video: its poster image when it has one, else a frame of the video."""
        signed = self.profile.signed

        def image_steps() -> list[dict[str, Any]]:
            image_slot = slot.model_copy(update={"resource_type": "image", "format": "jpg"})
            return slot_transformation(image_slot)

        poster = asset.get("poster")
        if poster:

            def image_options() -> dict[str, Any]:
                return {"transformation": image_steps(), "format": "jpg", "sign_url": signed}

            key = ("poster-image", signed, *_slot_key(slot))
            return self.dam.templated_url(key, poster, None, image_options)

        def frame_options() -> dict[str, Any]:
            steps = image_steps()
            steps[0 if not slot.named_transformation else 1]["start_offset"] = "auto"
            return {
                "resource_type": "video",
                "transformation": steps,
                "format": "jpg",
                "sign_url": signed,
            }

        key = ("poster-frame", signed, *_slot_key(slot))
        return self.dam.templated_url(key, asset["publicId"], asset.get("version"), frame_options)

    def placeholder_poster_url(self, slot: SlotProfile, public_id: str) -> str:
        """The poster of a video placeholder: a frame of it, as for any video without a poster
        of its own (the placeholder is a video, see docs/media.md)."""
        return self.poster_url(slot, {"publicId": public_id})

    def streaming_url(self, asset: Document) -> str:
        """Adaptive streaming (HLS) with Cloudinary's automatic streaming profile."""
        signed = self.profile.signed

        def options() -> dict[str, Any]:
            return {
                "resource_type": "video",
                "format": "m3u8",
                "transformation": [{"streaming_profile": "auto"}],
                "sign_url": signed,
            }

        return self.dam.templated_url(
            ("streaming", signed), asset["publicId"], asset.get("version"), options
        )
