"""Channel profiles (``channels.toml``): slots, transformations, role preferences, placeholders.

The file is validated once at start-up; a bad profile stops start-up with the file, the line, the
key and the reason.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from resolvers.config_files import ConfigFileError, line_of, parse_config, read_config_text
from resolvers.documents import MediaRole
from resolvers.locales import LocaleError, LocaleResolver

if TYPE_CHECKING:
    # validation.toml's limits; the validation rules themselves are checked against channels.
    from resolvers.validation.rules import TextLengths

Crop = Literal["fill", "lfill", "fit", "limit", "mfit", "pad", "lpad", "thumb", "scale", "crop"]
Gravity = Literal[
    "auto",
    "center",
    "north",
    "south",
    "east",
    "west",
    "north_east",
    "north_west",
    "south_east",
    "south_west",
    "face",
    "faces",
]
IMAGE_FORMATS = ("auto", "jpg", "png", "webp", "avif", "gif")
VIDEO_FORMATS = ("auto", "mp4", "webm")
QUALITIES = ("auto", "auto:best", "auto:good", "auto:eco", "auto:low")

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_PUBLIC_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,254}$")


class ChannelConfigError(ConfigFileError):
    """A channel profile is invalid; the message names the file, line, key and reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlotProfile(_Strict):
    """One named place in a front end and how media is delivered into it."""

    resource_type: Literal["image", "video"] = "image"
    width: Annotated[int, Field(ge=1, le=10_000)]
    height: Annotated[int, Field(ge=1, le=10_000)] | None = None
    crop: Crop = "fill"
    gravity: Gravity | None = None
    format: str = "auto"
    quality: str | Annotated[int, Field(ge=1, le=100)] = "auto"
    densities: Annotated[list[Annotated[float, Field(gt=0, le=4)]], Field(min_length=1)] = [1.0]
    background: str | None = None
    named_transformation: str | None = None
    watermark: str | None = None
    roles: Annotated[list[MediaRole], Field(min_length=1)]
    placeholder: str
    min_width: Annotated[int, Field(ge=1)] | None = None
    min_height: Annotated[int, Field(ge=1)] | None = None

    @field_validator("quality")
    @classmethod
    def _quality(cls, value: str | int) -> str | int:
        if isinstance(value, str) and value not in QUALITIES:
            raise ValueError(f"must be 1-100 or one of {', '.join(QUALITIES)}")
        return value

    @field_validator("placeholder", "watermark", "named_transformation")
    @classmethod
    def _public_id(cls, value: str | None) -> str | None:
        if value is not None and not _PUBLIC_ID.match(value):
            raise ValueError(f"{value!r} is not a valid Cloudinary public id or name")
        return value

    @field_validator("roles")
    @classmethod
    def _distinct_roles(cls, roles: list[MediaRole]) -> list[MediaRole]:
        if len(set(roles)) != len(roles):
            raise ValueError("a role is listed twice")
        return roles

    @model_validator(mode="after")
    def _consistent(self) -> SlotProfile:
        formats = IMAGE_FORMATS if self.resource_type == "image" else VIDEO_FORMATS
        if self.format not in formats:
            raise ValueError(f"format {self.format!r} is not one of {', '.join(formats)}")
        if self.height is None and self.crop not in ("limit", "fit", "scale", "mfit"):
            raise ValueError(f"crop {self.crop!r} needs a height")
        if self.background is not None and self.crop not in ("pad", "lpad"):
            raise ValueError("background only applies to crop 'pad' or 'lpad'")
        if self.resource_type == "video" and self.roles != ["video"]:
            raise ValueError("a video slot takes the role 'video' only")
        if self.resource_type == "image" and "video" in self.roles:
            raise ValueError("an image slot cannot take the role 'video'")
        return self

    @property
    def required_width(self) -> int:
        """Smallest source width that fills the slot at 1x without upscaling."""
        return self.min_width or self.width

    @property
    def required_height(self) -> int:
        return self.min_height or self.height or 1


