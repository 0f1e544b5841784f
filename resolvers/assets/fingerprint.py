"""The gateway's own picture fingerprint: it tells look-alike pictures apart where Cloudinary's
perceptual hash cannot.

Cloudinary's ``phash`` is one bit per coefficient of the 8x8 lowest frequencies of a 32x32
greyscale copy, above or below their median. Colour is gone, and so is every detail smaller than
about a sixteenth of the picture: shots of one studio set-up (one shape, one framing, another
colour, another label) share it. On the demo catalog, 120 of its 132 groups of equal phash are
different products' different pictures.

A fingerprint keeps what the phash drops, at a resolution that survives re-encoding and
resizing:

* ``luma``: a 64x64 greyscale copy, 4 bits a cell (2,048 bytes): labels, captions, small parts;
* ``colour``: an 8x8 colour copy, 8 bits a channel (192 bytes): the colours of the regions;
* ``aspect``: width / height.

Two fingerprints are of the same picture (a copy, re-encoded or resized) when their aspect ratios
agree within 2 %, no colour cell differs by more than 12 of 255 in a channel, and at most 2 of the
4,096 greyscale cells differ by more than two 4-bit steps. Cloudinary does not compute it: the
gateway does, from the bytes, wherever it has them (``catalog-gateway media ingest``, the demo's
upload), and stores it on the mirror record with the Cloudinary version it describes
(:func:`fingerprint_document`); a record of another version (re-uploaded elsewhere) has none
(:func:`fingerprint_of`). docs/audit.md has the measurements behind the thresholds.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps

from resolvers.db import Document

KIND = "luma64x4-rgb8x8"
LUMA_SIDE = 64
COLOUR_SIDE = 8
LUMA_BYTES = LUMA_SIDE * LUMA_SIDE // 2
COLOUR_BYTES = COLOUR_SIDE * COLOUR_SIDE * 3
# Thresholds of "the same picture"; docs/audit.md has the measurements behind them.
MAX_ASPECT_RATIO = 1.02  # the wider of two aspect ratios over the narrower
MAX_COLOUR_DIFFERENCE = 12  # of 255, per cell and channel
MAX_LUMA_STEP = 2  # of 15 (steps of 16/255): re-encoding moves an edge cell's mean that far
MAX_LUMA_CELLS = 2  # of 4,096 greyscale cells may differ by more than MAX_LUMA_STEP

_HIGH = bytes(value >> 4 for value in range(256))
_LOW = bytes(value & 0x0F for value in range(256))


@dataclass(frozen=True, slots=True)
class Fingerprint:
    luma: bytes  # LUMA_SIDE² cells row by row, two 4-bit cells a byte (the first in the high bits)
    colour: bytes  # COLOUR_SIDE² cells row by row, each (R, G, B)
    aspect: float  # width / height


def fingerprint_image(
    image: Image.Image, box: tuple[float, float, float, float] | None = None
) -> Fingerprint:
    """The fingerprint of an upright picture (EXIF orientation already applied), or of the
    region ``box`` of it (in pixels, fractions allowed)."""
    box = box or (0.0, 0.0, float(image.width), float(image.height))
    rgb = image.convert("RGB")
    # BOX: every cell the mean of the pixels it covers, the least sensitive to the source size.
    grey = rgb.convert("L").resize((LUMA_SIDE, LUMA_SIDE), Image.Resampling.BOX, box).tobytes()
    luma = bytes((grey[i] >> 4) << 4 | grey[i + 1] >> 4 for i in range(0, len(grey), 2))
    colour = rgb.resize((COLOUR_SIDE, COLOUR_SIDE), Image.Resampling.BOX, box).tobytes()
    return Fingerprint(luma, colour, (box[2] - box[0]) / (box[3] - box[1]))


def fingerprint_bytes(data: bytes) -> Fingerprint | None:
    """The fingerprint of an image file, upright as Cloudinary shows it; None for bytes that are
    not a picture Pillow can read (a video, a PDF, a decompression bomb)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                # A JPEG decodes at 1/2 to 1/8 scale, never below 512 pixels (below, libjpeg's
                # scaled decoding shifts edges enough to change cells of a copy): the 64x64 cells
                # average the same pixels at a fraction of the cost. The scaled picture may end
                # in a partial pixel (1050 / 2 = 525.5): the cells cover what the source covers.
                drafted = image.draft("RGB", (8 * LUMA_SIDE, 8 * LUMA_SIDE))
                upright = ImageOps.exif_transpose(image)
                if drafted is None or upright is not image:
                    return fingerprint_image(upright)
                return fingerprint_image(image, drafted[1])
    except Exception:
        return None


def differing_luma_cells(first: Fingerprint, second: Fingerprint, stop: int = LUMA_SIDE**2) -> int:
    """How many greyscale cells differ by more than MAX_LUMA_STEP (counted up to ``stop + 1``)."""
    count = 0
    for table in (_HIGH, _LOW):
        for a, b in zip(first.luma.translate(table), second.luma.translate(table), strict=True):
            if a - b > MAX_LUMA_STEP or b - a > MAX_LUMA_STEP:
                count += 1
                if count > stop:
                    return count
    return count


def colour_difference(first: Fingerprint, second: Fingerprint) -> int:
    """The largest difference of one colour cell in one channel (0-255)."""
    return max(abs(a - b) for a, b in zip(first.colour, second.colour, strict=True))


def same_picture(first: Fingerprint, second: Fingerprint) -> bool:
    """Whether two fingerprints are of one picture, give or take re-encoding and resizing."""
    wider, narrower = max(first.aspect, second.aspect), min(first.aspect, second.aspect)
    return (
        wider <= MAX_ASPECT_RATIO * narrower
        and colour_difference(first, second) <= MAX_COLOUR_DIFFERENCE
        and differing_luma_cells(first, second, stop=MAX_LUMA_CELLS) <= MAX_LUMA_CELLS
    )


def fingerprint_document(fingerprint: Fingerprint, version: Any) -> Document:
    """The mirror record's ``fingerprint``: of the asset's Cloudinary ``version``."""
    return {
        "kind": KIND,
        "version": version,
        "luma": fingerprint.luma,
        "colour": fingerprint.colour,
        "aspect": fingerprint.aspect,
    }


def with_fingerprint(asset: Document, data: bytes) -> Document:
    """The mirror record ``asset`` with the fingerprint of ``data``, the bytes uploaded as its
    current version (unchanged when they are not a picture)."""
    fingerprint = fingerprint_bytes(data)
    if fingerprint is None:
        return asset
    return {**asset, "fingerprint": fingerprint_document(fingerprint, asset.get("version"))}


def fingerprint_of(asset: Document) -> Fingerprint | None:
    """The fingerprint of a mirror record, or None: never computed (uploaded to Cloudinary some
    other way), computed for another version (re-uploaded since), or of another kind."""
    stored = asset.get("fingerprint")
    if not isinstance(stored, dict) or stored.get("kind") != KIND:
        return None
    if stored.get("version") != asset.get("version"):
        return None
    luma, colour, aspect = stored.get("luma"), stored.get("colour"), stored.get("aspect")
    if not (isinstance(luma, bytes) and len(luma) == LUMA_BYTES):
        return None
    if not (isinstance(colour, bytes) and len(colour) == COLOUR_BYTES):
        return None
    if not (isinstance(aspect, int | float) and aspect > 0):
        return None
    return Fingerprint(luma, colour, float(aspect))
