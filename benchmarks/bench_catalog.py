"""The benchmark catalog: the demo catalog, with 2-6 variants and 3-8 media on every product and
one mirrored asset document per media reference, then stored readiness scores.

Built on ``generate_demo_catalog`` (brands, category tree, names in every locale, relations,
bundles, planted defects) and post-processed with its own seeded ``random.Random``, so the same
``(products, seed)`` always gives the same products and assets. Asset documents are written
straight into the ``assets`` mirror, as ingest and webhooks would, so serving them never asks the
Admin API (and the emulator never sees a request).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from pymongo.asynchronous.collection import AsyncCollection

from demo.catalog import DEFAULT_LOCALES, generate_demo_catalog, media_references
from demo.defects import MISSING_ASSET_PREFIX
from demo.tables import COLORS
from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.channels import Channels
from resolvers.db import Catalog, Document, ensure_indexes
from resolvers.documents import MediaReference, MediaRole, ProductDocument, VariantDocument
from resolvers.locales import LocaleResolver
from resolvers.readiness import materialize
from resolvers.workflow.publications import backfill

BENCH_SEED = 11
MIN_VARIANTS, MAX_VARIANTS = 2, 6
MIN_MEDIA, MAX_MEDIA = 3, 8
INSERT_CHUNK = 2_000
# Shares of imperfect assets, so readiness and media fallbacks have real work to do.
SMALL_IMAGE_SHARE = 0.05  # too small for the web zoom slot (image_resolution fails)
NO_ALT_SHARE = 0.08  # one channel locale without alt text (alt_text fails)
WEB_ONLY_SHARE = 0.03  # usage rights cover the web only (mobile falls back)
VIDEO_SHARE = 0.2
POSTER_SHARE = 0.5
ALT_LOCALES: tuple[str, ...] = ("en-US", "de-DE", "fr-FR", "it-IT")
_SHOTS: tuple[MediaRole, ...] = ("front", "side", "back", "detail", "detail", "lifestyle")
_SIZES: dict[str, tuple[int, int]] = {
    "hero": (1600, 1600),
    "lifestyle": (2000, 1200),
    "swatch": (200, 200),
    "video": (1920, 1080),
}
_DEFAULT_SIZE = (1400, 1400)


@dataclass(frozen=True, slots=True)
class BenchCatalog:
    attributes: list[Document]
    categories: list[Document]
    products: list[Document]
    assets: list[Document]


@dataclass(frozen=True, slots=True)
class BenchSeedReport:
    products: int
    variants: int
    media_references: int
    assets: int
    categories: int
    attributes: int
    readiness_scored: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"{self.products} products, {self.variants} variants, "
            f"{self.media_references} media references / {self.assets} mirrored assets, "
            f"{self.categories} categories, {self.attributes} attributes; readiness stored for "
            f"{self.readiness_scored} products ({self.seconds:.1f}s)"
        )


def generate_bench_catalog(
    products: int,
    seed: int = BENCH_SEED,
    locales: Sequence[str] = DEFAULT_LOCALES,
    now: datetime | None = None,
) -> BenchCatalog:
    """The benchmark catalog's documents; the same arguments give the same documents.

    ``now`` only sets the assets' ``checkedAt``/``updatedAt`` (the mirror's freshness).
    """
    demo = generate_demo_catalog(products=products, seed=seed, locales=locales)
    rng = random.Random(seed * 7_919 + 1)
    checked = (now or datetime.now(UTC)).replace(microsecond=0)
    documents: list[Document] = []
    assets: list[Document] = []
    version = 1_700_000_000
    for product in demo.products:
        _ensure_variants(product, rng)
        product["media"] = _media(product, rng)
        for reference in product["media"]:
            version += 1
            assets.append(_asset(product, reference, rng, version, checked))
        documents.append(cast(Document, product))
    return BenchCatalog(
        attributes=[cast(Document, a) for a in demo.attributes],
        categories=[cast(Document, c) for c in demo.categories],
        products=documents,
        assets=assets,
    )


def _ensure_variants(product: ProductDocument, rng: random.Random) -> None:
    """Products with fewer than two variants get colour variants (2-6 in all)."""
    variants = product["variants"]
    if len(variants) >= MIN_VARIANTS:
        return
    sku = product["sku"]
    colour = product["attributes"].get("color")
    existing = [v["options"].get("color") for v in variants if v["options"].get("color")]
    first = existing[0] if existing else (str(colour["value"]) if colour else None)
    palette = [c for c in COLORS if c != first]
    count = rng.randint(MIN_VARIANTS, MAX_VARIANTS)
    colours = ([first] if first else []) + rng.sample(palette, count - (1 if first else 0))
    kept = {v["sku"] for v in variants}
    for value in colours:
        variant_sku = f"{sku}-{value.upper()}"
        if variant_sku not in kept:
            variants.append(VariantDocument(sku=variant_sku, options={"color": value}))
    del variants[MAX_VARIANTS:]


def _media(product: ProductDocument, rng: random.Random) -> list[MediaReference]:
    """3-8 references: a hero (unless the product is a planted no-hero defect), shots, maybe a
    video, and one swatch per colour; a planted missing asset stays missing."""
    sku = product["sku"]
    old = product["media"]
    has_hero = any(m["role"] == "hero" for m in old)
    has_missing = any(m["publicId"].startswith(MISSING_ASSET_PREFIX) for m in old)
    swatches: dict[str, str] = {}
    for variant in product["variants"]:
        colour = variant["options"].get("color")
        if colour:
            swatches.setdefault(colour, variant["sku"])
    own = min(len(swatches), MAX_MEDIA - 1)
    total = rng.randint(max(1, MIN_MEDIA - own), MAX_MEDIA - own)  # hero, shots and video
    has_video = total >= 2 and rng.random() < VIDEO_SHARE
    lead: MediaRole = "hero" if has_hero else "front"
    pool = [role for role in _SHOTS if role != lead]
    shots = min(total - 1 - int(has_video), len(pool))
    roles: list[tuple[MediaRole, str | None]] = [(lead, None)]
    roles += [(pool[j], None) for j in sorted(rng.sample(range(len(pool)), shots))]
    if has_video:
        roles.append(("video", None))
    roles += [("swatch", variant_sku) for variant_sku in list(swatches.values())[:own]]
    media = media_references(sku, roles)
    if has_missing:
        shot = next(
            (m for m in reversed(media) if m["role"] not in ("hero", "swatch", "video")), None
        )
        if shot is not None:
            suffix = shot["publicId"].rsplit("/", 1)[1]
            shot["publicId"] = f"{MISSING_ASSET_PREFIX}{sku}/{suffix}"
    return media


def _asset(
    product: ProductDocument,
    reference: MediaReference,
    rng: random.Random,
    version: int,
    checked: datetime,
) -> Document:
    role = reference["role"]
    resource_type = "video" if role == "video" else "image"
    public_id = reference["publicId"]
    if public_id.startswith(MISSING_ASSET_PREFIX):
        # What the loader records after Cloudinary answered "no such asset".
        return {
            "publicId": public_id,
            "resourceType": resource_type,
            "status": "missing",
            "source": "bench",
            "checkedAt": checked,
            "updatedAt": checked,
        }
    width, height = _SIZES.get(role, _DEFAULT_SIZE)
    if role not in ("swatch", "video") and rng.random() < SMALL_IMAGE_SHARE:
        width, height = 800, 800
    name = product["name"]
    alt_locales = [t for t in ALT_LOCALES if t in name]
    if len(alt_locales) > 1 and rng.random() < NO_ALT_SHARE:
        alt_locales.remove(rng.choice(alt_locales[1:]))
    document: Document = {
        "publicId": public_id,
        "resourceType": resource_type,
        "status": "active",
        "format": "mp4" if resource_type == "video" else "jpg",
        "width": width,
        "height": height,
        "bytes": width * height // 4,
        "version": version,
        "tags": [f"sku:{product['sku']}", f"role:{role}"],
        "alt": {t: f"{name[t]} ({role})" for t in alt_locales},
        "role": role,
        "sku": product["sku"],
        "usageChannels": ["web"] if rng.random() < WEB_ONLY_SHARE else None,
        "lifecycle": "approved",
        "validFrom": None,
        "validTo": None,
        "source": "bench",
        "checkedAt": checked,
        "updatedAt": checked,
    }
    if "variantSku" in reference:
        document["variantSku"] = reference["variantSku"]
    if resource_type == "video":
        document["duration"] = 12.0
        if rng.random() < POSTER_SHARE:
            document["poster"] = public_id.rsplit("/", 1)[0] + "/poster-1"
    return document


async def _insert(collection: AsyncCollection[Document], documents: Sequence[Document]) -> None:
    for start in range(0, len(documents), INSERT_CHUNK):
        await collection.insert_many(list(documents[start : start + INSERT_CHUNK]), ordered=False)


def _locales_and_channels(settings: Settings) -> tuple[LocaleResolver, Channels]:
    locales = LocaleResolver(settings.locales, settings.default_locale, settings.fallback_chains)
    # Wired with validation.toml's text limits: the stored scores' rulesHash is the gateway's.
    return locales, load_profiles(settings).channels


async def seed_bench_catalog(
    catalog: Catalog,
    products: int,
    *,
    seed: int = BENCH_SEED,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> BenchSeedReport:
    """Create the indexes, insert the benchmark catalog into an empty database and store
    every product's readiness for every channel (as the gateway would after seeding)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    settings = settings or Settings()
    locales, channels = _locales_and_channels(settings)
    if await catalog.products.estimated_document_count():
        raise RuntimeError(f"{catalog.db.name}.products is not empty; the bench needs a fresh db")
    await ensure_indexes(catalog, locales.locales, channels.names())
    moment = now or datetime.now(UTC)
    bench = await asyncio.to_thread(
        generate_bench_catalog, products, seed, settings.locales, moment
    )
    await _insert(catalog.attributes, bench.attributes)
    await _insert(catalog.categories, bench.categories)
    await _insert(catalog.products, bench.products)
    await _insert(catalog.assets, bench.assets)
    scored = await materialize(catalog, channels, locales, moment)
    # Storefronts read publications: the catalog is published on every channel, as
    # `catalog-gateway migrate` leaves one from before publishing.
    await backfill(catalog, channels, locales, moment)
    return BenchSeedReport(
        products=len(bench.products),
        variants=sum(len(p["variants"]) for p in bench.products),
        media_references=sum(len(p["media"]) for p in bench.products),
        assets=len(bench.assets),
        categories=len(bench.categories),
        attributes=len(bench.attributes),
        readiness_scored=scored,
        seconds=loop.time() - started,
    )


def summary_counts(products: Sequence[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """(min, max) of variants and media per product, for checks and the report."""
    variants = [len(p.get("variants") or []) for p in products]
    media = [len(p.get("media") or []) for p in products]
    return {"variants": (min(variants), max(variants)), "media": (min(media), max(media))}
