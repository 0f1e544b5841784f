"""Parsing of Cloudinary transformation strings (rendering is in ``rendering``).

A transformation is a list of components separated by ``/`` in the URL; each component is a
comma-separated set of ``key_value`` parameters applied together, and components apply one
after the other ("chained"). Supported here: ``w``, ``h`` (pixels, or fractions such as
``0.5``), ``c`` (scale, fit, limit, mfit, fill, lfill, fill_pad, thumb, crop, pad, lpad,
auto), ``g`` (compass points, ``center``; ``auto``/``face``/``faces`` pick the
highest-entropy window as a stand-in for Cloudinary's saliency model), ``ar``, ``dpr``,
``x``/``y`` for ``c_crop``, ``b`` (colour names, ``rgb:RRGGBB[AA]``, ``auto``), ``a``
(rotation, ``hflip``/``vflip``), ``e`` (grayscale, blackwhite, blur, sharpen), ``o``
(opacity 0-100), ``f``, ``q``, named transformations ``t_<name>``, and image overlays ``l_``.

Overlays come in both of Cloudinary's forms. The one-component form the Python SDK builds
from ``overlay=...`` (``fl_relative,g_south_east,l_logos:mark,o_60,w_0.25,x_10,y_10``):
``w``/``h``/``c``/``e``/``a``/``o`` transform the overlay, ``g``/``x``/``y`` place it. The
bracketed form (``l_logos:mark/c_scale,w_0.5/o_70/fl_layer_apply,g_north_east``): every
component up to the one with ``fl_layer_apply`` transforms the overlay, and that one's
``g``/``x``/``y`` place it. ``fl_relative`` makes decimal ``w``/``h`` fractions of the base
image rather than of the overlay. Other flags and video-only parameters are accepted and
ignored; anything else is refused with 400 rather than silently rendered wrong.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from PIL import ImageColor

from cloudinary_emulator.config import DELIVERY_TYPES
from cloudinary_emulator.errors import DeliveryError
from cloudinary_emulator.media import normalise_format

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
    {"w", "h", "c", "g", "b", "dpr", "ar", "x", "y", "a", "e", "f", "q", "t", "l", "o"}
)
# Where a layer goes on its base; in a one-component overlay the rest transforms the overlay.
_PLACEMENT_KEYS = frozenset({"g", "x", "y"})
# Layer types other than images, refused rather than rendered as something else.
_UNSUPPORTED_LAYER_TYPES = frozenset({"text", "fetch", "video", "subtitles", "lut", "audio", "url"})
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
    opacity: str | None = None
    # fl_relative: decimal w/h are fractions of the base image a layer is placed on.
    relative: bool = False

    @property
    def is_empty(self) -> bool:
        return self == Step()


@dataclass(frozen=True, slots=True)
class LayerSource:
    """The stored image an ``l_`` value names: ``l_private:logos:mark`` → private ``logos/mark``."""

    type: str
    public_id: str
    # As written after ``l_``, for error messages.
    text: str


@dataclass(frozen=True, slots=True)
class Layer:
    """An image overlay: its source, what to do to it, and where it goes on the base image."""

    source: LayerSource
    steps: tuple[Step | Layer, ...] = ()
    gravity: str | None = None
    x: str | None = None
    y: str | None = None


@dataclass(slots=True)
class Transformation:
    steps: list[Step | Layer] = field(default_factory=list)
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

    def layer_sources(self) -> list[LayerSource]:
        """Every overlay's source, nested ones included, each once."""
        return list(dict.fromkeys(_sources(self.steps)))


def _sources(steps: Sequence[Step | Layer]) -> Iterator[LayerSource]:
    for step in steps:
        if isinstance(step, Layer):
            yield step.source
            yield from _sources(step.steps)


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
    parsed = [_split(component) for component in components if component]
    index = 0
    while index < len(parsed):
        values = parsed[index]
        if "l" in values:
            close = _layer_apply_index(parsed, index)
            if close is None:
                result.steps.append(_single_component_layer(values, result))
                index += 1
            else:
                result.steps.append(
                    _bracketed_layer(parsed[index : close + 1], named, depth, result)
                )
                index = close + 1
            continue
        if "layer_apply" in _flags(values):
            raise DeliveryError(400, "fl_layer_apply without a layer (l_) to apply")
        _parse_component(values, named, depth, result, result.steps)
        index += 1
    return result


