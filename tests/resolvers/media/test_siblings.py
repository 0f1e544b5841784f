"""A variant's swatch siblings, worked out for every variant at once, are the ones
``swatch_siblings`` gives each variant (readiness reads the former, the ``swatch`` field the
latter)."""

from typing import Any

from resolvers.media.selection import sibling_sets, swatch_siblings


def variant(sku: str, **options: Any) -> dict[str, Any]:
    return {"sku": sku, "options": options}


def test_sibling_sets_are_each_variants_swatch_siblings() -> None:
    product = {
        "variants": [
            variant("RED-S", color="red", size="S"),
            variant("BLUE-S", color="blue"),
            variant("RED-M", color="red"),
            variant("PLAIN"),
            variant("BLANK", color=""),
            {"sku": "BARE"},
            # The first variant with a sku decides its colour.
            variant("PLAIN", color="red"),
            variant("BLUE-S", color="red"),
            variant("NUMBERED", color=7),
            variant("SEVEN", color="7"),
        ]
    }
    sets = sibling_sets(product)

    assert sets == {
        sku: frozenset(swatch_siblings(product, sku))
        for sku in ("RED-S", "BLUE-S", "RED-M", "PLAIN", "BLANK", "BARE", "NUMBERED", "SEVEN")
    }
    assert sets["RED-M"] == {"RED-S", "RED-M", "PLAIN", "BLUE-S"}
    assert sets["PLAIN"] == {"PLAIN"}
    assert sets["NUMBERED"] == {"NUMBERED", "SEVEN"}


def test_a_product_without_variants_has_no_siblings() -> None:
    assert sibling_sets({"sku": "P"}) == {}
    assert sibling_sets({"variants": []}) == {}
