"""Pictures of demo products, drawn with Pillow: one per media role, deterministic.

Every media reference of the seeded products gets a picture a person can tell apart from the
others: a simple drawing of the product in its colour (``demo.shapes``), its name, SKU and role,
at a size that satisfies the largest channel slot. ``demo.upload`` uploads them.
"""

from __future__ import annotations

import hashlib
import io
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast, get_args

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from demo.shapes import SHAPES, Prim
from demo.tables import read

RGB = tuple[int, int, int]
Scene = Literal["outdoor", "home", "desk"]

# Large enough for the biggest slots (web zoom and marketplace need 1000 px, the web hero
# 1200x800 at 1x) without upscaling, and a little more so 2x crops still look sharp.
ROLE_SIZES: dict[str, tuple[int, int]] = {
    "hero": (1600, 1600),
    "front": (1400, 1400),
    "side": (1400, 1400),
    "back": (1400, 1400),
    "detail": (1400, 1400),
    "lifestyle": (2000, 1200),
    "swatch": (200, 200),
}
VIDEO_SIZE = (1920, 1080)
JPEG_QUALITY = 85
EN_DASH = "\u2013"

_data = read("pictures.toml")
_COLORS: dict[str, RGB] = {name: (r, g, b) for name, (r, g, b) in _data["rgb"].items()}
_FALLBACK_COLORS: tuple[RGB, ...] = tuple((r, g, b) for r, g, b in _data["fallback"]["rgb"])


def _look(slug: str, entry: dict[str, str]) -> tuple[tuple[Prim, ...], Scene]:
    shape, scene = entry["shape"], entry["scene"]
    if shape not in SHAPES or scene not in get_args(Scene):
        raise ValueError(f"demo/data/pictures.toml: {slug} = {entry!r}")
    return SHAPES[shape], cast(Scene, scene)


# Leaf category slug -> the drawing and the lifestyle scene.
_LOOKS: dict[str, tuple[tuple[Prim, ...], Scene]] = {
    slug: _look(slug, entry) for slug, entry in _data["looks"].items()
}


