"""The readiness rules read only ``PRODUCT_FIELDS_READ`` of a product: a query that scores
products reads just those fields of each document (schema.lookahead), so a rule reading another
field would score from a document without it, silently."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.bench_catalog import generate_bench_catalog
from demo.catalog import generate_demo_catalog
from resolvers.db import Document
from resolvers.media import reference_key
from resolvers.readiness import PRODUCT_FIELDS_READ, Readiness, evaluate, needed_codes
from tests.demo_fixtures import CHANNELS, LOCALES, NOW, mirror_documents

Catalog = tuple[list[Document], list[Document], list[Document], list[Document]]


def demo() -> Catalog:
    catalog = generate_demo_catalog(products=120)
    products: list[Document] = [dict(p) for p in catalog.products]
    categories: list[Document] = [dict(c) for c in catalog.categories]
    attributes: list[Document] = [dict(a) for a in catalog.attributes]
    return products, mirror_documents(products), categories, attributes


def bench() -> Catalog:
    catalog = generate_bench_catalog(120, now=NOW)
    return catalog.products, catalog.assets, catalog.categories, catalog.attributes


def scores(product: Document, catalog: Catalog) -> list[Readiness]:
    _, assets, categories, attributes = catalog
    by_key = {reference_key({"role": _role(a), "publicId": a["publicId"]}): a for a in assets}
    by_slug = {c["slug"]: c for c in categories}
    by_code = {a["code"]: a for a in attributes}
    own = [by_slug[s] for s in product.get("categories") or [] if s in by_slug]
    keys = [reference_key(r) for r in product.get("media") or []]
    return [
        evaluate(
            product,
            assets={key: by_key.get(key) for key in keys},
            categories=own,
            attributes={code: by_code.get(code) for code in needed_codes(own)},
            channel=channel,
            channels=CHANNELS,
            locales=LOCALES,
            locale=locale,
            now=NOW,
        )
        for channel in CHANNELS.names()
        for locale in (None, "de-DE")
    ]


def _role(asset: Document) -> str:
    # The asset loader's key needs only the resource type: any role of that type will do.
    return "video" if asset.get("resourceType") == "video" else "hero"


@pytest.mark.parametrize("make", [demo, bench], ids=["demo", "bench"])
def test_products_score_the_same_on_the_fields_the_rules_read(make: Any) -> None:
    catalog = make()
    products = catalog[0]
    failing = 0
    for product in products:
        read = {k: v for k, v in product.items() if k in PRODUCT_FIELDS_READ}
        whole = scores(product, catalog)
        assert scores(read, catalog) == whole, product["sku"]
        failing += sum(not result.ready for result in whole)
    assert failing > 0  # the catalog exercises failing rules, not only passing ones
