"""Parsing of Cloudinary transformation strings (rendering is in ``rendering``).

A transformation is a list of components separated by ``/`` in the URL; each component is a
comma-separated set of ``key_value`` parameters applied together, and components apply one
after the other ("chained"). Supported here: ``w``, ``h`` (pixels, or fractions such as
``0.5``), ``c`` (scale, fit, limit, mfit, fill, lfill, fill_pad, thumb, crop, pad, lpad,
auto), ``g`` (compass points, ``center``; ``auto``/``face``/``faces`` pick the
highest-entropy window as a stand-in for Cloudinary's saliency model), ``ar``, ``dpr``,
``x``/``y`` for ``c_crop``, ``b`` (colour names, ``rgb:RRGGBB[AA]``, ``auto``), ``a``
(rotation, ``hflip``/``vflip``), ``e`` (grayscale, blackwhite, blur, sharpen), ``f``, ``q``,
and named transformations ``t_<name>``. Flags (``fl_``) and video-only parameters are
accepted and ignored; anything else is refused with 400 rather than silently rendered wrong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from PIL import ImageColor

from gateway.cloudinary_emulator.errors import DeliveryError
from gateway.cloudinary_emulator.media import normalise_format

# Every parameter key Cloudinary defines; used to tell transformation components from
# folder names in delivery paths.
KNOWN_KEYS = frozenset(
    {
        "a",
        "ac",
        "af",
        "ar",
        "b",
        "bo",
        "br",
        "c",
        "co",
        "cs",
        "d",
        "dl",
        "dn",
        "dpr",
        "du",
        "e",
        "eo",
        "f",
        "fl",
        "fn",
        "fps",
        "g",
        "h",
        "if",
        "ki",
        "l",
        "o",
        "p",
        "pg",
        "q",
        "r",
        "so",
        "sp",
        "t",
        "u",
        "vc",
        "vs",
        "w",
        "x",
        "y",
        "z",
    }
)
# Accepted and deliberately without effect on a still image.
_IGNORED_KEYS = frozenset(
    {"fl", "so", "eo", "du", "sp", "vc", "ac", "af", "br", "fps", "ki", "vs", "dn", "cs", "pg"}
)
_SUPPORTED_KEYS = frozenset(
    {"w", "h", "c", "g", "b", "dpr", "ar", "x", "y", "a", "e", "f", "q", "t"}
)
_NEEDS_VALUE = frozenset(KNOWN_KEYS - {"fl"})

CROP_MODES = frozenset(
    {
        "scale",
        "fit",
        "limit",
        "mfit",
        "fill",
        "lfill",
        "fill_pad",
        "thumb",
        "crop",
        "pad",
        "lpad",
        "auto",
    }
)
COMPASS: dict[str, tuple[float, float]] = {
    "north_west": (0.0, 0.0),
    "north": (0.5, 0.0),
    "north_east": (1.0, 0.0),
    "west": (0.0, 0.5),
    "center": (0.5, 0.5),
    "centre": (0.5, 0.5),
    "east": (1.0, 0.5),
    "south_west": (0.0, 1.0),
    "south": (0.5, 1.0),
    "south_east": (1.0, 1.0),
}
SALIENCY_GRAVITIES = ("auto", "face", "faces", "custom", "adv_face", "adv_faces")

OUTPUT_FORMATS = frozenset({"jpg", "png", "webp", "gif", "bmp", "tiff", "avif"})
AUTO_QUALITY = {"": 80, "good": 80, "best": 90, "eco": 65, "low": 50}
_MAX_NAMED_DEPTH = 10


@dataclass(frozen=True, slots=True)
class Step:
    """One URL component's geometry and effects."""

    width: str | None = None
    height: str | None = None
    crop: str | None = None
    gravity: str | None = None
    background: str | None = None
    dpr: str | None = None
    aspect_ratio: str | None = None
    x: str | None = None
    y: str | None = None
    angle: str | None = None
    effect: str | None = None

    @property
    def is_empty(self) -> bool:
        return self == Step()


