from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry

from resolvers.access import Scope
from resolvers.attributes import effective_attributes
from resolvers.db import Document
from resolvers.errors import BadUserInputError
from resolvers.loaders import object_id
from resolvers.readiness import PRODUCT_FIELDS_READ
from schema.context import Context
from schema.global_ids import from_global_id, to_global_id
from schema.lookahead import Needs, prefetch_products, project_products
from schema.permissions import requires
from schema.reads import SAME_PRODUCTS, Linked, every_role, product_document, reads
from schema.settled import MaybeAwaitable
from schema.types import arguments as args
from schema.types.attribute import ProductAttribute, resolve_attributes
from schema.types.enums import ProductStatus
from schema.types.manifest import (
    HERO,
    SWATCH,
    MediaManifest,
    build_manifest,
    chosen_asset,
    deliverable_media,
    selected_roles,
)
from schema.types.media import MediaAsset
from schema.types.node import Node
from schema.types.readiness import ProductReadiness, resolve_readiness

if TYPE_CHECKING:
    from schema.types.category import Category
    from schema.types.history import ChangeEventConnection
    from schema.types.workflow import ChannelPublishing

Info = strawberry.Info[Context, None]
T = TypeVar("T")
LazyCategory = Annotated["Category", strawberry.lazy("schema.types.category")]
LazyHistory = Annotated["ChangeEventConnection", strawberry.lazy("schema.types.history")]

# Document fields listing the SKUs of linked products.
ACCESSORIES = Linked("accessories")
RELATED = Linked("related")
BUNDLE = Linked("bundle")


def variant_id(product: Document, variant_sku: str) -> str:
    """A variant's global ID: its product's and its own SKU (unique within the product)."""
    return to_global_id("ProductVariant", f"{product['_id']}:{variant_sku}")


@strawberry.type(description="One option value of a variant, e.g. color = red.")
class VariantOption:
    code: str = strawberry.field(description="The option's code, e.g. color or size.")
    value: str = strawberry.field(description="The option's value, e.g. red or M.")


@product_document("_id", "variants")
@strawberry.type(description="A purchasable variant of a product, e.g. one colour in one size.")
class ProductVariant(Node):
    sku: str = strawberry.field(description="The variant's SKU.")
    options: list[VariantOption] = strawberry.field(
        description="The options that set this variant apart."
    )
    doc: strawberry.Private[Document]
    product_doc: strawberry.Private[Document]

    @classmethod
    def from_document(cls, doc: Document, product_doc: Document) -> ProductVariant:
        options = [
            VariantOption(code=k, value=str(v)) for k, v in (doc.get("options") or {}).items()
        ]
        return cls(
            id=strawberry.ID(variant_id(product_doc, doc["sku"])),
            sku=doc["sku"],
            options=options,
            doc=doc,
            product_doc=product_doc,
        )

    @strawberry.field(
        graphql_type=list[MediaAsset],
        description="Deliverable media of this variant (its own first, then the product's).",
        metadata=reads(media=selected_roles, fields=["media"]),
    )
    def media(
        self,
        info: Info,
        channel: args.Channel,
        roles: args.MediaRoles = None,
        first: args.MediaFirst = None,
    ) -> MaybeAwaitable[list[MediaAsset]]:
        return deliverable_media(
            info, self.product_doc, channel, roles, first, variant_sku=self.sku
        )

    @strawberry.field(
        graphql_type=MediaAsset | None,
        description="The variant's swatch for the channel's swatch slot, shared by the variants "
        "of its colour: the swatch of its colour (its own first, then one attached to another "
        "variant of that colour), else a front or hero image of its colour, else the slot's "
        "placeholder; null if the channel has no swatch slot.",
        metadata=reads(media=SWATCH.roles, fields=["media", "name"]),
    )
    def swatch(self, info: Info, channel: args.Channel) -> MaybeAwaitable[MediaAsset | None]:
        return chosen_asset(info, self.product_doc, channel, SWATCH, variant_sku=self.sku)

    @strawberry.field(
        graphql_type=list[ProductAttribute],
        description="The product's attributes with this variant's overrides applied.",
        metadata=reads(attributes=True, fields=["attributes"]),
    )
    def attributes(
        self, info: Info, codes: args.AttributeCodes = None
    ) -> MaybeAwaitable[list[ProductAttribute]]:
        values = effective_attributes(
            self.product_doc.get("attributes") or {}, self.doc.get("attributes")
        )
        return resolve_attributes(info, values, codes)


