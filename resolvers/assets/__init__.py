"""Media assets: the Cloudinary client, the MongoDB mirror of what Cloudinary knows, and ingest.

Public surface for the rest of the product; ``resolvers.assets.ingest`` (which reads images with
Pillow) is imported on its own by the one command that ingests.
"""

from resolvers.assets.dam import (
    DamBudgetExhaustedError,
    DamClient,
    DamConfig,
    DamUnavailableError,
    UrlTemplate,
)
from resolvers.assets.mirror import AssetByKeyLoader, AssetKey, asset_from_resource, upsert_assets
from resolvers.assets.sync import apply_notification

__all__ = [
    "AssetByKeyLoader",
    "AssetKey",
    "DamBudgetExhaustedError",
    "DamClient",
    "DamConfig",
    "DamUnavailableError",
    "UrlTemplate",
    "apply_notification",
    "asset_from_resource",
    "upsert_assets",
]