@dataclass(slots=True)
class Transformation:
    steps: list[Step] = field(default_factory=list)
    # Delivery settings: wherever they appear in the chain they govern the final output.
    fetch_format: str | None = None
    quality: str | None = None
    streaming_profile: str | None = None
    background: str | None = None

    @property
    def is_empty(self) -> bool:
        return (
            not self.steps
            and self.fetch_format is None
            and self.quality is None
            and self.background is None
        )


def looks_like_component(component: str) -> bool:
    """Whether a path segment is a transformation rather than part of a public ID."""
    if not component:
        return False
    for part in component.split(","):
        key, underscore, _ = part.partition("_")
        if not underscore or key not in KNOWN_KEYS:
            return False
    return True


def parse_transformation(
    components: Sequence[str], named: Mapping[str, str], depth: int = 0
) -> Transformation:
    if depth > _MAX_NAMED_DEPTH:
        raise DeliveryError(400, "Named transformations nest too deeply")
    result = Transformation()
    for component in components:
        if component:
            _parse_component(component, named, depth, result)
    return result


def _parse_component(
    component: str, named: Mapping[str, str], depth: int, result: Transformation
) -> None:
    values: dict[str, str] = {}
    for part in component.split(","):
        key, underscore, value = part.partition("_")
        if not underscore or key not in KNOWN_KEYS:
            raise DeliveryError(400, f"Invalid transformation component: {part}")
        if key in _NEEDS_VALUE and not value:
            raise DeliveryError(400, f"Missing value for transformation parameter {key}")
        values[key] = value
    if "t" in values:
        for name in values.pop("t").split("."):
            if name not in named:
                raise DeliveryError(400, f"Transformation t_{name} not found")
            nested = parse_transformation(named[name].split("/"), named, depth + 1)
            _merge(result, nested)
    for key in values:
        if key not in _SUPPORTED_KEYS and key not in _IGNORED_KEYS:
            raise DeliveryError(
                400, f"Transformation parameter {key}_ is not supported by the emulator"
            )
    if "f" in values:
        result.fetch_format = _validate_format(values["f"])
    if "q" in values:
        result.quality = _validate_quality(values["q"])
    if "sp" in values:
        result.streaming_profile = values["sp"]
    step = Step(
        width=_validate_dimension(values.get("w"), "w"),
        height=_validate_dimension(values.get("h"), "h"),
        crop=_validate_crop(values.get("c")),
        gravity=_validate_gravity(values.get("g")),
        background=_validate_background(values.get("b")),
        dpr=_validate_dpr(values.get("dpr")),
        aspect_ratio=_validate_aspect_ratio(values.get("ar")),
        x=_validate_offset(values.get("x"), "x"),
        y=_validate_offset(values.get("y"), "y"),
        angle=_validate_angle(values.get("a")),
        effect=_validate_effect(values.get("e")),
    )
    if step.background and not (step.crop and step.crop.endswith("pad")):
        result.background = step.background
    if not step.is_empty:
        result.steps.append(step)


def _merge(target: Transformation, nested: Transformation) -> None:
    target.steps.extend(nested.steps)
    target.fetch_format = nested.fetch_format or target.fetch_format
    target.quality = nested.quality or target.quality
    target.streaming_profile = nested.streaming_profile or target.streaming_profile
    target.background = nested.background or target.background


def _validate_dimension(value: str | None, key: str) -> str | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise DeliveryError(400, f"Invalid value for {key}_: {value}") from None
    if number <= 0 or not math.isfinite(number):
        raise DeliveryError(400, f"Invalid value for {key}_: {value}")
    return value


def _validate_crop(value: str | None) -> str | None:
    if value is not None and value not in CROP_MODES:
        raise DeliveryError(400, f"Crop mode c_{value} is not supported by the emulator")
    return value


