"""The naive baseline: the typical first Strawberry implementation of the Q1-Q3 schema subset.

The same types, fields and results as the gateway for what Q1-Q3 select, and the same domain
code for URLs (``UrlBuilder`` / ``DamClient.url``), slot choice and readiness
(``resolvers.readiness.evaluate``), but every resolver fetches what it needs itself, one
``find_one`` per object: per asset of every field that shows media, per category, per attribute
definition, per accessory, per bundle component and per federation representation. No
dataloaders, no request-level cache, no projections of its own (its listing page goes through
the gateway's ``fetch_page``, which leaves stored readiness scores out). Delivery URLs are built
with the Cloudinary SDK per URL (``cloudinary_url``; ``DamClient`` with ``url_templates=False``),
as a hand-written app would, not with the gateway's per-slot URL templates.

Served with Strawberry's own ASGI handler on ``/graphql``:
``python -m uvicorn --factory benchmarks.naive_app:app_factory`` (same environment as the REST
floor; see ``benchmarks.rest_floor``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import strawberry
from pymongo import AsyncMongoClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.scalars import JSON

from benchmarks import payloads
from benchmarks.payloads import AssetMap, Chosen
from benchmarks.queries import SKU_SORT
from gateway.dam_setup import command_line_dam
from gateway.services import load_profiles
from gateway.settings import Settings, load_settings
from resolvers.assets import DamClient
from resolvers.channels import ChannelProfile, Channels
from resolvers.db import Catalog, Document
from resolvers.locales import LocaleResolver
from resolvers.media import UrlBuilder, reference_key
from resolvers.pagination import encode_cursor
from resolvers.products import fetch_page
from resolvers.readiness import evaluate, needed_codes
from schema.types.media import MediaRole, ResourceType
from schema.types.readiness import Severity

APP_NAME = "bench-naive"


@dataclass
class NaiveContext:
    catalog: Catalog
    locales: LocaleResolver
    channels: Channels
    dam: DamClient
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def profile(self, channel: str) -> ChannelProfile:
        return self.channels.profiles[channel]

    def urls(self, channel: str) -> UrlBuilder:
        return UrlBuilder(self.dam, self.profile(channel))

    async def assets(self, refs: Sequence[Document]) -> AssetMap:
        """Each referenced asset with a query of its own."""
        found: AssetMap = {}
        for reference in refs:
            resource_type, public_id = reference_key(reference)
            found[(resource_type, public_id)] = await self.catalog.assets.find_one(
                {"publicId": public_id, "resourceType": resource_type}
            )
        return found

    async def product(self, sku: str) -> Document | None:
        return await self.catalog.products.find_one({"sku": sku})


Info = strawberry.Info[NaiveContext, None]


@strawberry.type
class AltText:
    text: str | None
    locale: str | None
    is_fallback: bool


@strawberry.type
class MediaAsset:
    public_id: str
    chosen: strawberry.Private[Chosen]
    channel: strawberry.Private[str]

    @strawberry.field
    def url(self, info: Info, slot: str, channel: str | None = None) -> str:
        name = channel or self.channel
        context = info.context
        return payloads.media_url(context.urls(name), context.profile(name), self.chosen, slot)


@strawberry.type
class MediaManifestSlot:
    slot: str
    resource_type: ResourceType
    asset: MediaAsset
    url: str
    srcset: str
    width: int
    height: int | None
    format: str
    alt: AltText
    role: MediaRole | None
    poster_url: str | None
    is_fallback: bool
    is_placeholder: bool
    reasons: list[str]


@strawberry.type
class MediaManifest:
    channel: str
    locale: str
    complete: bool
    slots: list[MediaManifestSlot]


@strawberry.type
class ReadinessCheck:
    id: str
    passed: bool
    severity: Severity
    weight: int
    message: str
    hint: str


@strawberry.type
class ProductReadiness:
    score: int
    ready: bool
    missing_locales: list[str]
    missing_roles: list[MediaRole]
    checks: list[ReadinessCheck]


@strawberry.type
class ProductAttribute:
    code: str
    value: JSON | None


@strawberry.type
class VariantOption:
    code: str
    value: str


def _manifest_slot(slot: dict[str, Any], channel: str, assets: AssetMap) -> MediaManifestSlot:
    public_id = slot["asset"]["publicId"]
    resource_type = ResourceType[slot["resourceType"]]
    asset = None if slot["isPlaceholder"] else assets.get((resource_type.value, public_id))
    kind = str(asset.get("resourceType", "image")) if asset else resource_type.value
    return MediaManifestSlot(
        slot=slot["slot"],
        resource_type=resource_type,
        asset=MediaAsset(
            public_id=public_id, chosen=Chosen(public_id, asset, kind), channel=channel
        ),
        url=slot["url"],
        srcset=slot["srcset"],
        width=slot["width"],
        height=slot["height"],
        format=slot["format"],
        alt=AltText(
            text=slot["alt"]["text"],
            locale=slot["alt"]["locale"],
            is_fallback=slot["alt"]["isFallback"],
        ),
        role=MediaRole[slot["role"]] if slot["role"] else None,
        poster_url=slot["posterUrl"],
        is_fallback=slot["isFallback"],
        is_placeholder=slot["isPlaceholder"],
        reasons=slot["reasons"],
    )


@strawberry.type
class ProductVariant:
    sku: str
    options: list[VariantOption]
    product_doc: strawberry.Private[Document]

    @strawberry.field
    async def swatch(self, info: Info, channel: str) -> MediaAsset | None:
        context = info.context
        refs = payloads.swatch_refs(self.product_doc, self.sku)
        assets = await context.assets(refs)
        chosen = payloads.swatch(
            self.product_doc, self.sku, assets, context.profile(channel), channel, context.now
        )
        return (
            MediaAsset(public_id=chosen.public_id, chosen=chosen, channel=channel)
            if chosen
            else None
        )


@strawberry.type
class BundleItem:
    sku: str
    quantity: int
    product: Product | None


@strawberry.federation.type(keys=["sku"])
class Product:
    sku: str
    brand: str
    doc: strawberry.Private[Document]

    @classmethod
    def from_document(cls, doc: Document) -> Product:
        return cls(sku=doc["sku"], brand=doc.get("brand", ""), doc=doc)

    @classmethod
    async def resolve_reference(cls, info: Info, sku: str) -> Product | None:
        document = await info.context.product(sku)
        return cls.from_document(document) if document else None

    @strawberry.field
    def name(self, info: Info, locale: str | None = None) -> str | None:
        context = info.context
        value: str | None = context.locales.pick(
            self.doc.get("name"), context.locales.resolve(locale)
        ).value
        return value

    @strawberry.field
    async def attributes(
        self, info: Info, codes: list[str] | None = None
    ) -> list[ProductAttribute]:
        values = self.doc.get("attributes") or {}
        wanted = [code for code in values if codes is None or code in codes]
        definitions = {
            code: await info.context.catalog.attributes.find_one({"code": code}) for code in wanted
        }
        rows = payloads.attribute_values(self.doc, wanted, definitions, info.context.locales)
        return [ProductAttribute(code=row["code"], value=row["value"]) for row in rows]

    @strawberry.field
    async def hero_image(self, info: Info, channel: str) -> MediaAsset | None:
        context = info.context
        refs = payloads.hero_refs(self.doc)
        assets = await context.assets(refs)
        chosen = payloads.hero(self.doc, assets, context.profile(channel), channel, context.now)
        return (
            MediaAsset(public_id=chosen.public_id, chosen=chosen, channel=channel)
            if chosen
            else None
        )

    @strawberry.field
    async def media_manifest(
        self, info: Info, channel: str, locale: str | None = None
    ) -> MediaManifest:
        context = info.context
        requested = context.locales.resolve(locale)
        assets = await context.assets(payloads.references(self.doc))
        data = payloads.manifest_payload(
            self.doc,
            assets,
            context.profile(channel),
            channel,
            context.urls(channel),
            context.locales,
            requested,
            context.now,
        )
        return MediaManifest(
            channel=data["channel"],
            locale=data["locale"],
            complete=data["complete"],
            slots=[_manifest_slot(s, channel, assets) for s in data["slots"]],
        )

    @strawberry.field
    async def readiness(
        self, info: Info, channel: str, locale: str | None = None
    ) -> ProductReadiness:
        context = info.context
        refs = self.doc.get("media") or []
        assets = await context.assets(refs)
        categories = []
        for slug in self.doc.get("categories") or []:
            category = await context.catalog.categories.find_one({"slug": slug})
            if category is not None:
                categories.append(category)
        definitions = {
            code: await context.catalog.attributes.find_one({"code": code})
            for code in needed_codes(categories)
        }
        result = evaluate(
            self.doc,
            assets=assets,
            categories=categories,
            attributes=definitions,
            channel=channel,
            channels=context.channels,
            locales=context.locales,
            locale=context.locales.resolve(locale) if locale else None,
            now=context.now,
        )
        return ProductReadiness(
            score=result.score,
            ready=result.ready,
            missing_locales=list(result.missing_locales),
            missing_roles=[MediaRole(r) for r in result.missing_roles],
            checks=[
                ReadinessCheck(
                    id=c.id,
                    passed=c.passed,
                    severity=Severity(c.severity),
                    weight=c.weight,
                    message=c.message,
                    hint=c.hint,
                )
                for c in result.checks
            ],
        )

    @strawberry.field
    def variants(self) -> list[ProductVariant]:
        return [
            ProductVariant(
                sku=v["sku"],
                options=[
                    VariantOption(code=o["code"], value=o["value"])
                    for o in payloads.options_payload(v)
                ],
                product_doc=self.doc,
            )
            for v in self.doc.get("variants") or []
        ]

    @strawberry.field
    async def accessories(self, info: Info) -> list[Product]:
        found = []
        for sku in self.doc.get("accessories") or []:
            document = await info.context.product(sku)
            if document is not None:
                found.append(Product.from_document(document))
        return found

    @strawberry.field
    async def bundle_items(self, info: Info) -> list[BundleItem]:
        items = []
        for component in self.doc.get("bundle") or []:
            document = await info.context.product(component["sku"])
            items.append(
                BundleItem(
                    sku=component["sku"],
                    quantity=int(component.get("quantity", 1)),
                    product=Product.from_document(document) if document else None,
                )
            )
        return items


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class ProductEdge:
    cursor: str
    node: Product


@strawberry.type
class ProductConnection:
    edges: list[ProductEdge]
    page_info: PageInfo


@strawberry.type
class Query:
    @strawberry.field
    async def products(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> ProductConnection:
        page = await fetch_page(info.context.catalog, {}, SKU_SORT, first, after)
        edges = [
            ProductEdge(cursor=encode_cursor(SKU_SORT, d), node=Product.from_document(d))
            for d in page.documents
        ]
        return ProductConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field
    async def product(self, info: Info, sku: strawberry.ID) -> Product | None:
        document = await info.context.product(sku)
        return Product.from_document(document) if document else None


naive_schema = strawberry.federation.Schema(query=Query, types=[Product], federation_version="2.11")


@dataclass(frozen=True, slots=True)
class NaiveServices:
    catalog: Catalog
    locales: LocaleResolver
    channels: Channels
    dam: DamClient


class NaiveGraphQL(GraphQL[NaiveContext, None]):
    """Strawberry's stock ASGI handler; a fresh context (clock) per request."""

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> NaiveContext:
        services: NaiveServices = request.state.naive
        return NaiveContext(services.catalog, services.locales, services.channels, services.dam)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_naive_app(
    settings: Settings, dam: DamClient | None = None, *, url_templates: bool = False
) -> Starlette:
    """The naive app; ``dam`` defaults to one building every URL with the SDK (unless
    ``url_templates``) for the Cloudinary the gateway's URLs come from."""
    locales = LocaleResolver(settings.locales, settings.default_locale, settings.fallback_chains)
    channels = load_profiles(settings).channels
    client_dam = dam or command_line_dam(settings, url_templates=url_templates)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        if settings.mongodb_uri is None:
            raise RuntimeError("the naive app needs MONGODB_URI")
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongodb_uri, appname=APP_NAME, tz_aware=True
        )
        try:
            services = NaiveServices(Catalog(client[settings.db]), locales, channels, client_dam)
            yield {"naive": services}
        finally:
            await client.close()

    routes = [
        Route("/graphql", NaiveGraphQL(naive_schema, graphql_ide=None), methods=["GET", "POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.dam = client_dam
    return app


def app_factory() -> Starlette:
    return create_naive_app(load_settings())