def _split(component: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for part in component.split(","):
        key, underscore, value = part.partition("_")
        if not underscore or key not in KNOWN_KEYS:
            raise DeliveryError(400, f"Invalid transformation component: {part}")
        if key in _NEEDS_VALUE and not value:
            raise DeliveryError(400, f"Missing value for transformation parameter {key}")
        if key == "fl" and "fl" in values:
            # fl_a,fl_b is how some SDKs write fl_a.b.
            value = f"{values['fl']}.{value}"
        values[key] = value
    return values


def _flags(values: Mapping[str, str]) -> set[str]:
    return set(values["fl"].split(".")) if values.get("fl") else set()


def _layer_apply_index(parsed: Sequence[Mapping[str, str]], start: int) -> int | None:
    """The component closing the layer opened at ``start``, if it is in bracketed form."""
    for index in range(start + 1, len(parsed)):
        if "l" in parsed[index]:
            return None
        if "layer_apply" in _flags(parsed[index]):
            return index
    return None


def _parse_component(
    values: dict[str, str],
    named: Mapping[str, str],
    depth: int,
    result: Transformation,
    target: list[Step | Layer],
) -> None:
    """Add one component's steps to ``target``: the chain itself, or an open layer's."""
    values = dict(values)
    if "t" in values:
        for name in values.pop("t").split("."):
            if name not in named:
                raise DeliveryError(400, f"Transformation t_{name} not found")
            nested = parse_transformation(named[name].split("/"), named, depth + 1)
            _merge(result, nested, target)
    _check_supported(values)
    _delivery_settings(values, result)
    step = _step(values)
    padding = step.crop is not None and step.crop.endswith("pad")
    if step.background and not padding and target is result.steps:
        result.background = step.background
    if not step.is_empty:
        target.append(step)


def _check_supported(values: Mapping[str, str]) -> None:
    for key in values:
        if key not in _SUPPORTED_KEYS and key not in _IGNORED_KEYS:
            raise DeliveryError(
                400, f"Transformation parameter {key}_ is not supported by the emulator"
            )


def _delivery_settings(values: Mapping[str, str], result: Transformation) -> None:
    if "f" in values:
        result.fetch_format = _validate_format(values["f"])
    if "q" in values:
        result.quality = _validate_quality(values["q"])
    if "sp" in values:
        result.streaming_profile = values["sp"]


def _step(values: Mapping[str, str]) -> Step:
    return Step(
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
        opacity=_validate_opacity(values.get("o")),
        relative="relative" in _flags(values),
    )


def _single_component_layer(values: Mapping[str, str], result: Transformation) -> Layer:
    """``l_`` with everything in one component: the SDK's ``overlay=...`` form."""
    if "t" in values:
        raise DeliveryError(400, "t_ inside an overlay component is not supported by the emulator")
    _check_supported(values)
    _delivery_settings(values, result)
    source = _layer_source(values["l"])
    own = {key: value for key, value in values.items() if key not in _PLACEMENT_KEYS}
    step = _step(own)
    return _placed(source, (step,) if not step.is_empty else (), values)


def _bracketed_layer(
    group: Sequence[dict[str, str]],
    named: Mapping[str, str],
    depth: int,
    result: Transformation,
) -> Layer:
    """``l_…/…/fl_layer_apply,…``: components in between transform the overlay."""
    opening, *middle, closing = group
    source = _layer_source(opening["l"])
    steps: list[Step | Layer] = []
    own = {key: value for key, value in opening.items() if key != "l"}
    for values in [own, *middle]:
        if "layer_apply" in _flags(values):
            raise DeliveryError(400, "fl_layer_apply closes a layer in a component of its own")
        _parse_component(values, named, depth, result, steps)
    if "t" in closing:
        raise DeliveryError(400, "t_ in an fl_layer_apply component is not supported")
    rest = {key: value for key, value in closing.items() if key not in _PLACEMENT_KEYS}
    _parse_component(rest, named, depth, result, steps)
    return _placed(source, tuple(steps), closing)


def _placed(
    source: LayerSource, steps: tuple[Step | Layer, ...], values: Mapping[str, str]
) -> Layer:
    gravity = _validate_gravity(values.get("g"))
    if gravity is not None and gravity.split(":", 1)[0] not in COMPASS:
        raise DeliveryError(400, f"Overlay placement g_{gravity} is not supported by the emulator")
    return Layer(
        source=source,
        steps=steps,
        gravity=gravity,
        x=_validate_offset(values.get("x"), "x"),
        y=_validate_offset(values.get("y"), "y"),
    )


def _layer_source(value: str) -> LayerSource:
    """Folders are separated by ``:``; a leading delivery type picks private assets."""
    text = unquote(value)
    parts = text.split(":")
    if len(parts) > 1 and parts[0] in _UNSUPPORTED_LAYER_TYPES:
        raise DeliveryError(
            400, f"Layer l_{text}: {parts[0]} layers are not supported by the emulator"
        )
    delivery_type = "upload"
    if len(parts) > 1 and parts[0] in DELIVERY_TYPES:
        delivery_type = parts.pop(0)
    if not all(parts):
        raise DeliveryError(400, f"Invalid layer l_{text}")
    return LayerSource(delivery_type, "/".join(parts), text)


def _merge(target: Transformation, nested: Transformation, steps: list[Step | Layer]) -> None:
    steps.extend(nested.steps)
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


def _validate_opacity(value: str | None) -> str | None:
    if value is not None and not (value.isdigit() and 0 <= int(value) <= 100):
        raise DeliveryError(400, f"Invalid opacity o_{value}: expected 0 to 100")
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
