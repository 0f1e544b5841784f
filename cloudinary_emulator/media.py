"""What the emulator can learn from uploaded bytes, and stand-ins for what it cannot.

Images are decoded with Pillow. Videos cannot be decoded here: width, height and duration
come from the upload's context (``emulator_width``, ``emulator_height``,
``emulator_duration``), else from the MP4/MOV header boxes when present, else from the
configured defaults; poster frames are generated images of the video's size.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageOps

from cloudinary_emulator.phash import perceptual_hash

# Pillow's format names → the extension-like names Cloudinary reports in ``format``.
_PILLOW_FORMATS = {
    "JPEG": "jpg",
    "MPO": "jpg",
    "PNG": "png",
    "GIF": "gif",
    "WEBP": "webp",
    "BMP": "bmp",
    "TIFF": "tiff",
    "AVIF": "avif",
    "ICO": "ico",
}

VIDEO_FORMATS = frozenset({"mp4", "webm", "mov", "m4v", "ogv", "mkv", "avi", "flv", "3gp", "mpeg"})

CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "avif": "image/avif",
    "ico": "image/x-icon",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "mov": "video/quicktime",
    "m4v": "video/x-m4v",
    "ogv": "video/ogg",
    "mkv": "video/x-matroska",
    "avi": "video/x-msvideo",
    "flv": "video/x-flv",
    "3gp": "video/3gpp",
    "mpeg": "video/mpeg",
    "m3u8": "application/vnd.apple.mpegurl",
}

VIDEO_CONTEXT_KEYS = ("emulator_width", "emulator_height", "emulator_duration")


class UndecodableImageError(ValueError):
    """The bytes are not an image Pillow can read."""


@dataclass(frozen=True, slots=True)
class ImageInfo:
    width: int
    height: int
    format: str
    phash: str


@dataclass(frozen=True, slots=True)
class VideoInfo:
    width: int
    height: int
    duration: float


def content_type(fmt: str | None) -> str:
    if fmt and fmt in CONTENT_TYPES:
        return CONTENT_TYPES[fmt]
    guessed, _ = mimetypes.guess_type(f"file.{fmt}") if fmt else (None, None)
    return guessed or "application/octet-stream"


def normalise_format(fmt: str) -> str:
    fmt = fmt.lower()
    return {"jpeg": "jpg", "jpe": "jpg", "tif": "tiff"}.get(fmt, fmt)


def open_image(data: bytes) -> tuple[Image.Image, str]:
    """Decode to an upright RGB/RGBA first frame, plus the source's format name."""
    try:
        with warnings.catch_warnings():
            # A decompression-bomb warning must reject the upload, not crash the request.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image.load()
    except Exception as error:
        raise UndecodableImageError(str(error)) from error
    source_format = _PILLOW_FORMATS.get(image.format or "", (image.format or "").lower())
    # Cloudinary honours EXIF orientation by default, so sizes and renders are upright. In
    # place, and no conversion to the mode it has: each would copy every pixel once more.
    ImageOps.exif_transpose(image, in_place=True)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGBA" if has_alpha else "RGB"
    return (image if image.mode == mode else image.convert(mode)), source_format


def probe_image(data: bytes) -> ImageInfo:
    image, fmt = open_image(data)
    return image_info(image, fmt)


def image_info(image: Image.Image, fmt: str) -> ImageInfo:
    """What an upload reports of a decoded image: its size, format and perceptual hash."""
    return ImageInfo(image.width, image.height, fmt, perceptual_hash(image))


def probe_video(
    data: bytes,
    context: dict[str, str],
    default_size: tuple[int, int],
    default_duration: float,
) -> VideoInfo:
    header_width, header_height, header_duration = read_mp4_header(data)
    width = _positive_int(context.get("emulator_width")) or header_width or default_size[0]
    height = _positive_int(context.get("emulator_height")) or header_height or default_size[1]
    duration = (
        _positive_float(context.get("emulator_duration")) or header_duration or default_duration
    )
    return VideoInfo(width, height, round(duration, 3))


def _positive_int(text: str | None) -> int | None:
    try:
        value = int(text) if text else None
    except ValueError:
        return None
    return value if value and value > 0 else None


def _positive_float(text: str | None) -> float | None:
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value and value > 0 else None


def read_mp4_header(data: bytes) -> tuple[int | None, int | None, float | None]:
    """Width, height and duration from an ISO-BMFF ``moov`` box, where there is one."""
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    for kind, start, end in _boxes(data, 0, len(data)):
        if kind != b"moov":
            continue
        for inner, inner_start, inner_end in _boxes(data, start, end):
            if inner == b"mvhd":
                duration = _mvhd_duration(data, inner_start)
            elif inner == b"trak" and width is None:
                for box, box_start, box_end in _boxes(data, inner_start, inner_end):
                    if box == b"tkhd" and box_end - box_start >= 84:
                        track_width = int.from_bytes(data[box_end - 8 : box_end - 4]) >> 16
                        track_height = int.from_bytes(data[box_end - 4 : box_end]) >> 16
                        # Audio tracks have a zero size; the first sized track is the video.
                        if track_width and track_height:
                            width, height = track_width, track_height
    return width, height, duration


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    position = start
    while position + 8 <= end:
        size = int.from_bytes(data[position : position + 4])
        kind = data[position + 4 : position + 8]
        header = 8
        if size == 1:
            size = int.from_bytes(data[position + 8 : position + 16])
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            return
        yield kind, position + header, position + size
        position += size


def _mvhd_duration(data: bytes, start: int) -> float | None:
    version = data[start] if start < len(data) else 0
    if version == 1:
        timescale = int.from_bytes(data[start + 20 : start + 24])
        units = int.from_bytes(data[start + 24 : start + 32])
    else:
        timescale = int.from_bytes(data[start + 12 : start + 16])
        units = int.from_bytes(data[start + 16 : start + 20])
    return units / timescale if timescale else None


def poster_frame(width: int, height: int, seed: str) -> Image.Image:
    """A deterministic stand-in frame: a two-colour gradient chosen by ``seed``."""
    digest = hashlib.sha1(seed.encode("utf-8"), usedforsecurity=False).digest()
    dark = (digest[0] // 2, digest[1] // 2, digest[2] // 2)
    light = (128 + digest[3] // 2, 128 + digest[4] // 2, 128 + digest[5] // 2)
    ramp = Image.linear_gradient("L").resize((width, height))
    return ImageOps.colorize(ramp, dark, light)