@strawberry.type(description="A component of a bundle.")
class BundleItem:
    sku: str = strawberry.field(description="The component's SKU.")
    quantity: int = strawberry.field(description="How many of it the bundle holds.")
    product: Product | None = strawberry.field(
        description="The component; null when the SKU matches no product (see catalogAudit).",
        metadata=reads(nested=SAME_PRODUCTS),
    )


@product_document(
    "_id", "sku", "status", "brand", "schemaVersion", "createdAt", "updatedAt", every_product=True
)
@strawberry.federation.type(
    keys=["sku", "id"], description="A product of the catalog (a PIM record)."
)
class Product(Node):
    id: strawberry.ID = strawberry.field(
        description="The product's global ID (node(id:), client caches; also a federation key)."
    )
    sku: str = strawberry.field(
        description="The product's SKU, unique in the catalog (the federation key)."
    )
    status: ProductStatus = strawberry.field(description="Draft, published or archived.")
    brand: str = strawberry.field(description="The brand name.")
    schema_version: int = strawberry.field(
        description="Version of the stored document's shape (older ones are upcast on read)."
    )
    created_at: datetime = strawberry.field(description="When the product was created.")
    updated_at: datetime = strawberry.field(description="When the product last changed.")
    doc: strawberry.Private[Document]

    @classmethod
    def from_document(cls, doc: Document) -> Product:
        return cls(
            id=strawberry.ID(to_global_id("Product", str(doc["_id"]))),
            sku=doc["sku"],
            status=ProductStatus(doc.get("status", "draft")),
            brand=doc.get("brand", ""),
            schema_version=int(doc.get("schemaVersion", 1)),
            created_at=doc["createdAt"],
            updated_at=doc["updatedAt"],
            doc=doc,
        )

    @classmethod
    def resolve_reference(
        cls, info: Info, sku: str | None = None, id: strawberry.ID | None = None, **_: Any
    ) -> Awaitable[Product | None]:
        """Federation entry point; batched through the same loaders as every other lookup."""
        for name, value in (("sku", sku), ("id", id)):
            if value is not None and not isinstance(value, str):
                raise BadUserInputError(f"Product representations need a string {name!r}")
        # The load is queued before anything is awaited, so the representations of a request
        # share one batch even when they are awaited one after another.
        return _as_product(_product_document(info, sku=sku, global_id=id))

    @strawberry.field(
        description="1 when the product was created, one more with every write. A product "
        "stored before revisions existed (schemaVersion 1) is at revision 1.",
        metadata=reads(fields=["revision"]),
    )
    def revision(self) -> int:
        # Read lazily: the document is upcast (resolvers/upcasting.py), so it always has one.
        return int(self.doc["revision"])

    @strawberry.field(
        description="Publishing per channel (every channel the key may read, or those named): "
        "state, the revision storefronts read, who approved and published it and when. Needs "
        "catalog:read-drafts.",
        extensions=requires(Scope.CATALOG_READ_DRAFTS),
        metadata=reads(fields=["workflow"]),
    )
    def publishing(
        self,
        info: Info,
        channels: Annotated[
            list[str] | None,
            strawberry.argument(
                description="The channels to show; every channel the key may read when omitted."
            ),
        ] = None,
    ) -> list[Annotated[ChannelPublishing, strawberry.lazy("schema.types.workflow")]] | None:
        from schema.types.workflow import ChannelPublishing

        context = info.context
        names = (
            context.readable_channels()
            if channels is None
            else list(dict.fromkeys(context.channel_name(c) for c in channels))
        )
        return [ChannelPublishing.of(self.doc, name) for name in names]

    @strawberry.field(
        description="The product's change events, newest first: who changed which fields, "
        "from what to what. Needs audit:read. On a page of products, the page's histories are "
        "read in one batch.",
        extensions=requires(Scope.AUDIT_READ),
        metadata=reads(loads_itself=True, fields=["sku"]),
    )
    async def history(
        self, info: Info, first: args.First = 20, after: args.After = None
    ) -> LazyHistory | None:
        from schema.types.history import resolve_product_history

        return await resolve_product_history(info, self.doc["sku"], first, after)

    @strawberry.field(
        description="Name in the locale; see extensions.localeFallbacks.",
        metadata=reads(fields=["name"]),
    )
    def name(self, info: Info, locale: args.Locale = None) -> str | None:
        return info.context.localized(self.doc.get("name"), locale, info.path)  # type: ignore[no-any-return]

    @strawberry.field(
        description="Description in the locale; see extensions.localeFallbacks.",
        metadata=reads(fields=["description"]),
    )
    def description(self, info: Info, locale: args.Locale = None) -> str | None:
        return info.context.localized(self.doc.get("description"), locale, info.path)  # type: ignore[no-any-return]

    @strawberry.field(
        description="The categories the product is in; unknown slugs are left out.",
        metadata=reads(loads_itself=True, fields=["categories"]),
    )
    async def categories(self, info: Info) -> list[LazyCategory]:
        from schema.types.category import Category

        documents = await info.context.loaders.category_by_slug.load_existing(
            self.doc.get("categories") or []
        )
        return [Category.from_document(d) for d in documents]

    @strawberry.field(
        graphql_type=list[ProductAttribute],
        description="Typed attributes; restrict to some codes with 'codes'.",
        metadata=reads(attributes=True, fields=["attributes"]),
    )
    def attributes(
        self, info: Info, codes: args.AttributeCodes = None
    ) -> MaybeAwaitable[list[ProductAttribute]]:
        return resolve_attributes(info, self.doc.get("attributes") or {}, codes)

    @strawberry.field(
        description="The product's variants, in their stored order.",
        metadata=reads(nested=SAME_PRODUCTS, fields=["variants"]),
    )
    def variants(self) -> list[ProductVariant]:
        return [ProductVariant.from_document(v, self.doc) for v in self.doc.get("variants") or []]

    @strawberry.field(
        graphql_type=list[MediaAsset],
        description="Deliverable media for the channel, by position; rejected, expired and "
        "unlicensed assets are left out.",
        metadata=reads(media=selected_roles, fields=["media"]),
    )
    def media(
        self,
        info: Info,
        channel: args.Channel,
        roles: args.MediaRoles = None,
        first: args.MediaFirst = None,
    ) -> MaybeAwaitable[list[MediaAsset]]:
        return deliverable_media(info, self.doc, channel, roles, first)

    @strawberry.field(
        graphql_type=MediaAsset | None,
        description="What fills the channel's hero slot (its slot named 'hero', else its first "
        "slot that prefers the HERO role), chosen exactly as mediaManifest fills that slot: the "
        "first deliverable asset in the slot's role order, else the slot's placeholder; null if "
        "the channel has no such slot. url(slot:) renders this asset in any slot; what each "
        "slot shows is in mediaManifest.",
        metadata=reads(media=HERO.roles, fields=["media", "name"]),
    )
    def hero_image(self, info: Info, channel: args.Channel) -> MaybeAwaitable[MediaAsset | None]:
        return chosen_asset(info, self.doc, channel, HERO)

    @strawberry.field(
        graphql_type=MediaManifest,
        description="Every slot of the channel filled: asset, URL, size, format and alt text, "
        "with whether a fallback or a placeholder was used and why.",
        metadata=reads(media=every_role, fields=["media", "name"]),
    )
    def media_manifest(
        self, info: Info, channel: args.Channel, locale: args.Locale = None
    ) -> MaybeAwaitable[MediaManifest]:
        return build_manifest(info, self.doc, channel, locale)

    @strawberry.field(
        graphql_type=ProductReadiness,
        description="Readiness for the channel (all its locales, or one): score, verdict, and "
        "every check with its message and fix hint. Computed live; filters and sorts use the "
        "stored copy.",
        metadata=reads(
            media=every_role,
            categories=True,
            attributes=True,
            fields=PRODUCT_FIELDS_READ,
            by_content=True,
        ),
    )
    def readiness(
        self, info: Info, channel: args.Channel, locale: args.Locale = None
    ) -> MaybeAwaitable[ProductReadiness]:
        return resolve_readiness(info, self.doc, channel, locale)

    @strawberry.field(
        graphql_type=list["Product"],
        description="Accessories; SKUs that match no product are left out.",
        metadata=reads(nested=ACCESSORIES, fields=[ACCESSORIES.field]),
    )
    def accessories(self, info: Info) -> MaybeAwaitable[list[Product]]:
        return _products_by_sku(info, self.doc.get(ACCESSORIES.field) or [])

    @strawberry.field(
        graphql_type=list["Product"],
        description="Related products; SKUs that match no product are left out.",
        metadata=reads(nested=RELATED, fields=[RELATED.field]),
    )
    def related(self, info: Info) -> MaybeAwaitable[list[Product]]:
        return _products_by_sku(info, self.doc.get(RELATED.field) or [])

    @strawberry.field(
        graphql_type=list[BundleItem],
        description="Components of a bundle with their quantities.",
        metadata=reads(nested=BUNDLE, fields=[BUNDLE.field]),
    )
    def bundle_items(self, info: Info) -> MaybeAwaitable[list[BundleItem]]:
        components = self.doc.get(BUNDLE.field) or []
        skus = [c["sku"] for c in components]

        def items(documents: list[Document | None]) -> list[BundleItem]:
            return [
                BundleItem(
                    sku=c["sku"],
                    quantity=int(c.get("quantity", 1)),
                    product=Product.from_document(d) if d else None,
                )
                for c, d in zip(components, documents, strict=True)
            ]

        loaded = info.context.loaders.product_by_sku.peek_many(skus)
        if loaded is not None:  # prefetched with the page
            return items(loaded)
        return _load_then(info, skus, items)


