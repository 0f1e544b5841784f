"""Pictures for the demo catalog, drawn with Pillow and uploaded to the DAM.

Every media reference of the seeded products gets a picture a person can tell apart from the
others: a simple drawing of the product in its colour, its name, SKU and role, at a size that
satisfies the largest channel slot. Uploads go through the official SDK (``DamClient``) and the
mirror is written directly, so the gateway's request path never asks the Admin API about them.

Pillow comes with the ``emulator`` extra, like the emulator this is meant to fill.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import anyio
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from demo.catalog import MISSING_ASSET_PREFIX
from resolvers.assets import asset_from_resource, upsert_assets
from resolvers.dam import DamClient, DamUnavailableError
from resolvers.db import Catalog, Document

log = logging.getLogger(__name__)

RGB = tuple[int, int, int]

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
ALT_LOCALES: tuple[str, ...] = ("en-US", "de-DE", "fr-FR", "it-IT")
EN_DASH = "\u2013"
MIRROR_BATCH = 200
_ID_BATCH = 1_000
# Readiness checks need products without alt text to find; this share of products (at least
# two) is left without, chosen by SKU hash so the choice survives re-seeding in another order.
NO_ALT_EVERY = 60
NO_ALT_MIN = 2

_PRODUCT_PROJECTION = {
    "_id": 0,
    "sku": 1,
    "brand": 1,
    "categories": 1,
    "variants": 1,
    "media": 1,
    "attributes.color": 1,
    **{f"name.{locale}": 1 for locale in ALT_LOCALES},
}

# ---------------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------------

_VIEWS: dict[str, tuple[str, str, str, str]] = {  # (en-US, de-DE, fr-FR, it-IT)
    "hero": ("main view", "Hauptansicht", "vue principale", "vista principale"),
    "front": ("front view", "Vorderansicht", "vue de face", "vista frontale"),
    "side": ("side view", "Seitenansicht", "vue de profil", "vista laterale"),
    "back": ("back view", "Rückansicht", "vue de dos", "vista posteriore"),
    "detail": ("detail view", "Detailansicht", "vue de détail", "dettaglio"),
    "lifestyle": ("in use", "im Einsatz", "en situation", "in uso"),
    "swatch": ("colour swatch", "Farbmuster", "échantillon de couleur", "campione di colore"),
    "video": ("product video", "Produktvideo", "vidéo du produit", "video del prodotto"),
}
_COLOR_WORDS: dict[str, tuple[str, str, str, str]] = {
    "black": ("black", "Schwarz", "noir", "nero"),
    "white": ("white", "Weiß", "blanc", "bianco"),
    "grey": ("grey", "Grau", "gris", "grigio"),
    "navy": ("navy", "Marineblau", "bleu marine", "blu navy"),
    "blue": ("blue", "Blau", "bleu", "blu"),
    "red": ("red", "Rot", "rouge", "rosso"),
    "green": ("green", "Grün", "vert", "verde"),
    "olive": ("olive", "Oliv", "olive", "oliva"),
    "yellow": ("yellow", "Gelb", "jaune", "giallo"),
    "orange": ("orange", "Orange", "orange", "arancione"),
    "pink": ("pink", "Rosa", "rose", "rosa"),
    "beige": ("beige", "Beige", "beige", "beige"),
}
_COLORS: dict[str, RGB] = {
    "black": (38, 38, 44),
    "white": (238, 238, 234),
    "grey": (138, 143, 150),
    "navy": (31, 48, 94),
    "blue": (46, 112, 201),
    "red": (196, 43, 48),
    "green": (44, 148, 78),
    "olive": (112, 120, 52),
    "yellow": (238, 196, 42),
    "orange": (236, 128, 36),
    "pink": (236, 150, 182),
    "beige": (214, 194, 158),
}
# For products that name no colour: still distinct from each other, never garish.
_FALLBACK_COLORS: tuple[RGB, ...] = (
    (70, 96, 130),
    (150, 72, 60),
    (60, 120, 110),
    (120, 90, 140),
    (170, 130, 60),
    (90, 100, 110),
)


def _alt_texts(name: dict[str, str], role: str, color: str | None) -> dict[str, str]:
    english = name.get("en-US") or next(iter(name.values()), "")
    texts: dict[str, str] = {}
    for index, locale in enumerate(ALT_LOCALES):
        view = _VIEWS[role][index]
        if role == "swatch" and color:
            view = f"{view}: {_COLOR_WORDS.get(color, (color, color, color, color))[index]}"
        # A product lacking a translation is a planted defect; its alt text falls back to
        # English like the rest of the gateway does.
        texts[f"alt_{locale}"] = f"{name.get(locale) or english} {EN_DASH} {view}"
    return texts


# ---------------------------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------------------------

# (kind, tone, numbers) in unit coordinates of the product's box, y pointing down. Kinds:
# poly (x, y, …), ellipse (x0, y0, x1, y1), rrect (x0, y0, x1, y1, radius), chord and arc
# (x0, y0, x1, y1, start°, end°[, line width]). Tones: main, dark, light, accent or "#rrggbb".
Prim = tuple[str, str, tuple[float, ...]]

_SHOE: tuple[Prim, ...] = (
    ("poly", "main", (0.06, 0.74, 0.08, 0.52, 0.22, 0.46, 0.40, 0.30, 0.58, 0.26, 0.66, 0.30,
                      0.70, 0.46, 0.86, 0.56, 0.95, 0.64, 0.95, 0.74)),
    ("rrect", "dark", (0.06, 0.50, 0.15, 0.72, 0.03)),
    ("poly", "light", (0.42, 0.36, 0.58, 0.30, 0.63, 0.44, 0.48, 0.50)),
    ("poly", "accent", (0.28, 0.66, 0.56, 0.46, 0.62, 0.50, 0.36, 0.68)),
    ("rrect", "dark", (0.04, 0.72, 0.97, 0.82, 0.04)),
)  # fmt: skip
_BOOT: tuple[Prim, ...] = (
    ("poly", "main", (0.10, 0.74, 0.12, 0.16, 0.42, 0.12, 0.46, 0.46, 0.80, 0.56, 0.94, 0.64,
                      0.94, 0.74)),
    ("rrect", "light", (0.12, 0.14, 0.42, 0.22, 0.02)),
    *(("ellipse", "dark", (0.40, y, 0.45, y + 0.04)) for y in (0.24, 0.32, 0.40)),
    ("rrect", "dark", (0.06, 0.72, 0.97, 0.84, 0.04)),
)  # fmt: skip
_SHIRT_BODY: Prim = (
    "poly", "main", (0.32, 0.14, 0.42, 0.12, 0.50, 0.18, 0.58, 0.12, 0.68, 0.14, 0.92, 0.34,
                     0.82, 0.46, 0.74, 0.40, 0.74, 0.90, 0.26, 0.90, 0.26, 0.40, 0.18, 0.46,
                     0.08, 0.34),
)  # fmt: skip
_TSHIRT: tuple[Prim, ...] = (
    _SHIRT_BODY,
    ("chord", "dark", (0.42, 0.06, 0.58, 0.24, 0, 180)),
    ("rrect", "accent", (0.44, 0.40, 0.56, 0.46, 0.01)),
)
_HOODIE: tuple[Prim, ...] = (
    ("ellipse", "dark", (0.34, 0.02, 0.66, 0.28)),
    _SHIRT_BODY,
    ("rrect", "dark", (0.34, 0.60, 0.66, 0.74, 0.03)),
    *(("rrect", "light", (x, 0.18, x + 0.01, 0.36, 0)) for x in (0.46, 0.53)),
)
_JACKET: tuple[Prim, ...] = (
    _SHIRT_BODY,
    ("chord", "dark", (0.40, 0.04, 0.60, 0.26, 180, 360)),
    ("rrect", "dark", (0.495, 0.18, 0.505, 0.90, 0)),
    *(("rrect", "dark", (0.26, y, 0.74, y + 0.008, 0)) for y in (0.36, 0.50, 0.64, 0.78)),
    ("rrect", "light", (0.30, 0.62, 0.42, 0.64, 0)),
    ("rrect", "light", (0.58, 0.62, 0.70, 0.64, 0)),
)
_SOCK: tuple[Prim, ...] = (
    ("poly", "main", (0.36, 0.10, 0.62, 0.10, 0.62, 0.62, 0.84, 0.74, 0.86, 0.86, 0.76, 0.92,
                      0.42, 0.84, 0.36, 0.72)),
    ("rrect", "light", (0.36, 0.10, 0.62, 0.20, 0.01)),
    ("ellipse", "dark", (0.74, 0.78, 0.88, 0.92)),
    ("ellipse", "dark", (0.34, 0.70, 0.48, 0.86)),
)  # fmt: skip
_CAP: tuple[Prim, ...] = (
    ("chord", "main", (0.14, 0.24, 0.86, 0.92, 180, 360)),
    ("poly", "dark", (0.50, 0.56, 0.96, 0.56, 0.98, 0.64, 0.50, 0.64)),
    ("ellipse", "dark", (0.46, 0.22, 0.54, 0.28)),
    ("arc", "light", (0.30, 0.24, 0.70, 1.10, 200, 340, 0.01)),
)
_HELMET: tuple[Prim, ...] = (
    ("chord", "main", (0.10, 0.20, 0.90, 1.00, 180, 360)),
    *(("rrect", "dark", (x, 0.32, x + 0.08, 0.50, 0.03)) for x in (0.30, 0.46, 0.62)),
    ("poly", "dark", (0.72, 0.56, 0.96, 0.52, 0.94, 0.60, 0.72, 0.60)),
    ("rrect", "accent", (0.14, 0.56, 0.72, 0.60, 0.01)),
)
_GLOVE: tuple[Prim, ...] = (
    *(("rrect", "main", (x, 0.12, x + 0.085, 0.46, 0.04)) for x in (0.29, 0.385, 0.48, 0.575)),
    ("poly", "main", (0.30, 0.58, 0.14, 0.44, 0.20, 0.38, 0.34, 0.48)),
    ("rrect", "main", (0.28, 0.34, 0.68, 0.84, 0.08)),
    ("rrect", "dark", (0.27, 0.78, 0.69, 0.92, 0.02)),
)
_POT: tuple[Prim, ...] = (
    ("rrect", "dark", (0.04, 0.46, 0.20, 0.52, 0.02)),
    ("rrect", "dark", (0.80, 0.46, 0.96, 0.52, 0.02)),
    ("rrect", "main", (0.18, 0.40, 0.82, 0.84, 0.06)),
    ("chord", "light", (0.16, 0.26, 0.84, 0.50, 180, 360)),
    ("ellipse", "dark", (0.44, 0.22, 0.56, 0.30)),
    ("rrect", "dark", (0.14, 0.37, 0.86, 0.42, 0.02)),
)
_STOVE: tuple[Prim, ...] = (
    ("poly", "dark", (0.30, 0.78, 0.22, 0.92, 0.26, 0.92, 0.36, 0.78)),
    ("poly", "dark", (0.70, 0.78, 0.78, 0.92, 0.74, 0.92, 0.64, 0.78)),
    ("rrect", "main", (0.24, 0.50, 0.76, 0.80, 0.04)),
    ("poly", "#f59e0b", (0.40, 0.46, 0.46, 0.30, 0.50, 0.38, 0.54, 0.24, 0.60, 0.46)),
    ("ellipse", "dark", (0.30, 0.42, 0.70, 0.54)),
    ("rrect", "light", (0.62, 0.60, 0.70, 0.70, 0.02)),
)
_KNIFE: tuple[Prim, ...] = (
    ("poly", "#d8dde3", (0.40, 0.42, 0.90, 0.42, 0.97, 0.50, 0.86, 0.58, 0.40, 0.58)),
    ("rrect", "main", (0.06, 0.45, 0.42, 0.57, 0.04)),
    *(("ellipse", "light", (x, 0.49, x + 0.03, 0.53)) for x in (0.14, 0.24, 0.34)),
)
_CUTLERY: tuple[Prim, ...] = (
    ("ellipse", "#d8dde3", (0.22, 0.10, 0.38, 0.34)),
    ("rrect", "main", (0.27, 0.30, 0.33, 0.90, 0.02)),
    *(("rrect", "#d8dde3", (x, 0.10, x + 0.02, 0.30, 0)) for x in (0.44, 0.48, 0.52, 0.56)),
    ("rrect", "#d8dde3", (0.44, 0.26, 0.58, 0.34, 0.02)),
    ("rrect", "main", (0.48, 0.32, 0.54, 0.90, 0.02)),
    ("poly", "#d8dde3", (0.68, 0.10, 0.76, 0.12, 0.76, 0.46, 0.68, 0.46)),
    ("rrect", "main", (0.68, 0.44, 0.76, 0.90, 0.02)),
)
_KETTLE: tuple[Prim, ...] = (
    ("arc", "dark", (0.30, 0.14, 0.70, 0.56, 180, 360, 0.04)),
    ("poly", "main", (0.26, 0.52, 0.06, 0.38, 0.08, 0.34, 0.28, 0.44)),
    ("rrect", "main", (0.24, 0.34, 0.76, 0.88, 0.14)),
    ("rrect", "light", (0.60, 0.50, 0.66, 0.76, 0.02)),
    ("rrect", "dark", (0.22, 0.84, 0.78, 0.90, 0.02)),
)
_GLASS: tuple[Prim, ...] = (
    ("poly", "#e8eef3", (0.30, 0.14, 0.70, 0.14, 0.64, 0.88, 0.36, 0.88)),
    ("poly", "main", (0.325, 0.44, 0.675, 0.44, 0.64, 0.88, 0.36, 0.88)),
    ("rrect", "#ffffff", (0.36, 0.18, 0.39, 0.80, 0.01)),
)
_PLATE: tuple[Prim, ...] = (
    ("ellipse", "light", (0.08, 0.30, 0.92, 0.82)),
    ("ellipse", "main", (0.20, 0.38, 0.80, 0.74)),
    ("ellipse", "light", (0.30, 0.44, 0.70, 0.68)),
)
_TOWEL: tuple[Prim, ...] = (
    ("rrect", "dark", (0.14, 0.62, 0.86, 0.80, 0.04)),
    ("rrect", "main", (0.12, 0.46, 0.84, 0.64, 0.04)),
    ("rrect", "main", (0.16, 0.30, 0.88, 0.48, 0.04)),
    *(("rrect", "light", (0.16, y, 0.88, y + 0.02, 0)) for y in (0.34, 0.42)),
)
_HEADPHONES: tuple[Prim, ...] = (
    ("arc", "dark", (0.18, 0.12, 0.82, 0.80, 180, 360, 0.05)),
    ("rrect", "main", (0.12, 0.44, 0.30, 0.74, 0.06)),
    ("rrect", "main", (0.70, 0.44, 0.88, 0.74, 0.06)),
    ("rrect", "dark", (0.27, 0.48, 0.33, 0.70, 0.02)),
    ("rrect", "dark", (0.67, 0.48, 0.73, 0.70, 0.02)),
)
_EARBUDS: tuple[Prim, ...] = (
    ("rrect", "light", (0.18, 0.58, 0.82, 0.90, 0.10)),
    ("rrect", "dark", (0.18, 0.70, 0.82, 0.71, 0)),
    ("ellipse", "main", (0.26, 0.16, 0.44, 0.34)),
    ("rrect", "main", (0.36, 0.28, 0.42, 0.52, 0.03)),
    ("ellipse", "main", (0.56, 0.16, 0.74, 0.34)),
    ("rrect", "main", (0.58, 0.28, 0.64, 0.52, 0.03)),
)
_SPEAKER: tuple[Prim, ...] = (
    ("rrect", "main", (0.26, 0.10, 0.74, 0.90, 0.08)),
    ("ellipse", "dark", (0.33, 0.46, 0.67, 0.80)),
    ("ellipse", "light", (0.44, 0.57, 0.56, 0.69)),
    ("ellipse", "dark", (0.42, 0.20, 0.58, 0.36)),
)
_KEYBOARD: tuple[Prim, ...] = (
    ("rrect", "main", (0.04, 0.36, 0.96, 0.72, 0.03)),
    *(
        ("rrect", "light", (0.07 + col * 0.074, 0.40 + row * 0.075,
                            0.13 + col * 0.074, 0.46 + row * 0.075, 0.01))
        for row in range(3)
        for col in range(12)
    ),
    ("rrect", "light", (0.25, 0.625, 0.75, 0.685, 0.01)),
)  # fmt: skip
_MOUSE: tuple[Prim, ...] = (
    ("ellipse", "main", (0.32, 0.18, 0.68, 0.88)),
    ("rrect", "dark", (0.495, 0.18, 0.505, 0.46, 0)),
    ("rrect", "dark", (0.475, 0.26, 0.525, 0.36, 0.02)),
)
_MONITOR: tuple[Prim, ...] = (
    ("poly", "dark", (0.46, 0.64, 0.54, 0.64, 0.57, 0.82, 0.43, 0.82)),
    ("rrect", "dark", (0.30, 0.80, 0.70, 0.85, 0.02)),
    ("rrect", "dark", (0.06, 0.12, 0.94, 0.66, 0.02)),
    ("rrect", "main", (0.09, 0.15, 0.91, 0.63, 0.01)),
    ("poly", "light", (0.09, 0.63, 0.50, 0.15, 0.70, 0.15, 0.29, 0.63)),
)
_POWER_BANK: tuple[Prim, ...] = (
    ("rrect", "main", (0.20, 0.26, 0.80, 0.78, 0.08)),
    *(("ellipse", "accent", (x, 0.66, x + 0.035, 0.695)) for x in (0.30, 0.36, 0.42, 0.48)),
    ("rrect", "dark", (0.62, 0.26, 0.74, 0.30, 0.01)),
    ("arc", "dark", (0.66, 0.06, 0.96, 0.30, 90, 180, 0.02)),
)
_PHONE_CASE: tuple[Prim, ...] = (
    ("rrect", "main", (0.30, 0.08, 0.70, 0.92, 0.08)),
    ("rrect", "dark", (0.35, 0.13, 0.52, 0.30, 0.04)),
    ("ellipse", "light", (0.37, 0.15, 0.43, 0.21)),
    ("ellipse", "light", (0.37, 0.22, 0.43, 0.28)),
    ("ellipse", "light", (0.44, 0.18, 0.50, 0.24)),
)
_TENT: tuple[Prim, ...] = (
    ("poly", "main", (0.50, 0.14, 0.94, 0.84, 0.06, 0.84)),
    ("poly", "dark", (0.50, 0.40, 0.66, 0.84, 0.34, 0.84)),
    ("poly", "light", (0.50, 0.14, 0.54, 0.14, 0.96, 0.84, 0.94, 0.84)),
    ("rrect", "dark", (0.02, 0.84, 0.98, 0.87, 0.01)),
)
_SLEEPING_BAG: tuple[Prim, ...] = (
    ("rrect", "main", (0.30, 0.06, 0.70, 0.94, 0.18)),
    ("ellipse", "dark", (0.37, 0.11, 0.63, 0.30)),
    ("rrect", "light", (0.60, 0.30, 0.615, 0.88, 0)),
    *(("rrect", "dark", (0.30, y, 0.70, y + 0.006, 0)) for y in (0.42, 0.56, 0.70)),
)
_BIKE_LIGHT: tuple[Prim, ...] = (
    ("poly", "#fff7cc", (0.72, 0.42, 0.98, 0.28, 0.98, 0.72, 0.72, 0.58)),
    ("rrect", "main", (0.24, 0.36, 0.74, 0.64, 0.10)),
    ("ellipse", "#fff1a8", (0.58, 0.40, 0.72, 0.60)),
    ("rrect", "dark", (0.34, 0.64, 0.42, 0.74, 0.01)),
)
_YOGA_MAT: tuple[Prim, ...] = (
    ("poly", "main", (0.08, 0.66, 0.70, 0.66, 0.94, 0.86, 0.30, 0.86)),
    ("rrect", "main", (0.08, 0.40, 0.72, 0.66, 0)),
    ("ellipse", "main", (0.62, 0.40, 0.82, 0.66)),
    ("ellipse", "dark", (0.66, 0.46, 0.78, 0.60)),
    ("ellipse", "light", (0.70, 0.50, 0.74, 0.56)),
)
_DUMBBELL: tuple[Prim, ...] = (
    ("rrect", "#9ca3af", (0.12, 0.48, 0.88, 0.54, 0.01)),
    ("rrect", "main", (0.16, 0.32, 0.30, 0.70, 0.03)),
    ("rrect", "main", (0.70, 0.32, 0.84, 0.70, 0.03)),
    ("rrect", "dark", (0.30, 0.38, 0.36, 0.64, 0.02)),
    ("rrect", "dark", (0.64, 0.38, 0.70, 0.64, 0.02)),
)
_BOX: tuple[Prim, ...] = (
    ("poly", "dark", (0.20, 0.34, 0.50, 0.22, 0.80, 0.34, 0.50, 0.46)),
    ("poly", "main", (0.20, 0.34, 0.50, 0.46, 0.50, 0.86, 0.20, 0.74)),
    ("poly", "light", (0.50, 0.46, 0.80, 0.34, 0.80, 0.74, 0.50, 0.86)),
)

Scene = Literal["outdoor", "home", "desk"]

# Leaf category slug → the drawing and the lifestyle scene.
_LEAF_LOOKS: dict[str, tuple[tuple[Prim, ...], Scene]] = {
    "running-shoes": (_SHOE, "outdoor"),
    "sneakers": (_SHOE, "outdoor"),
    "hiking-boots": (_BOOT, "outdoor"),
    "t-shirts": (_TSHIRT, "outdoor"),
    "shirts": (_TSHIRT, "home"),
    "hoodies": (_HOODIE, "outdoor"),
    "rain-jackets": (_JACKET, "outdoor"),
    "down-jackets": (_JACKET, "outdoor"),
    "socks": (_SOCK, "home"),
    "caps": (_CAP, "outdoor"),
    "gloves": (_GLOVE, "outdoor"),
    "cookware": (_POT, "home"),
    "knives": (_KNIFE, "home"),
    "kettles": (_KETTLE, "home"),
    "plates": (_PLATE, "home"),
    "glassware": (_GLASS, "home"),
    "cutlery": (_CUTLERY, "home"),
    "towels": (_TOWEL, "home"),
    "bath-mats": (_TOWEL, "home"),
    "headphones": (_HEADPHONES, "desk"),
    "speakers": (_SPEAKER, "desk"),
    "earbuds": (_EARBUDS, "desk"),
    "keyboards": (_KEYBOARD, "desk"),
    "mice": (_MOUSE, "desk"),
    "monitors": (_MONITOR, "desk"),
    "chargers": (_POWER_BANK, "desk"),
    "power-banks": (_POWER_BANK, "desk"),
    "phone-cases": (_PHONE_CASE, "desk"),
    "tents": (_TENT, "outdoor"),
    "sleeping-bags": (_SLEEPING_BAG, "outdoor"),
    "camping-stoves": (_STOVE, "outdoor"),
    "bike-helmets": (_HELMET, "outdoor"),
    "bike-lights": (_BIKE_LIGHT, "outdoor"),
    "yoga-mats": (_YOGA_MAT, "home"),
    "dumbbells": (_DUMBBELL, "home"),
}


def _digest(*parts: str) -> bytes:
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
    return _FALLBACK_COLORS[_digest(sku, color or "")[0] % len(_FALLBACK_COLORS)]


_fonts = threading.local()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
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


def _gradient(size: tuple[int, int], start: RGB, end: RGB, horizontal: bool = False) -> Image.Image:
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
    font = _font(size)
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
        draw.text((x, y), line, font=_font(size), fill=ink, stroke_width=stroke, stroke_fill=ink)
        y += size * 1.18
    small = round(unit * 0.032)
    draw.text((x, y + small * 0.2), _drawable(subline), font=_font(small), fill=grey)


def _draw_role_badge(
    draw: ImageDraw.ImageDraw, role: str, right: float, bottom: float, unit: int
) -> None:
    size = round(unit * 0.028)
    font = _font(size)
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
        image = _gradient(size, (146, 192, 234), (244, 228, 200))
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
        image = _gradient(size, *wall)
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

    seed = _digest(sku, role, str(shot))
    shape, scene = _LEAF_LOOKS.get(category or "", (_BOX, "home"))
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
        image = _gradient((width, height), (246, 242, 236), (222, 214, 202))
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
        image = _gradient((width, height), top, bottom, horizontal=role == "side")
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


# ---------------------------------------------------------------------------------------------
# Placeholders
# ---------------------------------------------------------------------------------------------

PLACEHOLDER_SIZES: dict[str, tuple[int, int]] = {
    "placeholders/product": (1200, 1200),
    "placeholders/banner": (2400, 1600),
    "placeholders/swatch": (96, 96),
    "placeholders/video": (1280, 720),
    "placeholders/watermark": (1200, 360),
}


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
    width, height = PLACEHOLDER_SIZES[public_id]
    unit = min(width, height)
    buffer = io.BytesIO()
    if public_id == "placeholders/watermark":
        image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        font = _font(round(height * 0.55))
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
    if public_id == "placeholders/video":
        image = _gradient((width, height), (70, 74, 82), (40, 42, 48))
        draw = ImageDraw.Draw(image)
        r = unit * 0.16
        cx, cy = width / 2, height * 0.44
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(230, 232, 236))
        draw.polygon(
            [(cx - r * 0.35, cy - r * 0.5), (cx - r * 0.35, cy + r * 0.5), (cx + r * 0.55, cy)],
            fill=(60, 64, 72),
        )
        draw.text(
            (cx, height * 0.78),
            "No video",
            font=_font(round(unit * 0.08)),
            anchor="mm",
            fill=(210, 212, 218),
        )
        image.save(buffer, "PNG")
        return buffer.getvalue()
    # product and banner: the same grey card with a camera.
    image = _gradient((width, height), (236, 237, 240), (214, 217, 222))
    draw = ImageDraw.Draw(image)
    _camera(draw, width / 2, height * 0.44, unit * 0.34, (150, 155, 164), (228, 230, 234))
    draw.text(
        (width / 2, height * 0.44 + unit * 0.26),
        "No image",
        font=_font(round(unit * 0.07)),
        anchor="mm",
        fill=(120, 125, 134),
    )
    image.save(buffer, "PNG")
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


# ---------------------------------------------------------------------------------------------
# Uploading
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FailedUpload:
    public_id: str
    resource_type: str
    reason: str


@dataclass(frozen=True, slots=True)
class DemoMediaReport:
    """What :func:`upload_demo_media` did. ``skipped`` were already active in the mirror."""

    references: int  # media references to fill (``catalog/missing/`` ones excluded)
    uploaded: int
    skipped: int
    failed: tuple[FailedUpload, ...]
    left_missing: int  # planted ``catalog/missing/`` references, never uploaded
    placeholders_uploaded: int
    placeholders_skipped: int
    mirrored: int  # mirror documents inserted or changed
    products_without_alt: tuple[str, ...]  # SKUs whose assets carry no alt_* context
    seconds: float


@dataclass(frozen=True, slots=True)
class _Job:
    public_id: str
    resource_type: str
    role: str
    sku: str = ""
    variant_sku: str | None = None
    name: dict[str, str] = field(default_factory=dict)
    brand: str = ""
    category: str | None = None
    color: str | None = None
    with_alt: bool = True

    @property
    def key(self) -> tuple[str, str]:
        return (self.resource_type, self.public_id)


def _pick_without_alt(skus: Sequence[str]) -> frozenset[str]:
    count = max(NO_ALT_MIN, len(skus) // NO_ALT_EVERY) if skus else 0
    return frozenset(sorted(skus, key=lambda sku: _digest("no-alt", sku))[:count])


def _product_color(product: Document) -> str | None:
    for variant in product.get("variants") or []:
        color = (variant.get("options") or {}).get("color")
        if color:
            return str(color)
    value = ((product.get("attributes") or {}).get("color") or {}).get("value")
    return str(value) if isinstance(value, str) and value else None


def _jobs(products: Sequence[Document]) -> tuple[list[_Job], int, frozenset[str]]:
    """Upload jobs for the products' references, the planted-missing count, SKUs without alt."""
    without_alt = _pick_without_alt([p["sku"] for p in products])
    jobs: dict[tuple[str, str], _Job] = {}
    left_missing = 0
    for product in products:
        variant_colors = {
            v["sku"]: (v.get("options") or {}).get("color") for v in product.get("variants") or []
        }
        default_color = _product_color(product)
        for reference in product.get("media") or []:
            public_id = reference["publicId"]
            if public_id.startswith(MISSING_ASSET_PREFIX):
                left_missing += 1
                continue
            role = reference["role"]
            variant_sku = reference.get("variantSku")
            job = _Job(
                public_id=public_id,
                resource_type="video" if role == "video" else "image",
                role=role,
                sku=product["sku"],
                variant_sku=variant_sku,
                name=dict(product.get("name") or {}),
                brand=product.get("brand", ""),
                category=next(iter(product.get("categories") or []), None),
                color=variant_colors.get(variant_sku or "") or default_color,
                with_alt=product["sku"] not in without_alt,
            )
            jobs.setdefault(job.key, job)
    return list(jobs.values()), left_missing, without_alt


