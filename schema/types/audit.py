"""``Query.catalogAudit``: the audit report (resolvers.audit) as typed sections."""

from __future__ import annotations

import strawberry

from resolvers import audit
from resolvers.errors import BadUserInputError
from schema.context import Context

Info = strawberry.Info[Context, None]

DEFAULT_LIMIT = 20


@strawberry.type(description="A product or variant SKU in a group of colliding SKUs.")
class AuditSkuOccurrence:
    sku: str
    product_sku: str = strawberry.field(description="The SKU of the product owning this SKU.")
    variant: bool


@strawberry.type(description="SKUs equal after upper-casing and dropping spaces, - and _.")
class AuditSkuGroup:
    normalized: str
    occurrences: list[AuditSkuOccurrence]


@strawberry.type
class AuditDuplicateSkus:
    total: int = strawberry.field(description="Groups of colliding SKUs.")
    examples: list[AuditSkuGroup]


@strawberry.type
class AuditNamedProduct:
    sku: str
    name: str


@strawberry.type(
    description="Products of one brand whose names in one locale are equal after case folding "
    "and collapsing whitespace, - and _."
)
class AuditNameGroup:
    brand: str
    locale: str
    normalized: str
    products: list[AuditNamedProduct]


@strawberry.type
class AuditDuplicateNames:
    total: int = strawberry.field(description="Groups of near-duplicate names.")
    examples: list[AuditNameGroup]


@strawberry.type(description="How many products in scope have a non-blank value.")
class AuditFillRate:
    field: str = strawberry.field(description='"name", "description" or "attributes.<code>".')
    locale: str | None = strawberry.field(description="Null for values that are not localized.")
    scope: int = strawberry.field(
        description="Products concerned: all for name and description; for an attribute, those "
        "carrying it or listed in a category requiring it."
    )
    filled: int
    rate: float | None = strawberry.field(description="filled / scope; null for an empty scope.")


@strawberry.type
class AuditFillRates:
    total: int = strawberry.field(description="Fields that are always blank.")
    products: int
    rates: list[AuditFillRate] = strawberry.field(description="Every field and locale.")
    always_blank: list[AuditFillRate]
    unused_attributes: list[str] = strawberry.field(
        description="Defined attributes that no product carries or requires."
    )


@strawberry.type
class AuditLocaleGap:
    code: str
    locales: list[str]


@strawberry.type
class AuditMissingRequired:
    sku: str
    category: str
    missing: list[str] = strawberry.field(description="Required codes blank in every locale.")
    untranslated: list[AuditLocaleGap] = strawberry.field(
        description="Required localized codes blank in some locales."
    )


@strawberry.type
class AuditMissingRequiredAttributes:
    total: int = strawberry.field(description="(product, category) pairs with gaps.")
    examples: list[AuditMissingRequired]


@strawberry.type(description="An asset record of the Cloudinary mirror.")
class AuditAsset:
    public_id: str
    resource_type: str
    status: str
    sku: str | None = strawberry.field(description="The product the asset claims to belong to.")


@strawberry.type
class AuditOrphanedAssets:
    total: int = strawberry.field(description="Live assets no product or channel uses.")
    examples: list[AuditAsset]


@strawberry.type
class AuditMissingAssetReference:
    sku: str
    public_id: str
    role: str
    resource_type: str
    status: str = strawberry.field(
        description='Of the mirror record: "missing", "deleted", or "absent" without one.'
    )


@strawberry.type
class AuditMissingAssetReferences:
    total: int = strawberry.field(description="Media references without a live asset.")
    examples: list[AuditMissingAssetReference]


@strawberry.type
class AuditMissingProductReference:
    sku: str
    field: str = strawberry.field(description='"related", "accessories" or "bundle".')
    missing_sku: str


@strawberry.type
class AuditMissingProductReferences:
    total: int = strawberry.field(description="References to SKUs no product or variant has.")
    examples: list[AuditMissingProductReference]


@strawberry.type(description="Live assets sharing one perceptual hash.")
class AuditMediaGroup:
    phash: str
    assets: list[AuditAsset]


@strawberry.type
class AuditDuplicateMedia:
    total: int = strawberry.field(description="Groups of assets with equal phash.")
    examples: list[AuditMediaGroup]


