"""The drawings of demo products: a few filled shapes each, in unit coordinates.

``demo.pictures`` scales a drawing into the picture and colours it; ``demo/data/pictures.toml``
says which drawing each leaf category gets, by its name in ``SHAPES``.
"""

from __future__ import annotations

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

# By name, for demo/data/pictures.toml; ``box`` is the drawing of categories without one.
SHAPES: dict[str, tuple[Prim, ...]] = {
    "shoe": _SHOE,
    "boot": _BOOT,
    "tshirt": _TSHIRT,
    "hoodie": _HOODIE,
    "jacket": _JACKET,
    "sock": _SOCK,
    "cap": _CAP,
    "helmet": _HELMET,
    "glove": _GLOVE,
    "pot": _POT,
    "stove": _STOVE,
    "knife": _KNIFE,
    "cutlery": _CUTLERY,
    "kettle": _KETTLE,
    "glass": _GLASS,
    "plate": _PLATE,
    "towel": _TOWEL,
    "headphones": _HEADPHONES,
    "earbuds": _EARBUDS,
    "speaker": _SPEAKER,
    "keyboard": _KEYBOARD,
    "mouse": _MOUSE,
    "monitor": _MONITOR,
    "power_bank": _POWER_BANK,
    "phone_case": _PHONE_CASE,
    "tent": _TENT,
    "sleeping_bag": _SLEEPING_BAG,
    "bike_light": _BIKE_LIGHT,
    "yoga_mat": _YOGA_MAT,
    "dumbbell": _DUMBBELL,
    "box": _BOX,
}