def _placeholder_jobs() -> list[_Job]:
    return [_Job(public_id=p, resource_type="image", role="placeholder") for p in PLACEHOLDER_SIZES]


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _active_keys(catalog: Catalog, jobs: Sequence[_Job]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    public_ids = [job.public_id for job in jobs]
    for chunk in _chunks(public_ids, _ID_BATCH):
        cursor = catalog.assets.find(
            {"publicId": {"$in": list(chunk)}, "status": "active"},
            {"_id": 0, "publicId": 1, "resourceType": 1},
        )
        async for document in cursor:
            found.add((document.get("resourceType", "image"), document["publicId"]))
    return found


def _shot(public_id: str) -> int:
    """``n`` of ``catalog/{sku}/{role}-{n}``; 1 for ids not shaped like that."""
    number = public_id.rsplit("-", 1)[-1]
    return int(number) if number.isdigit() else 1


def _render(job: _Job) -> tuple[str, bytes]:
    """The file name and bytes to upload for one job (runs in a worker thread)."""
    stem = job.public_id.rsplit("/", 1)[-1]
    if job.role == "placeholder":
        return f"{stem}.png", draw_placeholder(job.public_id)
    if job.role == "video":
        seconds = 8 + _digest(job.public_id)[0] % 25
        return f"{stem}.mp4", fake_mp4(*VIDEO_SIZE, float(seconds))
    data = draw_product_image(
        sku=job.sku,
        name=job.name.get("en-US") or next(iter(job.name.values()), job.sku),
        role=job.role,
        color=job.color,
        category=job.category,
        brand=job.brand,
        shot=_shot(job.public_id),
    )
    return f"{stem}.{'png' if job.role == 'swatch' else 'jpg'}", data


def _upload_options(job: _Job) -> dict[str, Any]:
    if job.role == "placeholder":
        # No role: placeholders are nobody's media, and the mirror's role is a media role.
        return {"tags": ["placeholder"]}
    tags = [f"sku:{job.sku}", f"role:{job.role}"]
    context: dict[str, str] = {"role": job.role, "sku": job.sku}
    if job.variant_sku:
        tags.append(f"variant:{job.variant_sku}")
        context["variant_sku"] = job.variant_sku
    if job.with_alt:
        context.update(_alt_texts(job.name, job.role, job.color))
    return {"tags": tags, "context": context}


class _Run:
    """One upload run: workers share the job iterator, results and the pending mirror batch."""

    def __init__(self, catalog: Catalog, dam: DamClient, now: datetime, concurrency: int) -> None:
        self.catalog = catalog
        self.dam = dam
        self.now = now
        self.concurrency = concurrency
        # Drawing holds the GIL for part of its time; more drawing threads than uploads in
        # flight would only queue up finished pictures in memory.
        self.draw_limiter = anyio.CapacityLimiter(concurrency)
        self.pending: list[Document] = []
        self.mirrored = 0
        self.uploaded = 0
        self.failed: list[FailedUpload] = []

    async def run(self, jobs: Sequence[_Job]) -> int:
        before = self.uploaded
        queue = iter(jobs)
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self.concurrency, len(jobs))):
                    group.create_task(self._worker(queue))
        except ExceptionGroup as errors:
            # Only MongoDB failures get here (upload failures are recorded); callers should
            # see the driver's error, not a group of one.
            raise errors.exceptions[0] from errors
        await self.flush()
        return self.uploaded - before

    async def _worker(self, queue: Iterator[_Job]) -> None:
        for job in queue:
            await self._one(job)

    async def _one(self, job: _Job) -> None:
        try:
            filename, data = await anyio.to_thread.run_sync(_render, job, limiter=self.draw_limiter)
            response = await self.dam.upload(
                (filename, data),
                public_id=job.public_id,
                resource_type=job.resource_type,
                overwrite=True,
                phash=job.resource_type == "image",
                **_upload_options(job),
            )
        except DamUnavailableError as exc:
            self._fail(job, str(exc))
            return
        except Exception as exc:
            # A drawing bug on one odd product must not cost the demo its other pictures.
            log.exception("demo media for %s could not be prepared", job.public_id)
            self._fail(job, f"{type(exc).__name__}: {exc}")
            return
        self.uploaded += 1
        self.pending.append(asset_from_resource(response, self.now, "demo"))
        if len(self.pending) >= MIRROR_BATCH:
            await self.flush()

    def _fail(self, job: _Job, reason: str) -> None:
        log.warning("demo media upload of %s failed: %s", job.public_id, reason)
        self.failed.append(FailedUpload(job.public_id, job.resource_type, reason))

    async def flush(self) -> None:
        batch, self.pending = self.pending, []
        if batch:
            self.mirrored += await upsert_assets(self.catalog.assets, batch)


