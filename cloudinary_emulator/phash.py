"""64-bit DCT perceptual hash, formatted as Cloudinary reports it (16 hex digits).

Same construction as the widely used ``imagehash.phash``: 32x32 greyscale, 2-D DCT-II, keep
the 8x8 lowest frequencies, one bit per coefficient above their median. Only the 8 lowest
frequencies of each axis are ever needed, so a direct sum beats a full transform without
numpy.
"""

from __future__ import annotations

import math
import statistics

from PIL import Image

_SIZE = 32
_BITS = 8

_COSINES: tuple[tuple[float, ...], ...] = tuple(
    tuple(math.cos(math.pi * (2 * n + 1) * k / (2 * _SIZE)) for n in range(_SIZE))
    for k in range(_BITS)
)


def perceptual_hash(image: Image.Image) -> str:
    grey = image.convert("L").resize((_SIZE, _SIZE), Image.Resampling.LANCZOS)
    pixels = list(grey.tobytes())
    rows = [pixels[y * _SIZE : (y + 1) * _SIZE] for y in range(_SIZE)]
    # DCT along each row, keeping the low frequencies u < 8.
    row_dct = [
        [
            sum(value * cosine for value, cosine in zip(row, _COSINES[u], strict=True))
            for u in range(_BITS)
        ]
        for row in rows
    ]
    # Then down each of those 8 columns, keeping v < 8.
    low = [
        [sum(row_dct[y][u] * _COSINES[v][y] for y in range(_SIZE)) for u in range(_BITS)]
        for v in range(_BITS)
    ]
    flat = [coefficient for line in low for coefficient in line]
    median = statistics.median(flat)
    bits = 0
    for coefficient in flat:
        bits = (bits << 1) | (coefficient > median)
    return f"{bits:016x}"


def hamming_distance(first: str, second: str) -> int:
    return (int(first, 16) ^ int(second, 16)).bit_count()