def digest(*parts: str) -> bytes:
    """A stable hash of ``parts``: the pictures' source of variety (nothing is random)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _hex(text: str) -> RGB:
    return (int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16))


def _luma(color: RGB) -> float:
    return 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]


_WHITE: RGB = (255, 255, 255)
_BLACK: RGB = (0, 0, 0)
_INK: RGB = (34, 38, 46)


def color_rgb(color: str | None, sku: str = "") -> RGB:
    """The RGB of a demo colour name; products without one get a muted colour by SKU."""
    if color and color.lower() in _COLORS:
        return _COLORS[color.lower()]
    return _FALLBACK_COLORS[digest(sku, color or "")[0] % len(_FALLBACK_COLORS)]


_fonts = threading.local()


def bundled_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font: the same glyphs on every machine (slim images have no system
    # fonts), which keeps pictures byte-identical. One cache per thread, because pictures are
    # drawn in several threads and a FreeType face must not be used by two at once.
    cache: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] | None = getattr(
        _fonts, "cache", None
    )
    if cache is None:
        cache = _fonts.cache = {}
    if size not in cache:
        cache[size] = ImageFont.load_default(size)
    return cache[size]


_FOLD = str.maketrans(
    {
        "ß": "ss",
        EN_DASH: "-",
        "\u2014": "-",
        "\u2019": "'",
        "œ": "oe",
        "Œ": "OE",
        "æ": "ae",
        "ø": "o",
    }
)


def _drawable(text: str) -> str:
    """ASCII only: the bundled font has no accented glyphs and would draw empty boxes."""
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in folded if 32 <= ord(c) < 127)


def gradient(size: tuple[int, int], start: RGB, end: RGB, horizontal: bool = False) -> Image.Image:
    width, height = size
    # One row or column in colour, then stretched without interpolation: ten times faster
    # than colouring or smoothly scaling the full-size picture.
    ramp = ImageOps.colorize(Image.linear_gradient("L").resize((1, 256)), start, end)
    if horizontal:
        line = ramp.transpose(Image.Transpose.ROTATE_90).resize(
            (width, 1), Image.Resampling.BILINEAR
        )
    else:
        line = ramp.resize((1, height), Image.Resampling.BILINEAR)
    return line.resize(size, Image.Resampling.NEAREST)


def _soft_ellipse(
    image: Image.Image, box: tuple[float, float, float, float], color: RGB, opacity: float
) -> None:
    """A blurred ellipse (shadow, glow). Only its surroundings are touched, blurred at 1/8
    scale, because blurring and masking the whole picture is the slow part of drawing."""
    scale = 8
    pad = 10 * scale  # room for the blur, which would otherwise end in a visible edge
    left, top = max(0, int(box[0]) - pad), max(0, int(box[1]) - pad)
    right, bottom = min(image.width, int(box[2]) + pad), min(image.height, int(box[3]) + pad)
    if right <= left or bottom <= top:
        return
    small = Image.new("L", (max(1, (right - left) // scale), max(1, (bottom - top) // scale)), 0)
    inner = (
        (box[0] - left) / scale,
        (box[1] - top) / scale,
        (box[2] - left) / scale,
        (box[3] - top) / scale,
    )
    ImageDraw.Draw(small).ellipse(inner, fill=round(255 * opacity))
    mask = small.filter(ImageFilter.GaussianBlur(3)).resize(
        (right - left, bottom - top), Image.Resampling.BILINEAR
    )
    image.paste(color, (left, top, right, bottom), mask)


@dataclass(frozen=True, slots=True)
class _Frame:
    """Where unit coordinates land: a box in pixels, optionally mirrored left to right."""

    x0: float
    y0: float
    width: float
    height: float
    mirror: bool = False

    def x(self, u: float) -> float:
        return self.x0 + (1.0 - u if self.mirror else u) * self.width

    def y(self, v: float) -> float:
        return self.y0 + v * self.height

    def box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        left, right = sorted((self.x(x0), self.x(x1)))
        return (left, self.y(y0), right, self.y(y1))

    def angles(self, start: float, end: float) -> tuple[float, float]:
        return (180 - end, 180 - start) if self.mirror else (start, end)


def _draw_product(
    draw: ImageDraw.ImageDraw, shape: Sequence[Prim], frame: _Frame, main: RGB, darker: bool
) -> None:
    if darker:  # seen from the back, in the shade
        main = _mix(main, _BLACK, 0.25)
    tones: dict[str, RGB] = {
        "main": main,
        "dark": _mix(main, _BLACK, 0.45),
        "light": _mix(main, _WHITE, 0.55),
        "accent": _WHITE if _luma(main) < 150 else _INK,
    }
    outline = _mix(main, _BLACK, 0.6)
    line = max(1, round(min(frame.width, frame.height) / 220))
    for kind, tone, n in shape:
        fill = _hex(tone) if tone.startswith("#") else tones[tone]
        if kind == "poly":
            points = [(frame.x(n[i]), frame.y(n[i + 1])) for i in range(0, len(n), 2)]
            draw.polygon(points, fill=fill, outline=outline, width=line)
        elif kind == "ellipse":
            draw.ellipse(frame.box(*n[:4]), fill=fill, outline=outline, width=line)
        elif kind == "rrect":
            box = frame.box(*n[:4])
            radius = round(n[4] * min(frame.width, frame.height))
            thin = min(box[2] - box[0], box[3] - box[1]) < 3 * line
            draw.rounded_rectangle(
                box, radius=radius, fill=fill, outline=None if thin else outline, width=line
            )
        elif kind == "chord":
            start, end = frame.angles(n[4], n[5])
            draw.chord(frame.box(*n[:4]), start, end, fill=fill, outline=outline, width=line)
        elif kind == "arc":
            start, end = frame.angles(n[4], n[5])
            width = max(1, round(n[6] * min(frame.width, frame.height)))
            draw.arc(frame.box(*n[:4]), start, end, fill=fill, width=width)
        else:  # pragma: no cover - the shape tables above use only these kinds
            raise ValueError(f"unknown primitive {kind!r}")


def _bottom(shape: Sequence[Prim]) -> float:
    """The lowest unit y the drawing reaches, where its shadow goes."""
    lowest = 0.0
    for kind, _, n in shape:
        if kind == "poly":
            lowest = max(lowest, *n[1::2])
        elif kind == "chord" and n[4] >= 180:  # an upper half: its flat side is the bottom
            lowest = max(lowest, (n[1] + n[3]) / 2)
        elif kind != "arc":
            lowest = max(lowest, n[3])
    return lowest


def _wrap(text: str, size: int, max_width: float, max_lines: int) -> list[str]:
    font = bundled_font(size)
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and font.getlength(candidate) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and font.getlength(last + "...") > max_width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "..."
    return lines


def _draw_caption(
    draw: ImageDraw.ImageDraw,
    name: str,
    subline: str,
    x: float,
    y: float,
    width: float,
    unit: int,
    *,
    light: bool = False,
) -> None:
    """Product name (up to two lines) and a smaller brand/SKU line, dark or light text."""
    ink, grey = ((246, 246, 244), (200, 204, 212)) if light else (_INK, (92, 98, 110))
    size = round(unit * 0.055)
    stroke = max(1, size // 24)
    for line in _wrap(_drawable(name), size, width, 2):
        # The stroke in the fill colour thickens the regular face into a bold-looking title.
        draw.text(
            (x, y), line, font=bundled_font(size), fill=ink, stroke_width=stroke, stroke_fill=ink
        )
        y += size * 1.18
    small = round(unit * 0.032)
    draw.text((x, y + small * 0.2), _drawable(subline), font=bundled_font(small), fill=grey)


def _draw_role_badge(
    draw: ImageDraw.ImageDraw, role: str, right: float, bottom: float, unit: int
) -> None:
    size = round(unit * 0.028)
    font = bundled_font(size)
    label = role.upper()
    width = font.getlength(label)
    pad = size * 0.6
    box = (right - width - 2 * pad, bottom - size - 2 * pad, right, bottom)
    draw.rounded_rectangle(box, radius=round(size * 0.6), fill=(40, 44, 54))
    draw.text((box[0] + pad, box[1] + pad * 0.85), label, font=font, fill=_WHITE)


def _scene(size: tuple[int, int], scene: Scene, seed: bytes) -> tuple[Image.Image, float]:
    """A lifestyle backdrop and the y of the surface the product stands on."""
    width, height = size
    ground = height * (0.80 + seed[1] % 6 / 100)
    if scene == "outdoor":
        image = gradient(size, (146, 192, 234), (244, 228, 200))
        draw = ImageDraw.Draw(image)
        sun_x = width * (0.12 + seed[2] % 30 / 100)
        _soft_ellipse(image, (sun_x - 240, 60, sun_x + 240, 540), (255, 244, 200), 0.8)
        draw.ellipse((sun_x - 90, 210, sun_x + 90, 390), fill=(255, 238, 170))
        peaks = [seed[3 + i] % 100 / 100 for i in range(6)]
        far = [(0.0, height * 0.62)]
        far += [(width * (i + 0.5) / 6, height * (0.40 + peaks[i] * 0.14)) for i in range(6)]
        far += [(float(width), height * 0.60), (float(width), ground), (0.0, ground)]
        draw.polygon(far, fill=(150, 176, 160))
        near = [(0.0, height * 0.70), (width * 0.35, height * 0.60), (width * 0.7, height * 0.68)]
        near += [(float(width), height * 0.63), (float(width), ground), (0.0, ground)]
        draw.polygon(near, fill=(112, 150, 104))
        draw.rectangle((0, ground, width, height), fill=(176, 160, 126))
    else:
        wall = (
            ((238, 230, 218), (222, 210, 192))
            if scene == "home"
            else ((218, 225, 236), (196, 204, 220))
        )
        image = gradient(size, *wall)
        draw = ImageDraw.Draw(image)
        left = width * (0.06 + seed[2] % 12 / 100)
        window = (left, height * 0.10, left + width * 0.30, height * 0.58)
        draw.rectangle(window, fill=(206, 224, 240), outline=(250, 250, 248), width=18)
        draw.line(
            ((window[0] + window[2]) / 2, window[1], (window[0] + window[2]) / 2, window[3]),
            fill=(250, 250, 248),
            width=12,
        )
        pot_x = width * 0.44
        draw.polygon(
            [
                (pot_x, ground - 150),
                (pot_x + 110, ground - 150),
                (pot_x + 90, ground),
                (pot_x + 20, ground),
            ],
            fill=(190, 110, 80),
        )
        for dx, top in ((-60, 330), (0, 420), (60, 340), (110, 280)):
            draw.ellipse(
                (pot_x + 55 + dx - 40, ground - top, pot_x + 55 + dx + 40, ground - 140),
                fill=(76, 136, 88),
            )
        table = (150, 112, 82) if scene == "home" else (96, 84, 76)
        draw.rectangle((0, ground, width, height), fill=table)
        draw.rectangle((0, ground, width, ground + 14), fill=_mix(table, _WHITE, 0.25))
    return image, ground


def draw_product_image(
    *,
    sku: str,
    name: str,
    role: str,
    color: str | None = None,
    category: str | None = None,
    brand: str = "",
    shot: int = 1,
    size: tuple[int, int] | None = None,
) -> bytes:
    """A demo picture of one product for one media role: JPEG, or PNG for swatches.

    Pure and deterministic: the same arguments give the same bytes (for one Pillow version).
    ``category`` is a leaf category slug and picks the drawing; ``shot`` is the reference's
    number within its role (``detail-2``), so two details of one product differ; ``size``
    overrides the role's size from ``ROLE_SIZES``.
    """
    if role not in ROLE_SIZES:
        raise ValueError(f"no picture for media role {role!r} (videos are not drawn)")
    width, height = size or ROLE_SIZES[role]
    main = color_rgb(color, sku)
    if role == "swatch":
        buffer = io.BytesIO()
        Image.new("RGB", (width, height), main).save(buffer, "PNG")
        return buffer.getvalue()

    seed = digest(sku, role, str(shot))
    shape, scene = _LOOKS.get(category or "", (SHAPES["box"], "home"))
    unit = min(width, height)
    margin = unit * 0.06
    lowest = _bottom(shape)
    # Each role has its own composition (size, placement, light), not only its own label:
    # pictures of one product should not look like near-duplicates to a perceptual hash.
    on_left = role == "lifestyle" and shot % 2 == 0
    if role == "lifestyle":
        image, ground = _scene((width, height), scene, seed)
        side = height * 0.72
        centre = width * (0.30 if on_left else 0.70)
        frame = _Frame(centre - side / 2, ground + side * (0.02 - lowest), side, side)
    elif role == "detail":
        image = gradient((width, height), (246, 242, 236), (222, 214, 202))
        # A close-up: the drawing enlarged around a point of interest, cut by the edges.
        zoom = unit * 1.4
        focus_x, focus_y = 0.30 + seed[0] % 40 / 100, 0.40 + seed[1] % 25 / 100
        frame = _Frame(width / 2 - focus_x * zoom, height * 0.6 - focus_y * zoom, zoom, zoom)
        ground = frame.y(lowest)
    else:
        dim, darker = (40, 42, 48), (80, 84, 92)
        # role: top and bottom colour, share of the picture, horizontal centre, squash
        looks: dict[str, tuple[RGB, RGB, float, float, float]] = {
            "hero": ((250, 250, 248), (224, 227, 232), 0.80, 0.50, 1.0),
            "front": (_mix(main, _WHITE, 0.62), _mix(main, _WHITE, 0.92), 0.56, 0.50, 1.0),
            "side": (_mix(main, _WHITE, 0.94), _mix(main, (190, 194, 200), 0.6), 0.66, 0.40, 0.8),
            "back": (_mix(main, dim, 0.80), _mix(main, darker, 0.70), 0.66, 0.50, 1.0),
        }
        top, bottom, side, centre, squash = looks[role]
        image = gradient((width, height), top, bottom, horizontal=role == "side")
        box = unit * side
        ground = height * (0.90 if role == "hero" else 0.84)
        frame = _Frame(
            width * centre - box * squash / 2,
            ground - lowest * box,
            box * squash,
            box,
            mirror=role in ("side", "back"),
        )
        if role == "front":
            draw = ImageDraw.Draw(image)
            draw.rectangle((0, ground, width, height), fill=_mix(main, (120, 120, 120), 0.55))
    if role != "detail":
        shadow = (frame.x0 + frame.width * 0.10, ground - frame.height * 0.035,
                  frame.x0 + frame.width * 0.90, ground + frame.height * 0.035)  # fmt: skip
        _soft_ellipse(image, shadow, (20, 20, 20), 0.4)
    draw = ImageDraw.Draw(image)
    _draw_product(draw, shape, frame, main, darker=role == "back")
    if role == "detail":
        # The close-up fills the picture: a pale band keeps the caption readable on it.
        band = (0, 0, width, round(height * 0.2))
        image.paste(
            Image.blend(image.crop(band), Image.new("RGB", (width, band[3]), _WHITE), 0.7), band
        )
    caption_width = width * (0.55 if role == "lifestyle" else 1.0) - 2 * margin
    caption_x = width * 0.45 + margin if on_left else margin
    subline = f"{brand}  |  {sku}" if brand else sku
    _draw_caption(
        draw, name, subline, caption_x, margin * 0.8, caption_width, unit, light=role == "back"
    )
    label = role if shot == 1 else f"{role} {shot}"
    _draw_role_badge(draw, label, width - margin * 0.6, height - margin * 0.6, unit)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def fake_mp4(width: int, height: int, duration_s: float, timescale: int = 1000) -> bytes:
    """A tiny ISO-BMFF file whose ``mvhd``/``tkhd`` boxes carry size and duration.

    Not playable: the emulator reads these headers (as Cloudinary would probe a real file),
    and generating real video would need an encoder this project does not ship.
    """

    def box(kind: bytes, payload: bytes) -> bytes:
        return (8 + len(payload)).to_bytes(4, "big") + kind + payload

    mvhd = (
        bytes(12)  # version, flags, creation and modification times
        + timescale.to_bytes(4, "big")
        + round(duration_s * timescale).to_bytes(4, "big")
        + bytes(80)
    )
    tkhd = bytes(76) + (width << 16).to_bytes(4, "big") + (height << 16).to_bytes(4, "big")
    moov = box(b"moov", box(b"mvhd", mvhd) + box(b"trak", box(b"tkhd", tkhd)))
    return box(b"ftyp", b"isom\x00\x00\x02\x00isommp41") + moov + box(b"mdat", bytes(64))
