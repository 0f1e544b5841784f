"""``Query.catalogAudit``: the audit report (resolvers.audit) in GraphQL.

The report's dataclasses are the only description of its shape: each type here is derived from
one of them (:mod:`schema.types.derived`), adding only the GraphQL name and descriptions, and the
resolver returns the report itself. Every ``{ total examples }`` section is ``audit.Section``
derived for its kind of example.
"""

from __future__ import annotations

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
    docs={"product_sku": "The SKU of the product owning this SKU."},
)
AuditSkuGroup = _types.object_type(
    audit.DuplicateSku,
    "AuditSkuGroup",
    description="SKUs equal after upper-casing and dropping spaces, - and _.",
)
AuditDuplicateSkus = _types.object_type(
    audit.Section[audit.DuplicateSku],
    "AuditDuplicateSkus",
    docs={"total": "Groups of colliding SKUs."},
)

AuditNamedProduct = _types.object_type(audit.NamedProduct, "AuditNamedProduct")
AuditNameGroup = _types.object_type(
    audit.DuplicateName,
    "AuditNameGroup",
    description="Products of one brand whose names in one locale are equal after case folding "
    "and collapsing whitespace, - and _.",
)
AuditDuplicateNames = _types.object_type(
    audit.Section[audit.DuplicateName],
    "AuditDuplicateNames",
    docs={"total": "Groups of near-duplicate names."},
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
        "rate": "filled / scope; null for an empty scope.",
    },
)
AuditFillRates = _types.object_type(
    audit.FillRates,
    "AuditFillRates",
    fields=("total", "products", "rates", "always_blank", "unused_attributes"),
    docs={
        "total": "Fields that are always blank.",
        "rates": "Every field and locale.",
        "unused_attributes": "Defined attributes that no product carries or requires.",
    },
)

AuditLocaleGap = _types.object_type(audit.LocaleGap, "AuditLocaleGap")
AuditMissingRequired = _types.object_type(
    audit.MissingRequired,
    "AuditMissingRequired",
    docs={
        "missing": "Required codes blank in every locale.",
        "untranslated": "Required localized codes blank in some locales.",
    },
)
AuditMissingRequiredAttributes = _types.object_type(
    audit.Section[audit.MissingRequired],
    "AuditMissingRequiredAttributes",
    docs={"total": "(product, category) pairs with gaps."},
)

AuditAsset = _types.object_type(
    audit.AssetRef,
    "AuditAsset",
    description="An asset record of the Cloudinary mirror.",
    docs={"sku": "The product the asset claims to belong to."},
)
AuditOrphanedAssets = _types.object_type(
    audit.Section[audit.AssetRef],
    "AuditOrphanedAssets",
    docs={"total": "Live assets no product or channel uses."},
)

AuditMissingAssetReference = _types.object_type(
    audit.MissingAssetReference,
    "AuditMissingAssetReference",
    docs={"status": 'Of the mirror record: "missing", "deleted", or "absent" without one.'},
)
AuditMissingAssetReferences = _types.object_type(
    audit.Section[audit.MissingAssetReference],
    "AuditMissingAssetReferences",
    docs={"total": "Media references without a live asset."},
)

AuditMissingProductReference = _types.object_type(
    audit.MissingProductReference,
    "AuditMissingProductReference",
    docs={"field": '"related", "accessories" or "bundle".'},
)
AuditMissingProductReferences = _types.object_type(
    audit.Section[audit.MissingProductReference],
    "AuditMissingProductReferences",
    docs={"total": "References to SKUs no product or variant has."},
)

AuditMediaGroup = _types.object_type(
    audit.DuplicateMedia,
    "AuditMediaGroup",
    description="Live assets that are one picture: one perceptual hash, and fingerprints of the "
    "same picture where the gateway has them (see docs/audit.md).",
)
AuditDuplicateMedia = _types.object_type(
    audit.Section[audit.DuplicateMedia],
    "AuditDuplicateMedia",
    docs={"total": "Groups of assets that are one picture."},
)


def _total_seconds(root: audit.AuditReport) -> float:
    return root.seconds["total"]


CatalogAudit = _types.object_type(
    audit.AuditReport,
    "CatalogAudit",
    description="Data-quality findings over the whole catalog. Each section has its total and "
    "its first 'limit' examples.",
    fields=("locales", *audit.SECTIONS, "seconds"),
    computed={
        "seconds": strawberry.field(resolver=_total_seconds, description="How long the audit took.")
    },
)


async def resolve_catalog_audit(info: Info, limit: int | None = DEFAULT_LIMIT) -> audit.AuditReport:
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
