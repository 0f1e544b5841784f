"""The REST floor: hand-written Starlette JSON endpoints giving exactly the ``data`` of Q1 and Q2
with as few MongoDB queries as the payloads allow.

* ``GET /rest/products?first=48&after=CURSOR`` (Q1): the page (one ``find`` with a projection),
  then its assets and categories (two ``$in`` queries, concurrently), then the attribute
  definitions the page needs (one ``$in``): 4 queries, 3 round trips, whatever the page size.
* ``GET /rest/products/{sku}`` (Q2): the product, then its accessories and bundle components with
  its categories, then every asset involved with the attribute definitions: 5 queries in 3 round
  trips.

Readiness is computed live with ``resolvers.readiness.evaluate``, as the gateway does, so the
floor does the same work minus GraphQL. Delivery URLs are built with the Cloudinary SDK per URL
(``cloudinary_url``, through ``DamClient`` with ``url_templates=False``), as a hand-written app
would: the gateway's per-slot URL templates are one of the optimisations the gateway makes to
approach this floor, not part of the floor. ``BENCH_URL_BUILDER=templates`` builds them with the
gateway's templates instead (the same bytes): the benchmark's ``rest-tuned`` server, the floor
for what GraphQL alone costs.

Run it as the benchmark does: ``python -m uvicorn --factory benchmarks.rest_floor:app_factory``
with the gateway's environment (``MONGODB_URI``, ``CATALOG_DB``, and ``CATALOG_EMULATOR_PORT`` or
``CLOUDINARY_URL`` so that delivery URLs match the gateway's).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from benchmarks import payloads
from benchmarks.payloads import AssetMap
from benchmarks.queries import (
    DETAIL_CHANNEL,
    LISTING_ATTRIBUTE,
    LISTING_CHANNEL,
    LISTING_SLOT,
    LOCALE,
    SKU_SORT,
)
from gateway.dam_setup import command_line_dam
from gateway.gc_freeze import freeze_startup_objects
from gateway.services import load_profiles
from gateway.settings import Settings, load_settings
from resolvers.assets import DamClient
from resolvers.channels import Channels
from resolvers.db import Catalog, Document
from resolvers.errors import CatalogError
from resolvers.locales import LocaleResolver
from resolvers.media import UrlBuilder
from resolvers.pagination import after_clause, check_page_size, decode_cursor, encode_cursor
from resolvers.readiness import Readiness, evaluate, needed_codes

APP_NAME = "bench-rest"
# "sdk" (the default): the SDK builds every delivery URL; "templates": the gateway's templates.
URL_BUILDER_ENV = "BENCH_URL_BUILDER"
URL_BUILDERS = ("sdk", "templates")

# Only what the payloads read: text and attributes for readiness, media, variants and relations.
_LISTING_FIELDS = {
    "sku": 1,
    "name": 1,
    "description": 1,
    "attributes": 1,
    "variants": 1,
    "media": 1,
    "categories": 1,
}
_DETAIL_FIELDS = {**_LISTING_FIELDS, "_id": 0, "accessories": 1, "bundle": 1}
_RELATED_FIELDS = {"_id": 0, "sku": 1, "name": 1, "media": 1}
_ASSET_FIELDS = {
    "_id": 0,
    "publicId": 1,
    "resourceType": 1,
    "status": 1,
    "rejectReasons": 1,
    "lifecycle": 1,
    "validFrom": 1,
    "validTo": 1,
    "usageChannels": 1,
    "width": 1,
    "height": 1,
    "format": 1,
    "alt": 1,
    "poster": 1,
    "version": 1,
}


@dataclass(frozen=True, slots=True)
class Floor:
    catalog: Catalog
    locales: LocaleResolver
    channels: Channels
    dam: DamClient

    def urls(self, channel: str) -> UrlBuilder:
        return UrlBuilder(self.dam, self.channels.profiles[channel])

    async def assets(self, keys: Iterable[tuple[str, str]]) -> AssetMap:
        wanted = set(keys)
        if not wanted:
            return {}
        found: AssetMap = {}
        query = {"publicId": {"$in": list({public_id for _, public_id in wanted})}}
        async for d in self.catalog.assets.find(query, _ASSET_FIELDS).batch_size(len(wanted) + 1):
            found[(d.get("resourceType", "image"), d["publicId"])] = d
        return found

    async def categories(self, slugs: Iterable[str]) -> dict[str, Document]:
        wanted = list(set(slugs))
        if not wanted:
            return {}
        cursor = self.catalog.categories.find({"slug": {"$in": wanted}}, {"_id": 0})
        return {d["slug"]: d async for d in cursor}

    async def definitions(self, codes: Iterable[str]) -> dict[str, Document | None]:
        wanted = list(dict.fromkeys(codes))
        if not wanted:
            return {}
        cursor = self.catalog.attributes.find({"code": {"$in": wanted}}, {"_id": 0})
        return {d["code"]: d async for d in cursor}

    def readiness(
        self,
        product: Document,
        assets: AssetMap,
        categories: dict[str, Document],
        definitions: dict[str, Document | None],
        channel: str,
        now: datetime,
    ) -> Readiness:
        mine = [categories[s] for s in product.get("categories") or [] if s in categories]
        return evaluate(
            product,
            assets={k: assets.get(k) for k in payloads.asset_keys(product.get("media") or [])},
            categories=mine,
            attributes={c: definitions.get(c) for c in needed_codes(mine)},
            channel=channel,
            channels=self.channels,
            locales=self.locales,
            locale=None,
            now=now,
        )


def _floor(request: Request) -> Floor:
    floor: Floor = request.state.floor
    return floor


def _bad_request(exc: CatalogError) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=400)


async def listing(request: Request) -> Response:
    """Q1: a page of products for a listing."""
    floor = _floor(request)
    now = datetime.now(UTC)
    try:
        first = check_page_size(int(request.query_params.get("first", "20")))
        after = request.query_params.get("after")
        query = after_clause(SKU_SORT, decode_cursor(after, SKU_SORT)) if after else {}
    except CatalogError as exc:
        return _bad_request(exc)
    except ValueError:
        return JSONResponse({"error": "'first' must be an integer"}, status_code=400)
    cursor = floor.catalog.products.find(query, _LISTING_FIELDS).sort(SKU_SORT.mongo_sort)
    documents = await cursor.limit(first + 1).to_list()
    page = documents[:first]
    keys = [k for d in page for k in payloads.asset_keys(d.get("media") or [])]
    assets, categories = await asyncio.gather(
        floor.assets(keys),
        floor.categories(s for d in page for s in d.get("categories") or []),
    )
    definitions = await floor.definitions([LISTING_ATTRIBUTE, *needed_codes(categories.values())])
    profile = floor.channels.profiles[LISTING_CHANNEL]
    urls = floor.urls(LISTING_CHANNEL)
    edges = []
    for product in page:
        hero = payloads.hero(product, assets, profile, LISTING_CHANNEL, now)
        result = floor.readiness(product, assets, categories, definitions, LISTING_CHANNEL, now)
        edges.append(
            {
                "node": {
                    "sku": product["sku"],
                    "name": payloads.name(product, floor.locales, LOCALE),
                    "attributes": payloads.attribute_values(
                        product, [LISTING_ATTRIBUTE], definitions, floor.locales
                    ),
                    "heroImage": {"url": payloads.media_url(urls, profile, hero, LISTING_SLOT)}
                    if hero
                    else None,
                    "readiness": {"score": result.score},
                }
            }
        )
    end = encode_cursor(SKU_SORT, page[-1]) if page else None
    page_info = {"hasNextPage": len(documents) > first, "endCursor": end}
    return JSONResponse({"products": {"pageInfo": page_info, "edges": edges}})


async def detail(request: Request) -> Response:
    """Q2: everything a product detail page shows."""
    floor = _floor(request)
    now = datetime.now(UTC)
    sku = request.path_params["sku"]
    product = await floor.catalog.products.find_one({"sku": sku}, _DETAIL_FIELDS)
    if product is None:
        return JSONResponse({"product": None})
    components = product.get("bundle") or []
    others = list(
        dict.fromkeys([*(product.get("accessories") or []), *(c["sku"] for c in components)])
    )

    async def related() -> dict[str, Document]:
        if not others:
            return {}
        cursor = floor.catalog.products.find({"sku": {"$in": others}}, _RELATED_FIELDS)
        return {d["sku"]: d async for d in cursor.batch_size(len(others) + 1)}

    by_sku, categories = await asyncio.gather(
        related(), floor.categories(product.get("categories") or [])
    )
    accessories = [by_sku[s] for s in product.get("accessories") or [] if s in by_sku]
    keys = payloads.asset_keys(product.get("media") or [])
    keys += [k for a in accessories for k in payloads.asset_keys(a.get("media") or [])]
    assets, definitions = await asyncio.gather(
        floor.assets(keys), floor.definitions(needed_codes(categories.values()))
    )
    profile = floor.channels.profiles[DETAIL_CHANNEL]
    urls = floor.urls(DETAIL_CHANNEL)
    locales = floor.locales

    def swatch(variant: Document) -> dict[str, Any] | None:
        chosen = payloads.swatch(product, variant["sku"], assets, profile, DETAIL_CHANNEL, now)
        if chosen is None:
            return None
        return {
            "publicId": chosen.public_id,
            "url": payloads.media_url(urls, profile, chosen, "swatch"),
        }

    def accessory(document: Document) -> dict[str, Any]:
        hero = payloads.hero(document, assets, profile, DETAIL_CHANNEL, now)
        return {
            "sku": document["sku"],
            "name": payloads.name(document, locales, LOCALE),
            "heroImage": {"url": payloads.media_url(urls, profile, hero, "thumbnail")}
            if hero
            else None,
        }

    def component(item: Document) -> dict[str, Any]:
        found = by_sku.get(item["sku"])
        return {
            "sku": item["sku"],
            "quantity": int(item.get("quantity", 1)),
            "product": {"sku": found["sku"], "name": payloads.name(found, locales, LOCALE)}
            if found
            else None,
        }

    result = floor.readiness(product, assets, categories, definitions, DETAIL_CHANNEL, now)
    body = {
        "sku": product["sku"],
        "name": payloads.name(product, locales, LOCALE),
        "mediaManifest": payloads.manifest_payload(
            product, assets, profile, DETAIL_CHANNEL, urls, locales, locales.default, now
        ),
        "variants": [
            {"sku": v["sku"], "options": payloads.options_payload(v), "swatch": swatch(v)}
            for v in product.get("variants") or []
        ],
        "accessories": [accessory(a) for a in accessories],
        "bundleItems": [component(c) for c in components],
        "readiness": payloads.readiness_payload(result),
    }
    return JSONResponse({"product": body})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def url_templates_from_env(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether ``BENCH_URL_BUILDER`` asks for the gateway's URL templates (default: the SDK)."""
    value = environ.get(URL_BUILDER_ENV, "").strip().lower() or "sdk"
    if value not in URL_BUILDERS:
        raise ValueError(
            f"{URL_BUILDER_ENV} must be one of {', '.join(URL_BUILDERS)}, not {value!r}"
        )
    return value == "templates"


def create_rest_app(
    settings: Settings, dam: DamClient | None = None, *, url_templates: bool = False
) -> Starlette:
    """The floor for ``settings``; ``dam`` defaults to one for the Cloudinary the gateway's URLs
    come from, building every URL with the SDK unless ``url_templates``."""
    locales = LocaleResolver(settings.locales, settings.default_locale, settings.fallback_chains)
    channels = load_profiles(settings).channels
    client_dam = dam or command_line_dam(settings, url_templates=url_templates)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        if settings.mongodb_uri is None:
            raise RuntimeError("the REST floor needs MONGODB_URI")
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongodb_uri, appname=APP_NAME, tz_aware=True
        )
        try:
            floor = Floor(Catalog(client[settings.db]), locales, channels, client_dam)
            yield {"floor": floor}
        finally:
            await client.close()

    routes = [
        Route("/rest/products", listing, methods=["GET"]),
        Route("/rest/products/{sku}", detail, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.dam = client_dam
    return app


def app_factory() -> Starlette:
    app = create_rest_app(load_settings(), url_templates=url_templates_from_env())
    freeze_startup_objects()  # the same process tuning as the gateway
    return app
