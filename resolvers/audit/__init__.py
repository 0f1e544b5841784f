"""The catalog audit: data-quality findings computed by MongoDB aggregations.

Every section is one aggregation (plus, for a few examples, an indexed lookup of details), so
the work scales with the server, not with Python loops over documents; Python only reshapes the
small grouped results. Sections are independent and run concurrently (:func:`run_audit`).

One module per section, each with its result types and its definitions, chosen so that each
number has one meaning:

* :mod:`~resolvers.audit.skus`: duplicate SKUs;
* :mod:`~resolvers.audit.names`: near-duplicate names;
* :mod:`~resolvers.audit.fill`: fill rates and always-blank fields;
* :mod:`~resolvers.audit.required`: missing required attributes;
* :mod:`~resolvers.audit.asset_links`: orphaned assets and references to missing assets;
* :mod:`~resolvers.audit.product_links`: references to missing products;
* :mod:`~resolvers.audit.phashes`: duplicate media.

Shared by them: :mod:`~resolvers.audit.expressions` (SKU and name normal forms, blank, locale
filled), :mod:`~resolvers.audit.pipeline` (the ``{total, examples}`` :class:`Section`, running
aggregations) and :mod:`~resolvers.audit.taxonomy` (required attributes, definitions).
:mod:`~resolvers.audit.report` runs them all.

The result types are frozen dataclasses and the only description of the report's shape: the
GraphQL types (``schema.types.audit``) and the CLI's JSON (``gateway.cli.audit``) are derived
from them.
"""

from resolvers.audit.asset_links import (
    AssetRef,
    MissingAssetReference,
    media_links,
    missing_asset_references,
    orphaned_assets,
)
from resolvers.audit.fill import FillRate, FillRates, fill_rates
from resolvers.audit.names import DuplicateName, NamedProduct, duplicate_names
from resolvers.audit.phashes import DuplicateMedia, duplicate_media
from resolvers.audit.pipeline import Section
from resolvers.audit.product_links import MissingProductReference, missing_product_references
from resolvers.audit.report import (
    MAX_LIMIT,
    SECTIONS,
    AuditReport,
    audit_fallbacks,
    configured_asset_ids,
    run_audit,
)
from resolvers.audit.required import LocaleGap, MissingRequired, missing_required_attributes
from resolvers.audit.skus import DuplicateSku, SkuOccurrence, duplicate_skus

__all__ = [
    "MAX_LIMIT",
    "SECTIONS",
    "AssetRef",
    "AuditReport",
    "DuplicateMedia",
    "DuplicateName",
    "DuplicateSku",
    "FillRate",
    "FillRates",
    "LocaleGap",
    "MissingAssetReference",
    "MissingProductReference",
    "MissingRequired",
    "NamedProduct",
    "Section",
    "SkuOccurrence",
    "audit_fallbacks",
    "configured_asset_ids",
    "duplicate_media",
    "duplicate_names",
    "duplicate_skus",
    "fill_rates",
    "media_links",
    "missing_asset_references",
    "missing_product_references",
    "missing_required_attributes",
    "orphaned_assets",
    "run_audit",
]
