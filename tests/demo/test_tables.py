"""The demo catalog's data files (demo/data/*.toml) and their loader."""

import pytest

from demo.pictures import ROLE_SIZES
from demo.tables import (
    COLORS,
    CONTENT_LOCALES,
    TREE,
    DemoDataError,
    read,
    translations,
)


def test_translations_follow_the_content_locales() -> None:
    table = {"it-IT": "Colore", "fr-FR": "Couleur", "de-DE": "Farbe", "en-US": "Color"}
    assert translations(table, "label") == ("Color", "Farbe", "Couleur", "Colore")
    assert CONTENT_LOCALES == ("en-US", "de-DE", "fr-FR", "it-IT")


@pytest.mark.parametrize(
    "table",
    [{"en-US": "Color"}, {"en-US": "a", "de-DE": "b", "fr-FR": "c", "it-IT": "d", "es-ES": "e"}],
)
def test_translations_need_every_content_locale_once(table: dict[str, str]) -> None:
    with pytest.raises(DemoDataError, match="label: needs exactly the locales"):
        translations(table, "label")


def test_every_leaf_category_has_a_drawing_and_every_colour_an_rgb() -> None:
    leaves = {leaf.slug for root in TREE for mid in root.mids for leaf in mid.leaves}
    assert set(read("pictures.toml")["looks"]) == leaves
    assert set(read("pictures.toml")["rgb"]) == set(COLORS)
    assert set(read("alt_texts.toml")["color_words"]) == set(COLORS)
    assert set(ROLE_SIZES) | {"video"} == set(read("alt_texts.toml")["views"])