@strawberry.type(
    description="Data-quality findings over the whole catalog. Each section has its total and "
    "its first 'limit' examples."
)
class CatalogAudit:
    locales: list[str]
    duplicate_skus: AuditDuplicateSkus
    duplicate_names: AuditDuplicateNames
    fill_rates: AuditFillRates
    missing_required_attributes: AuditMissingRequiredAttributes
    orphaned_assets: AuditOrphanedAssets
    missing_asset_references: AuditMissingAssetReferences
    missing_product_references: AuditMissingProductReferences
    duplicate_media: AuditDuplicateMedia
    seconds: float = strawberry.field(description="How long the audit took.")

    @classmethod
    def from_report(cls, report: audit.AuditReport) -> CatalogAudit:
        return cls(
            locales=list(report.locales),
            duplicate_skus=AuditDuplicateSkus(
                total=report.duplicate_skus.total,
                examples=[
                    AuditSkuGroup(
                        normalized=group.normalized,
                        occurrences=[
                            AuditSkuOccurrence(
                                sku=o.sku, product_sku=o.product_sku, variant=o.variant
                            )
                            for o in group.occurrences
                        ],
                    )
                    for group in report.duplicate_skus.examples
                ],
            ),
            duplicate_names=AuditDuplicateNames(
                total=report.duplicate_names.total,
                examples=[
                    AuditNameGroup(
                        brand=group.brand,
                        locale=group.locale,
                        normalized=group.normalized,
                        products=[
                            AuditNamedProduct(sku=p.sku, name=p.name) for p in group.products
                        ],
                    )
                    for group in report.duplicate_names.examples
                ],
            ),
            fill_rates=AuditFillRates(
                total=report.fill_rates.total,
                products=report.fill_rates.products,
                rates=[_fill_rate(rate) for rate in report.fill_rates.rates],
                always_blank=[_fill_rate(rate) for rate in report.fill_rates.always_blank],
                unused_attributes=list(report.fill_rates.unused_attributes),
            ),
            missing_required_attributes=AuditMissingRequiredAttributes(
                total=report.missing_required_attributes.total,
                examples=[
                    AuditMissingRequired(
                        sku=row.sku,
                        category=row.category,
                        missing=list(row.missing),
                        untranslated=[
                            AuditLocaleGap(code=gap.code, locales=list(gap.locales))
                            for gap in row.untranslated
                        ],
                    )
                    for row in report.missing_required_attributes.examples
                ],
            ),
            orphaned_assets=AuditOrphanedAssets(
                total=report.orphaned_assets.total,
                examples=[_asset(asset) for asset in report.orphaned_assets.examples],
            ),
            missing_asset_references=AuditMissingAssetReferences(
                total=report.missing_asset_references.total,
                examples=[
                    AuditMissingAssetReference(
                        sku=ref.sku,
                        public_id=ref.public_id,
                        role=ref.role,
                        resource_type=ref.resource_type,
                        status=ref.status,
                    )
                    for ref in report.missing_asset_references.examples
                ],
            ),
            missing_product_references=AuditMissingProductReferences(
                total=report.missing_product_references.total,
                examples=[
                    AuditMissingProductReference(
                        sku=ref.sku, field=ref.field, missing_sku=ref.missing_sku
                    )
                    for ref in report.missing_product_references.examples
                ],
            ),
            duplicate_media=AuditDuplicateMedia(
                total=report.duplicate_media.total,
                examples=[
                    AuditMediaGroup(phash=group.phash, assets=[_asset(a) for a in group.assets])
                    for group in report.duplicate_media.examples
                ],
            ),
            seconds=report.seconds["total"],
        )


def _fill_rate(rate: audit.FillRate) -> AuditFillRate:
    return AuditFillRate(
        field=rate.field, locale=rate.locale, scope=rate.scope, filled=rate.filled, rate=rate.rate
    )


def _asset(asset: audit.AssetRef) -> AuditAsset:
    return AuditAsset(
        public_id=asset.public_id,
        resource_type=asset.resource_type,
        status=asset.status,
        sku=asset.sku,
    )


async def resolve_catalog_audit(info: Info, limit: int | None = DEFAULT_LIMIT) -> CatalogAudit:
    """The audit in the gateway's configured locales, fallbacks and channel placeholders;
    ``limit`` (examples per section) null means the default."""
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 0 <= limit <= audit.MAX_LIMIT:
        raise BadUserInputError(
            f"'limit' must be between 0 and {audit.MAX_LIMIT}, got {limit}", argumentName="limit"
        )
    services = info.context.services
    report = await audit.run_audit(
        services.catalog,
        locales=services.locales.locales,
        limit=limit,
        fallbacks=audit.audit_fallbacks(services.locales),
        linked=audit.placeholder_ids(services.channels),
    )
    return CatalogAudit.from_report(report)