RuleId = Literal[
    "hero_image",
    "image_resolution",
    "alt_text",
    "delivery_fallback",
    "variant_swatches",
    "video_posters",
    "required_attributes",
    "text_lengths",
    "asset_validity",
]
READINESS_RULES: tuple[str, ...] = get_args(RuleId)
Severity = Literal["blocker", "warning"]


class ReadinessRule(_Strict):
    weight: Annotated[int, Field(ge=0, le=1000)]
    severity: Severity
    hint: Annotated[str, Field(min_length=1)]
    description: str = ""


class ReadinessConfig(_Strict):
    rules: dict[RuleId, ReadinessRule]

    @model_validator(mode="before")
    @classmethod
    def _text_moved(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and "text" in raw:
            raise ValueError(
                "readiness.text moved to validation.toml ([text.name] and [text.description] "
                "min_length/max_length): the limits writes are validated against"
            )
        return raw

    @field_validator("rules")
    @classmethod
    def _every_rule(cls, rules: dict[RuleId, ReadinessRule]) -> dict[RuleId, ReadinessRule]:
        missing = [rule for rule in READINESS_RULES if rule not in rules]
        if missing:
            raise ValueError(f"rules {', '.join(missing)} are not declared")
        return rules


class ChannelReadiness(_Strict):
    """Per-channel adjustments of the readiness rules."""

    disabled: list[RuleId] = []
    weights: dict[RuleId, Annotated[int, Field(ge=0, le=1000)]] = {}
    severities: dict[RuleId, Severity] = {}


class ChannelProfile(_Strict):
    description: str = ""
    locales: Annotated[list[str], Field(min_length=1)]
    signed: bool = False
    slots: Annotated[dict[str, SlotProfile], Field(min_length=1)]
    readiness: ChannelReadiness = ChannelReadiness()

    @field_validator("slots")
    @classmethod
    def _slot_names(cls, slots: dict[str, SlotProfile]) -> dict[str, SlotProfile]:
        for name in slots:
            if not _NAME.match(name):
                raise ValueError(f"slot name {name!r} must be lowercase letters, digits, - or _")
        return slots

    def slot(self, name: str) -> tuple[str, SlotProfile] | None:
        """The slot named ``name`` in any case, with its configured (lowercase) name."""
        lowered = name.lower()
        slot = self.slots.get(lowered)
        return (lowered, slot) if slot is not None else None

    def lead_slot(self, role: str) -> tuple[str, SlotProfile] | None:
        """The first slot whose preferred role is ``role`` (the hero image's, the swatch's)."""
        return next(((n, s) for n, s in self.slots.items() if s.roles[0] == role), None)


class IngestRules(_Strict):
    """Checkpoints every uploaded asset passes before it may be delivered."""

    image_formats: Annotated[list[str], Field(min_length=1)] = [
        "jpg",
        "png",
        "webp",
        "avif",
        "tiff",
    ]
    video_formats: Annotated[list[str], Field(min_length=1)] = ["mp4", "webm", "mov"]
    max_image_bytes: Annotated[int, Field(ge=1)] = 20_000_000
    max_video_bytes: Annotated[int, Field(ge=1)] = 500_000_000
    color_spaces: Annotated[list[str], Field(min_length=1)] = ["sRGB"]
    # Perceptual hashes (64 bits) within this Hamming distance count as near-duplicates.
    near_duplicate_distance: Annotated[int, Field(ge=0, le=32)] = 6


class ChannelsFile(_Strict):
    channels: Annotated[dict[str, ChannelProfile], Field(min_length=1)]
    ingest: IngestRules = IngestRules()
    readiness: ReadinessConfig


class Channels:
    """The validated profiles, with the digest of the file they came from."""

    def __init__(
        self,
        profiles: dict[str, ChannelProfile],
        digest: str,
        source: str,
        readiness: ReadinessConfig,
        ingest: IngestRules | None = None,
        text: TextLengths | None = None,
    ) -> None:
        self.profiles = profiles
        self.digest = digest
        self.source = source
        self.readiness = readiness
        self.ingest = ingest or IngestRules()
        self.text = text

    def with_text_lengths(self, text: TextLengths) -> Channels:
        """These profiles with the name and description length limits of the validation rules
        (validation.toml), which readiness's text_lengths rule checks. The digest covers them,
        so stored scores are recomputed when the limits change."""
        limits = text.model_dump_json()
        digest = hashlib.sha256(f"{self.digest}\n{limits}".encode()).hexdigest()
        return Channels(self.profiles, digest, self.source, self.readiness, self.ingest, text)

    @property
    def text_lengths(self) -> TextLengths:
        """The length limits readiness checks; set by ``with_text_lengths``."""
        if self.text is None:
            raise LookupError(
                "the name and description length limits come from validation.toml: wire them "
                "with Channels.with_text_lengths (gateway.services.load_profiles does)"
            )
        return self.text

    def names(self) -> list[str]:
        return list(self.profiles)

    def canonical(self, name: str) -> str | None:
        """The configured spelling of a channel name given in any case (channel names are
        lowercase, like slot names), or None when no channel has that name."""
        lowered = name.lower()
        return lowered if lowered in self.profiles else None

    def get(self, name: str) -> ChannelProfile | None:
        """The profile of a channel named in any case."""
        canonical = self.canonical(name)
        return self.profiles[canonical] if canonical is not None else None

    def rules_for(self, channel: str) -> dict[str, ReadinessRule]:
        """The readiness rules that apply to ``channel``, with its weights and severities."""
        adjust = self.profiles[channel].readiness
        rules: dict[str, ReadinessRule] = {}
        for rule_id, rule in self.readiness.rules.items():
            if rule_id in adjust.disabled:
                continue
            update: dict[str, object] = {}
            if rule_id in adjust.weights:
                update["weight"] = adjust.weights[rule_id]
            if rule_id in adjust.severities:
                update["severity"] = adjust.severities[rule_id]
            rules[rule_id] = rule.model_copy(update=update) if update else rule
        return rules

    def required_locales(self) -> list[str]:
        """Every locale some channel delivers, in first-seen order."""
        return list(dict.fromkeys(t for p in self.profiles.values() for t in p.locales))

    def slots_for_role(self, role: str) -> list[tuple[str, str, SlotProfile]]:
        """Every ``(channel, slot, profile)`` that may deliver an asset of ``role``."""
        return [
            (channel, slot_name, slot)
            for channel, profile in self.profiles.items()
            for slot_name, slot in profile.slots.items()
            if role in slot.roles
        ]


def load_channels(path: Path, locales: LocaleResolver) -> Channels:
    """Read and validate ``path``, or raise ChannelConfigError naming file, line, key and reason."""
    text = read_config_text(path, "channel profiles", ChannelConfigError)
    return parse_channels(text, str(path), locales)


def parse_channels(text: str, source: str, locales: LocaleResolver) -> Channels:
    parsed = parse_config(text, source, ChannelsFile, ChannelConfigError)
    for name, profile in parsed.channels.items():
        if not _NAME.match(name):
            raise ChannelConfigError(
                f"{source}:{line_of(text, ['channels', name])}: channels.{name}: channel names "
                "must be lowercase letters, digits, - or _"
            )
        for index, tag in enumerate(profile.locales):
            try:
                locales.resolve(tag)
            except LocaleError as exc:
                where = line_of(text, ["channels", name, "locales"])
                raise ChannelConfigError(
                    f"{source}:{where}: channels.{name}.locales.{index}: {exc}"
                ) from None
    digest = hashlib.sha256(text.encode()).hexdigest()
    profiles = {
        name: profile.model_copy(
            update={"locales": [locales.resolve(tag) for tag in profile.locales]}
        )
        for name, profile in parsed.channels.items()
    }
    return Channels(profiles, digest, source, parsed.readiness, parsed.ingest)