async def upload_demo_media(
    catalog: Catalog,
    dam: DamClient,
    *,
    now: datetime,
    concurrency: int = 8,
    only_missing: bool = True,
) -> DemoMediaReport:
    """Draw and upload a picture (or a stand-in video) for every media reference, plus the
    placeholders the channel profiles use, and mirror them as active assets.

    References under ``catalog/missing/`` are planted broken references and stay missing. With
    ``only_missing``, references the mirror already holds as active are skipped, so a restart
    against a persistent DAM uploads nothing; that trusts the mirror, so pass ``False`` when
    the DAM may have lost its assets (an in-memory emulator) while MongoDB kept the mirror.
    Upload failures are reported, not raised.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    started = time.monotonic()
    products = await catalog.products.find({}, _PRODUCT_PROJECTION).to_list(None)
    jobs, left_missing, without_alt = _jobs(products)
    placeholders = _placeholder_jobs()
    if only_missing:
        active = await _active_keys(catalog, [*jobs, *placeholders])
        todo = [job for job in jobs if job.key not in active]
        todo_placeholders = [job for job in placeholders if job.key not in active]
    else:
        todo, todo_placeholders = jobs, placeholders

    run = _Run(catalog, dam, now, concurrency)
    placeholders_uploaded = await run.run(todo_placeholders)
    uploaded = await run.run(todo)
    report = DemoMediaReport(
        references=len(jobs),
        uploaded=uploaded,
        skipped=len(jobs) - len(todo),
        failed=tuple(run.failed),
        left_missing=left_missing,
        placeholders_uploaded=placeholders_uploaded,
        placeholders_skipped=len(placeholders) - len(todo_placeholders),
        mirrored=run.mirrored,
        products_without_alt=tuple(sorted(without_alt)),
        seconds=round(time.monotonic() - started, 3),
    )
    log.info(
        "demo media: %d uploaded, %d skipped, %d failed, %d placeholders in %.1f s",
        report.uploaded,
        report.skipped,
        len(report.failed),
        report.placeholders_uploaded,
        report.seconds,
    )
    return report
