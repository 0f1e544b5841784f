"""Pillow rendering of parsed transformations, and encoding of the result.

Sizes follow Cloudinary's arithmetic: dimensions scale by ``dpr``, computed sizes round half
up, and every crop mode ends at exactly the size it promises. Overlays are composited onto
the image as it is at their point in the chain, which keeps its size (parts of an overlay
beyond its edges are cut off).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

from PIL import Image, ImageFilter, ImageOps, ImageStat, features

from cloudinary_emulator.errors import DeliveryError
from cloudinary_emulator.media import UndecodableImageError, normalise_format, open_image
from cloudinary_emulator.transformations import (
    AUTO_QUALITY,
    COMPASS,
    OUTPUT_FORMATS,
    SALIENCY_GRAVITIES,
    Layer,
    LayerSource,
    Step,
    Transformation,
    aspect_ratio,
    parse_color,
)

# The stored bytes of every overlay a transformation names, looked up before rendering.
Overlays = Mapping[LayerSource, bytes]

_PILLOW_SAVE_NAMES = {
    "jpg": "JPEG",
    "png": "PNG",
    "webp": "WEBP",
    "gif": "GIF",
    "bmp": "BMP",
    "tiff": "TIFF",
    "avif": "AVIF",
}
DEFAULT_QUALITY = 80
DEFAULT_PAD_BACKGROUND = (255, 255, 255, 255)


def round_half_up(value: float) -> int:
    """Cloudinary rounds computed sizes half up (Python's round() is half-to-even)."""
    return max(1, math.floor(value + 0.5))


def fit_size(width: int, height: int, box_width: float, box_height: float) -> tuple[int, int]:
    """The largest size with the source's aspect ratio inside the box (``c_fit``)."""
    scale = min(box_width / width, box_height / height)
    return (
        min(round_half_up(width * scale), round_half_up(box_width)),
        min(round_half_up(height * scale), round_half_up(box_height)),
    )


def render(
    image: Image.Image, transformation: Transformation, overlays: Overlays | None = None
) -> Image.Image:
    image = _apply_steps(image, transformation.steps, None, overlays or {})
    if transformation.background and image.mode == "RGBA":
        image = _flatten(image, _background_color(transformation.background, image))
    return image


def _apply_steps(
    image: Image.Image,
    steps: Sequence[Step | Layer],
    base: tuple[int, int] | None,
    overlays: Overlays,
) -> Image.Image:
    """Apply a chain; ``base`` is the size of the image a layer's chain will be placed on."""
    for step in steps:
        if isinstance(step, Layer):
            image = _apply_layer(image, step, overlays)
        else:
            image = _apply_step(image, step, base)
    return image


def _apply_layer(base: Image.Image, layer: Layer, overlays: Overlays) -> Image.Image:
    """Render the overlay, place it by gravity and offsets; the base keeps its size."""
    data = overlays.get(layer.source)
    if data is None:
        raise DeliveryError(400, f"Overlay image not found - {layer.source.text}")
    try:
        overlay, _ = open_image(data)
    except UndecodableImageError:
        raise DeliveryError(400, f"Overlay {layer.source.text} is not an image") from None
    overlay = _apply_steps(overlay, layer.steps, base.size, overlays).convert("RGBA")
    fx, fy = COMPASS[(layer.gravity or "center").split(":", 1)[0]]
    dx = _offset(layer.x, base.width)
    dy = _offset(layer.y, base.height)
    # Offsets point away from the gravity's edge: x_10 with g_east moves the overlay left.
    left = round((base.width - overlay.width) * fx) + (-dx if fx == 1.0 else dx)
    top = round((base.height - overlay.height) * fy) + (-dy if fy == 1.0 else dy)
    sheet = Image.new("RGBA", base.size, (0, 0, 0, 0))
    sheet.paste(overlay, (left, top))
    composed = Image.alpha_composite(base.convert("RGBA"), sheet)
    return composed if base.mode == "RGBA" else composed.convert(base.mode)


def _offset(raw: str | None, reference: int) -> int:
    """Pixels, or for decimals up to 1.0 a fraction of the base image's size."""
    if raw is None:
        return 0
    value = float(raw)
    if "." in raw and abs(value) <= 1.0:
        value *= reference
    return math.floor(value + 0.5)


def _with_opacity(image: Image.Image, percent: int) -> Image.Image:
    if percent >= 100:
        return image
    rgba = image.convert("RGBA")
    alpha = rgba.getchannel("A").point(lambda value: (value * percent + 50) // 100)
    rgba.putalpha(alpha)
    return rgba


def _dimension(raw: str | None, reference: int) -> float | None:
    if raw is None:
        return None
    value = float(raw)
    if "." in raw and value <= 1.0:
        # Decimal values up to 1.0 are a fraction of the current size (w_0.5 = half).
        return value * reference
    return value


def _target(
    step: Step, image: Image.Image, base: tuple[int, int] | None
) -> tuple[float | None, float | None]:
    reference = base if step.relative and base is not None else image.size
    width = _dimension(step.width, reference[0])
    height = _dimension(step.height, reference[1])
    if step.aspect_ratio:
        ratio = aspect_ratio(step.aspect_ratio)
        if width is not None and height is None:
            height = width / ratio
        elif height is not None and width is None:
            width = height * ratio
        elif width is None and height is None:
            if image.width / image.height > ratio:
                height = image.height
                width = height * ratio
            else:
                width = image.width
                height = width / ratio
    dpr = 1.0 if step.dpr in (None, "auto") else float(step.dpr or 1)
    if width is None and height is None:
        if dpr != 1.0:
            return image.width * dpr, image.height * dpr
        return None, None
    return (
        width * dpr if width is not None else None,
        height * dpr if height is not None else None,
    )


def _apply_step(image: Image.Image, step: Step, base: tuple[int, int] | None) -> Image.Image:
    box_width, box_height = _target(step, image, base)
    if box_width is not None or box_height is not None:
        image = _resize(image, step, box_width, box_height)
    if step.effect:
        image = _apply_effect(image, step.effect)
    if step.angle:
        image = _rotate(image, step.angle, step.background)
    if step.opacity is not None:
        image = _with_opacity(image, int(step.opacity))
    return image


def _resize(
    image: Image.Image, step: Step, box_width: float | None, box_height: float | None
) -> Image.Image:
    mode = step.crop or "scale"
    width, height = image.size
    if mode == "crop":
        return _crop(image, step, box_width, box_height)
    if box_width is None or box_height is None:
        # One dimension given: every other mode keeps the aspect ratio.
        if box_width is not None:
            new_width = round_half_up(box_width)
            new_height = round_half_up(height * box_width / width)
        else:
            assert box_height is not None
            new_height = round_half_up(box_height)
            new_width = round_half_up(width * box_height / height)
        if mode in ("limit", "lfill", "lpad") and new_width >= width and new_height >= height:
            return image
        if mode == "mfit" and new_width <= width and new_height <= height:
            return image
        return _scaled(image, new_width, new_height)
    target = (round_half_up(box_width), round_half_up(box_height))
    if mode == "scale":
        return _scaled(image, *target)
    if mode == "fit":
        return _scaled(image, *fit_size(width, height, box_width, box_height))
    if mode == "limit":
        if width <= target[0] and height <= target[1]:
            return image
        return _scaled(image, *fit_size(width, height, box_width, box_height))
    if mode == "mfit":
        if width >= target[0] or height >= target[1]:
            return image
        return _scaled(image, *fit_size(width, height, box_width, box_height))
    if mode in ("fill", "thumb", "auto", "fill_pad"):
        return _fill(image, target, step.gravity or ("auto" if mode == "auto" else "center"))
    if mode == "lfill":
        if width >= target[0] and height >= target[1]:
            return _fill(image, target, step.gravity or "center")
        # Never upscaled: the largest window of the requested aspect ratio, unscaled.
        ratio = target[0] / target[1]
        if width / height > ratio:
            window = (min(width, round_half_up(height * ratio)), height)
        else:
            window = (width, min(height, round_half_up(width / ratio)))
        left, top = _window(image, window, step.gravity or "center")
        return image.crop((left, top, left + window[0], top + window[1]))
    if mode in ("pad", "lpad"):
        return _pad(image, step, target, upscale=mode == "pad")
    raise DeliveryError(400, f"Crop mode c_{mode} is not supported by the emulator")


def _scaled(image: Image.Image, width: int, height: int) -> Image.Image:
    if image.size == (width, height):
        return image
    return image.resize((width, height), Image.Resampling.LANCZOS)


def _fill(image: Image.Image, target: tuple[int, int], gravity: str) -> Image.Image:
    width, height = image.size
    scale = max(target[0] / width, target[1] / height)
    scaled = _scaled(
        image,
        max(target[0], round_half_up(width * scale)),
        max(target[1], round_half_up(height * scale)),
    )
    left, top = _window(scaled, target, gravity)
    return scaled.crop((left, top, left + target[0], top + target[1]))


def _crop(
    image: Image.Image, step: Step, box_width: float | None, box_height: float | None
) -> Image.Image:
    width = min(image.width, round_half_up(box_width) if box_width else image.width)
    height = min(image.height, round_half_up(box_height) if box_height else image.height)
    if step.x is not None or step.y is not None:
        left = min(max(0, round(float(step.x or 0))), image.width - width)
        top = min(max(0, round(float(step.y or 0))), image.height - height)
    else:
        left, top = _window(image, (width, height), step.gravity or "center")
    return image.crop((left, top, left + width, top + height))


def _pad(image: Image.Image, step: Step, target: tuple[int, int], *, upscale: bool) -> Image.Image:
    width, height = image.size
    inner = fit_size(width, height, target[0], target[1])
    if not upscale and (inner[0] > width or inner[1] > height):
        inner = (width, height)
    scaled = _scaled(image, *inner)
    color = _background_color(step.background, scaled) if step.background else None
    color = color or DEFAULT_PAD_BACKGROUND
    mode = "RGBA" if scaled.mode == "RGBA" or color[3] < 255 else "RGB"
    canvas = Image.new(mode, target, color if mode == "RGBA" else color[:3])
    fx, fy = COMPASS.get((step.gravity or "center").split(":", 1)[0], (0.5, 0.5))
    left = round((target[0] - inner[0]) * fx)
    top = round((target[1] - inner[1]) * fy)
    canvas.paste(scaled, (left, top), scaled if scaled.mode == "RGBA" else None)
    return canvas


def _window(image: Image.Image, size: tuple[int, int], gravity: str) -> tuple[int, int]:
    """Top-left corner of a ``size`` window inside ``image`` for the given gravity."""
    spare_x = image.width - size[0]
    spare_y = image.height - size[1]
    base = gravity.split(":", 1)[0]
    if base in SALIENCY_GRAVITIES:
        return _busiest_window(image, size)
    fx, fy = COMPASS.get(base, (0.5, 0.5))
    return round(spare_x * fx), round(spare_y * fy)


def _busiest_window(image: Image.Image, size: tuple[int, int]) -> tuple[int, int]:
    """Stand-in for ``g_auto``: the candidate window with the most greyscale entropy.

    Nine evenly spaced positions along each axis that has room; ties go to the position
    nearest the centre so flat images crop like ``g_center``.
    """
    spare_x = image.width - size[0]
    spare_y = image.height - size[1]
    if spare_x <= 0 and spare_y <= 0:
        return 0, 0
    scale = min(1.0, 128 / max(image.width, image.height))
    small = image.convert("L").resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    )
    xs = sorted({round(spare_x * i / 8) for i in range(9)}) if spare_x > 0 else [0]
    ys = sorted({round(spare_y * i / 8) for i in range(9)}) if spare_y > 0 else [0]
    centre = (spare_x / 2, spare_y / 2)
    best: tuple[float, float, int, int] | None = None
    for left in xs:
        for top in ys:
            box = (
                math.floor(left * scale),
                math.floor(top * scale),
                max(math.floor(left * scale) + 1, math.ceil((left + size[0]) * scale)),
                max(math.floor(top * scale) + 1, math.ceil((top + size[1]) * scale)),
            )
            entropy = small.crop(box).entropy()
            distance = abs(left - centre[0]) + abs(top - centre[1])
            candidate = (-round(entropy, 6), distance, left, top)
            if best is None or candidate < best:
                best = candidate
    assert best is not None
    return best[2], best[3]


def _background_color(value: str, image: Image.Image) -> tuple[int, int, int, int]:
    if value.startswith("auto"):
        # Mean colour of the one-pixel border, Cloudinary's b_auto:border default.
        rgb = image.convert("RGB")
        width, height = rgb.size
        strips = [
            rgb.crop((0, 0, width, 1)),
            rgb.crop((0, height - 1, width, height)),
            rgb.crop((0, 0, 1, height)),
            rgb.crop((width - 1, 0, width, height)),
        ]
        totals = [0.0, 0.0, 0.0]
        pixels = 0
        for strip in strips:
            stat = ImageStat.Stat(strip)
            count = strip.width * strip.height
            pixels += count
            for channel in range(3):
                totals[channel] += stat.mean[channel] * count
        r, g, b = (round(total / pixels) for total in totals)
        return (r, g, b, 255)
    return parse_color(value)


def _flatten(image: Image.Image, color: tuple[int, int, int, int]) -> Image.Image:
    canvas = Image.new("RGBA", image.size, color)
    canvas.alpha_composite(image)
    return canvas.convert("RGB") if color[3] == 255 else canvas


def _apply_effect(image: Image.Image, effect: str) -> Image.Image:
    name, _, strength_text = effect.partition(":")
    if name == "grayscale":
        grey = ImageOps.grayscale(image)
        return _keep_alpha(image, grey.convert("RGB"))
    if name == "blackwhite":
        threshold = int(strength_text or 50) * 255 // 100
        bw = ImageOps.grayscale(image).point(lambda value: 255 if value > threshold else 0)
        return _keep_alpha(image, bw.convert("RGB"))
    if name == "blur":
        radius = int(strength_text or 100) / 20
        return image.filter(ImageFilter.GaussianBlur(radius))
    if name == "sharpen":
        percent = int(strength_text or 100) * 2
        return image.filter(ImageFilter.UnsharpMask(radius=2, percent=percent, threshold=0))
    raise DeliveryError(400, f"Effect e_{effect} is not supported by the emulator")


def _keep_alpha(source: Image.Image, result: Image.Image) -> Image.Image:
    if source.mode == "RGBA":
        result = result.convert("RGBA")
        result.putalpha(source.getchannel("A"))
    return result


def _rotate(image: Image.Image, angle: str, background: str | None) -> Image.Image:
    if angle == "hflip":
        return ImageOps.mirror(image)
    if angle == "vflip":
        return ImageOps.flip(image)
    if angle in ("exif", "ignore", "auto_right", "auto_left"):
        return image
    degrees = float(angle) % 360
    quarter_turns = {
        90.0: Image.Transpose.ROTATE_270,
        180.0: Image.Transpose.ROTATE_180,
        270.0: Image.Transpose.ROTATE_90,
    }
    if degrees == 0:
        return image
    if degrees in quarter_turns:
        return image.transpose(quarter_turns[degrees])
    if background:
        fill = _background_color(background, image)
        image = image.convert("RGBA") if fill[3] < 255 else image
    else:
        image = image.convert("RGBA")
        fill = (0, 0, 0, 0)
    # Cloudinary turns clockwise; Pillow's positive angles turn counter-clockwise.
    return image.rotate(
        -degrees,
        resample=Image.Resampling.BICUBIC,
        expand=True,
        fillcolor=fill if image.mode == "RGBA" else fill[:3],
    )


# --------------------------------------------------------------------------- output


def choose_format(
    transformation: Transformation,
    requested: str | None,
    source_format: str,
    accept: str,
    has_alpha: bool,
) -> str:
    fmt = transformation.fetch_format or (normalise_format(requested) if requested else None)
    if fmt == "auto":
        if "image/webp" in accept:
            return "webp"
        # Without WebP support, keep transparency where it exists, otherwise JPEG.
        return "png" if has_alpha else "jpg"
    fmt = fmt or source_format
    if fmt not in OUTPUT_FORMATS:
        raise DeliveryError(400, f"Delivery format .{fmt} is not supported by the emulator")
    if fmt == "avif" and not features.check("avif"):
        raise DeliveryError(400, "AVIF output needs a Pillow built with AVIF support")
    return fmt


def quality_value(quality: str | None) -> int:
    if quality is None:
        return DEFAULT_QUALITY
    if quality.startswith("auto"):
        return AUTO_QUALITY[quality.partition(":")[2]]
    return int(quality)


def encode(
    image: Image.Image, fmt: str, quality: str | None, background: str | None = None
) -> bytes:
    buffer = io.BytesIO()
    if fmt in ("jpg", "bmp") and image.mode == "RGBA":
        color = _background_color(background, image) if background else (255, 255, 255, 255)
        image = _flatten(image, (*color[:3], 255))
    if fmt == "gif":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE)
    save_name = _PILLOW_SAVE_NAMES[fmt]
    if fmt in ("jpg", "webp", "avif"):
        image.save(buffer, save_name, quality=quality_value(quality))
    else:
        image.save(buffer, save_name)
    return buffer.getvalue()
