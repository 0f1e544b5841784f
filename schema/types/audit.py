"""``Query.catalogAudit``: the audit report (resolvers.audit) in GraphQL.

The report's dataclasses are the only description of its shape: each type here is derived from
one of them (:mod:`schema.types.derived`), adding only the GraphQL name and descriptions, and the
resolver returns the report itself. Every ``{ total examples }`` section is ``audit.Section``
derived for its kind of example.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import audit
from resolvers.audit.shared import shared_audit
from resolvers.errors import BadUserInputError
from schema.context import Context
from schema.types.derived import DerivedTypes

Info = strawberry.Info[Context, None]

DEFAULT_LIMIT = 20

_types = DerivedTypes()

AuditSkuOccurrence = _types.object_type(
    audit.SkuOccurrence,
    "AuditSkuOccurrence",
    description="A product or variant SKU in a group of colliding SKUs.",
    docs={
        "sku": "The SKU as written.",
        "product_sku": "The SKU of the product owning this SKU.",
        "variant": "A variant's SKU (false: a product's).",
    },
)
AuditSkuGroup = _types.object_type(
    audit.DuplicateSku,
    "AuditSkuGroup",
    description="SKUs equal after upper-casing and dropping spaces, - and _.",
    docs={
        "normalized": "The SKU they share once normalized.",
        "occurrences": "Each SKU of the group.",
    },
)
AuditDuplicateSkus = _types.object_type(
    audit.Section[audit.DuplicateSku],
    "AuditDuplicateSkus",
    description="Product and variant SKUs that collide once normalized.",
    docs={"total": "Groups of colliding SKUs.", "examples": "The first groups."},
)

AuditNamedProduct = _types.object_type(
    audit.NamedProduct,
    "AuditNamedProduct",
    description="A product of a group of near-duplicate names.",
    docs={"sku": "The product's SKU.", "name": "Its name in the group's locale."},
)
AuditNameGroup = _types.object_type(
    audit.DuplicateName,
    "AuditNameGroup",
    description="Products of one brand whose names in one locale are equal after case folding "
    "and collapsing whitespace, - and _.",
    docs={
        "brand": "The brand the products share.",
        "locale": "The locale of the names compared.",
        "normalized": "The name they share once normalized.",
        "products": "The products of the group.",
    },
)
AuditDuplicateNames = _types.object_type(
    audit.Section[audit.DuplicateName],
    "AuditDuplicateNames",
    description="Products of one brand with near-duplicate names.",
    docs={"total": "Groups of near-duplicate names.", "examples": "The first groups."},
)

AuditFillRate = _types.object_type(
    audit.FillRate,
    "AuditFillRate",
    description="How many products in scope have a non-blank value.",
    docs={
        "field": '"name", "description" or "attributes.<code>".',
        "locale": "Null for values that are not localized.",
        "scope": "Products concerned: all for name and description; for an attribute, those "
        "carrying it or listed in a category requiring it.",
        "filled": "Products in scope with a non-blank value.",
        "rate": "filled / scope; null for an empty scope.",
    },
)
AuditFillRates = _types.object_type(
    audit.FillRates,
    "AuditFillRates",
    description="How often each field is filled, per locale.",
    fields=("total", "products", "rates", "always_blank", "unused_attributes"),
    docs={
        "total": "Fields that are always blank.",
        "products": "Products in the catalog.",
        "always_blank": "The fields no product in scope fills.",
        "rates": "Every field and locale.",
        "unused_attributes": "Defined attributes that no product carries or requires.",
    },
)

AuditLocaleGap = _types.object_type(
    audit.LocaleGap,
    "AuditLocaleGap",
    description="A required localized attribute filled in some locales but not in these.",
    docs={"code": "The attribute's code.", "locales": "The locales where it is blank."},
)
AuditMissingRequired = _types.object_type(
    audit.MissingRequired,
    "AuditMissingRequired",
    description="A product lacking attributes one of its categories requires.",
    docs={
        "sku": "The product's SKU.",
        "category": "The slug of the category requiring them.",
        "missing": "Required codes blank in every locale.",
        "untranslated": "Required localized codes blank in some locales.",
    },
)
AuditMissingRequiredAttributes = _types.object_type(
    audit.Section[audit.MissingRequired],
    "AuditMissingRequiredAttributes",
    description="Products lacking attributes their categories require.",
    docs={"total": "(product, category) pairs with gaps.", "examples": "The first pairs."},
)

AuditAsset = _types.object_type(
    audit.AssetRef,
    "AuditAsset",
    description="An asset record of the Cloudinary mirror.",
    docs={
        "public_id": "The asset's Cloudinary public ID.",
        "resource_type": '"image" or "video".',
        "status": 'Of the mirror record, e.g. "active".',
        "sku": "The product the asset claims to belong to.",
    },
)
AuditOrphanedAssets = _types.object_type(
    audit.Section[audit.AssetRef],
    "AuditOrphanedAssets",
    description="Live assets that no product or channel uses.",
    docs={"total": "Live assets no product or channel uses.", "examples": "The first ones."},
)

AuditMissingAssetReference = _types.object_type(
    audit.MissingAssetReference,
    "AuditMissingAssetReference",
    description="A product's media reference to an asset that is not live.",
    docs={
        "sku": "The product's SKU.",
        "public_id": "The public ID it references.",
        "role": "The reference's role.",
        "resource_type": '"image" or "video".',
        "status": 'Of the mirror record: "missing", "deleted", or "absent" without one.',
    },
)
AuditMissingAssetReferences = _types.object_type(
    audit.Section[audit.MissingAssetReference],
    "AuditMissingAssetReferences",
    description="Media references without a live asset.",
    docs={"total": "Media references without a live asset.", "examples": "The first ones."},
)

AuditMissingProductReference = _types.object_type(
    audit.MissingProductReference,
    "AuditMissingProductReference",
    description="A product's link to a SKU that no product or variant has.",
    docs={
        "sku": "The linking product's SKU.",
        "field": '"related", "accessories" or "bundle".',
        "missing_sku": "The SKU nothing has.",
    },
)
AuditMissingProductReferences = _types.object_type(
    audit.Section[audit.MissingProductReference],
    "AuditMissingProductReferences",
    description="Links to SKUs that no product or variant has.",
    docs={
        "total": "References to SKUs no product or variant has.",
        "examples": "The first ones.",
    },
)

AuditMediaGroup = _types.object_type(
    audit.DuplicateMedia,
    "AuditMediaGroup",
    description="Live assets that are one picture: one perceptual hash, and fingerprints of the "
    "same picture where the gateway has them (see docs/audit.md).",
    docs={"phash": "The perceptual hash they share.", "assets": "The assets of the group."},
)
AuditDuplicateMedia = _types.object_type(
    audit.Section[audit.DuplicateMedia],
    "AuditDuplicateMedia",
    description="Live assets that are the same picture.",
    docs={"total": "Groups of assets that are one picture.", "examples": "The first groups."},
)


def _total_seconds(root: audit.AuditReport) -> float:
    return root.seconds["total"]


CatalogAudit = _types.object_type(
    audit.AuditReport,
    "CatalogAudit",
    description="Data-quality findings over the whole catalog. Each section has its total and "
    "its first 'limit' examples.",
    fields=("locales", *audit.SECTIONS, "seconds"),
    docs={
        "locales": "The locales the audit checked.",
        "duplicate_skus": "SKUs that collide once normalized.",
        "duplicate_names": "Near-duplicate names within a brand.",
        "fill_rates": "How often each field is filled.",
        "missing_required_attributes": "Attributes categories require that products lack.",
        "orphaned_assets": "Live assets nothing uses.",
        "missing_asset_references": "Media references without a live asset.",
        "missing_product_references": "Links to SKUs nothing has.",
        "duplicate_media": "Assets that are one picture.",
    },
    computed={
        "seconds": strawberry.field(resolver=_total_seconds, description="How long the audit took.")
    },
)


async def resolve_catalog_audit(
    info: Info,
    limit: Annotated[
        int | None,
        strawberry.argument(
            description=f"Examples per section (0 to {audit.MAX_LIMIT}); null: {DEFAULT_LIMIT}."
        ),
    ] = DEFAULT_LIMIT,
) -> audit.AuditReport:
    """The audit in the gateway's configured locales, fallbacks and channel assets;
    ``limit`` (examples per section) null means the default. Run once per request, and shared
    between requests for the dashboards' TTL (:func:`resolvers.audit.shared.shared_audit`).
    Its GraphQL type is :data:`CatalogAudit`."""
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 0 <= limit <= audit.MAX_LIMIT:
        raise BadUserInputError(
            f"'limit' must be between 0 and {audit.MAX_LIMIT}, got {limit}", argumentName="limit"
        )
    services = info.context.services
    computed = await info.context.once(
        "catalogAudit", {"limit": limit}, lambda: shared_audit(services, limit)
    )
    return computed.value