def _validate_gravity(value: str | None) -> str | None:
    if value is None:
        return None
    base = value.split(":", 1)[0]
    if base not in COMPASS and base not in SALIENCY_GRAVITIES:
        raise DeliveryError(400, f"Gravity g_{value} is not supported by the emulator")
    return value


def _validate_background(value: str | None) -> str | None:
    if value is not None and not value.startswith("auto"):
        parse_color(value)
    return value


def _validate_dpr(value: str | None) -> str | None:
    if value is None or value == "auto":
        return value
    return _validate_dimension(value, "dpr")


def _validate_aspect_ratio(value: str | None) -> str | None:
    if value is not None:
        aspect_ratio(value)
    return value


def _validate_offset(value: str | None, key: str) -> str | None:
    if value is None:
        return None
    try:
        float(value)
    except ValueError:
        raise DeliveryError(400, f"Invalid value for {key}_: {value}") from None
    return value


def _validate_angle(value: str | None) -> str | None:
    if value is None or value in ("hflip", "vflip", "exif", "ignore", "auto_right", "auto_left"):
        return value
    try:
        float(value)
    except ValueError:
        raise DeliveryError(400, f"Angle a_{value} is not supported by the emulator") from None
    return value


def _validate_effect(value: str | None) -> str | None:
    if value is None:
        return None
    name, _, strength = value.partition(":")
    if name not in ("grayscale", "blackwhite", "blur", "sharpen"):
        raise DeliveryError(400, f"Effect e_{value} is not supported by the emulator")
    if strength and not strength.isdigit():
        raise DeliveryError(400, f"Invalid strength for e_{name}: {strength}")
    return value


def _validate_format(value: str) -> str:
    fmt = normalise_format(value)
    if fmt != "auto" and fmt not in OUTPUT_FORMATS:
        raise DeliveryError(400, f"Format f_{value} is not supported by the emulator")
    return fmt


def _validate_quality(value: str) -> str:
    if value.startswith("auto"):
        mode = value.partition(":")[2]
        if mode not in AUTO_QUALITY:
            raise DeliveryError(400, f"Invalid quality q_{value}")
        return value
    if not value.isdigit() or not 1 <= int(value) <= 100:
        raise DeliveryError(400, f"Invalid quality q_{value}")
    return value


def parse_color(value: str) -> tuple[int, int, int, int]:
    """``white``, ``rgb:fff``, ``rgb:ffffff`` or ``rgb:ffffff80`` as RGBA."""
    text = value.lower()
    if text == "transparent":
        return (0, 0, 0, 0)
    if text.startswith("rgb:"):
        hex_digits = text[4:]
        if len(hex_digits) in (3, 4):
            hex_digits = "".join(digit * 2 for digit in hex_digits)
        if len(hex_digits) not in (6, 8) or any(c not in "0123456789abcdef" for c in hex_digits):
            raise DeliveryError(400, f"Invalid color b_{value}")
        channels = [int(hex_digits[i : i + 2], 16) for i in range(0, len(hex_digits), 2)]
        if len(channels) == 3:
            channels.append(255)
        return (channels[0], channels[1], channels[2], channels[3])
    try:
        rgb = ImageColor.getrgb(text)
    except ValueError:
        raise DeliveryError(400, f"Invalid color b_{value}") from None
    if len(rgb) == 4:
        return rgb
    return (rgb[0], rgb[1], rgb[2], 255)


def aspect_ratio(value: str) -> float:
    try:
        if ":" in value:
            width, height = value.split(":", 1)
            ratio = float(width) / float(height)
        else:
            ratio = float(value)
    except (ValueError, ZeroDivisionError):
        raise DeliveryError(400, f"Invalid aspect ratio ar_{value}") from None
    if ratio <= 0 or not math.isfinite(ratio):
        raise DeliveryError(400, f"Invalid aspect ratio ar_{value}")
    return ratio
