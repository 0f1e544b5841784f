"""Shapes of the MongoDB documents (the PIM store), shared by the loaders, the seed and the API.

Localized text is a map from BCP 47 tag to text: ``{"en-US": "Trail Shoe", "de-DE": "Laufschuh"}``.
Products reference categories by slug and other products by SKU, so documents stay readable and
imports need no id lookups.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, NotRequired, TypedDict

from bson import ObjectId

# The shape of product documents this code writes; resolvers/upcasting.py reads older ones.
# 1: the first shape. 2: adds ``revision``.
SCHEMA_VERSION = 2

LocalizedText = dict[str, str]
ProductStatus = Literal["draft", "published", "archived"]
AttributeType = Literal["text", "number", "boolean", "enum", "list"]
MediaRole = Literal["hero", "front", "side", "back", "detail", "swatch", "lifestyle", "video"]

PRODUCT_STATUSES: tuple[ProductStatus, ...] = ("draft", "published", "archived")
# The only status a storefront (a principal without catalog:read-drafts) ever sees.
PUBLISHED: ProductStatus = "published"
ATTRIBUTE_TYPES: tuple[AttributeType, ...] = ("text", "number", "boolean", "enum", "list")
MEDIA_ROLES: tuple[MediaRole, ...] = (
    "hero",
    "front",
    "side",
    "back",
    "detail",
    "swatch",
    "lifestyle",
    "video",
)


class AttributeDefinitionDocument(TypedDict):
    """``attributes`` collection: what an attribute code means."""

    _id: NotRequired[ObjectId]
    code: str
    type: AttributeType
    label: LocalizedText
    localizable: bool  # only text and list values are localizable
    unit: NotRequired[str]  # default unit of number attributes
    options: NotRequired[list[str]]  # allowed values of enum and list attributes


class AttributeValue(TypedDict):
    """One attribute value on a product or variant.

    ``value`` is typed by the definition: str (text, enum), float/int (number), bool (boolean),
    list[str] (list); a localizable attribute stores ``{locale: str}`` or ``{locale: [str]}``.
    """

    value: Any
    unit: NotRequired[str]


class VariantDocument(TypedDict):
    sku: str
    options: dict[str, str]  # option code → value, e.g. {"color": "red", "size": "M"}
    attributes: NotRequired[dict[str, AttributeValue]]  # overrides of the product's attributes


class BundleComponent(TypedDict):
    sku: str
    quantity: int


class MediaReference(TypedDict):
    publicId: str  # Cloudinary public id, "catalog/{sku}/{role}-{n}"
    role: MediaRole
    position: int
    variantSku: NotRequired[str]


class ProductDocument(TypedDict):
    _id: NotRequired[ObjectId]
    sku: str
    status: ProductStatus
    brand: str
    name: LocalizedText
    description: LocalizedText
    categories: list[str]  # category slugs
    attributes: dict[str, AttributeValue]  # keyed by attribute code
    variants: list[VariantDocument]
    accessories: list[str]  # product SKUs
    bundle: list[BundleComponent]
    related: list[str]  # product SKUs
    media: list[MediaReference]
    schemaVersion: int
    revision: int  # 1 when created, +1 per write (v2; a v1 document reads as revision 1)
    createdAt: datetime
    updatedAt: datetime


class CategoryDocument(TypedDict):
    _id: NotRequired[ObjectId]
    slug: str
    name: LocalizedText
    parent: str | None  # parent slug
    ancestors: list[str]  # slugs from the root down to the parent
    position: int
    requiredAttributes: list[str]  # attribute codes a product in this category must fill
