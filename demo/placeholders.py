"""What channel profiles deliver when a slot has no usable asset (``placeholders/*``).

Each slot's placeholder is an asset of the slot's resource type: a picture for image slots, a
video for video slots (whose poster is a frame of it, as for any video without a poster of its
own); the preview watermark is a picture too. docs/media.md lists what a Cloudinary account
must hold.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from demo.pictures import RGB, bundled_font, fake_mp4, gradient

PLACEHOLDER_SIZES: dict[str, tuple[int, int]] = {
    "placeholders/product": (1200, 1200),
    "placeholders/banner": (2400, 1600),
    "placeholders/swatch": (96, 96),
    "placeholders/video": (1280, 720),
    "placeholders/watermark": (1200, 360),
}
# The placeholders that are videos; every other one is a picture.
PLACEHOLDER_VIDEOS = frozenset({"placeholders/video"})
PLACEHOLDER_VIDEO_SECONDS = 8.0


def placeholder_resource_type(public_id: str) -> str:
    """``video`` or ``image``: the Cloudinary resource type the placeholder is uploaded as."""
    return "video" if public_id in PLACEHOLDER_VIDEOS else "image"


def placeholder_file(public_id: str) -> tuple[str, bytes]:
    """The file name and bytes to upload for a placeholder."""
    stem = public_id.rsplit("/", 1)[-1]
    if public_id in PLACEHOLDER_VIDEOS:
        return f"{stem}.mp4", fake_mp4(*PLACEHOLDER_SIZES[public_id], PLACEHOLDER_VIDEO_SECONDS)
    return f"{stem}.png", draw_placeholder(public_id)


def _camera(
    draw: ImageDraw.ImageDraw, cx: float, cy: float, s: float, color: RGB, back: RGB
) -> None:
    draw.rounded_rectangle(
        (cx - 0.18 * s, cy - 0.40 * s, cx + 0.10 * s, cy - 0.26 * s),
        radius=round(0.04 * s),
        fill=color,
    )
    draw.rounded_rectangle(
        (cx - 0.50 * s, cy - 0.30 * s, cx + 0.50 * s, cy + 0.40 * s),
        radius=round(0.10 * s),
        fill=color,
    )
    draw.ellipse((cx - 0.25 * s, cy - 0.20 * s, cx + 0.25 * s, cy + 0.30 * s), fill=back)
    draw.ellipse((cx - 0.16 * s, cy - 0.11 * s, cx + 0.16 * s, cy + 0.21 * s), fill=color)


def draw_placeholder(public_id: str) -> bytes:
    """The picture delivered when a slot has no usable asset (PNG; the watermark is RGBA)."""
    if public_id in PLACEHOLDER_VIDEOS:
        raise ValueError(f"{public_id} is a video placeholder, not drawn (see placeholder_file)")
    width, height = PLACEHOLDER_SIZES[public_id]
    unit = min(width, height)
    buffer = io.BytesIO()
    if public_id == "placeholders/watermark":
        image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        font = bundled_font(round(height * 0.55))
        draw.text(
            (width / 2, height / 2),
            "PREVIEW",
            font=font,
            anchor="mm",
            fill=(255, 255, 255, 190),
            stroke_width=round(height * 0.02),
            stroke_fill=(20, 20, 20, 150),
        )
        image.save(buffer, "PNG")
        return buffer.getvalue()
    if public_id == "placeholders/swatch":
        image = Image.new("RGB", (width, height), (226, 228, 232))
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 0, width - 1, height - 1), outline=(180, 184, 190), width=2)
        draw.line(
            (width * 0.2, height * 0.8, width * 0.8, height * 0.2), fill=(160, 164, 172), width=4
        )
        image.save(buffer, "PNG")
        return buffer.getvalue()
    # product and banner: the same grey card with a camera.
    image = gradient((width, height), (236, 237, 240), (214, 217, 222))
    draw = ImageDraw.Draw(image)
    _camera(draw, width / 2, height * 0.44, unit * 0.34, (150, 155, 164), (228, 230, 234))
    draw.text(
        (width / 2, height * 0.44 + unit * 0.26),
        "No image",
        font=bundled_font(round(unit * 0.07)),
        anchor="mm",
        fill=(120, 125, 134),
    )
    image.save(buffer, "PNG")
    return buffer.getvalue()