def _products_by_sku(info: Info, skus: list[str]) -> MaybeAwaitable[list[Product]]:
    def products(documents: list[Document | None]) -> list[Product]:
        return [Product.from_document(d) for d in documents if d is not None]

    loaded = info.context.loaders.product_by_sku.peek_many(skus)
    if loaded is not None:  # prefetched with the page
        return products(loaded)
    return _load_then(info, skus, products)


async def _load_then(info: Info, skus: list[str], build: Callable[[list[Document | None]], T]) -> T:
    """Linked products not prefetched with their page: load them, then prefetch for them."""
    documents = await info.context.loaders.product_by_sku.load_many(skus)
    found = [d for d in documents if d is not None]
    await prefetch_products(info, found, Needs.of(info))
    return build(documents)


async def load_product(
    info: Info, *, sku: str | None = None, global_id: str | None = None
) -> Product | None:
    """A product by SKU or by global ID through the request's loaders."""
    return await _as_product(_product_document(info, sku=sku, global_id=global_id))


def _product_document(
    info: Info, *, sku: str | None = None, global_id: str | None = None
) -> Awaitable[Document | None] | None:
    """The loader's future for a product, queued now so that a batch of callers shares a query."""
    project_products(info)
    loaders = info.context.loaders
    if sku is not None:
        return loaders.product_by_sku.load(sku)
    if global_id is not None:
        type_name, key = from_global_id(global_id)
        oid = object_id(key)
        if type_name == "Product" and oid is not None:
            return loaders.product_by_id.load(oid)
    return None


async def _as_product(document: Awaitable[Document | None] | None) -> Product | None:
    found = await document if document is not None else None
    return Product.from_document(found) if found else None
