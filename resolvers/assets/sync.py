"""Applying Cloudinary notifications to the asset mirror."""

from __future__ import annotations

import logging
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from resolvers.assets.dam import DamClient
from resolvers.assets.mirror import AssetKey, asset_from_resource, mark_deleted, upsert_assets
from resolvers.assets.notifications import (
    ChangeNotification,
    DeleteNotification,
    Notification,
    RenameNotification,
    UploadNotification,
)
from resolvers.db import Catalog, Collection

log = logging.getLogger(__name__)


async def apply_notification(
    catalog: Catalog, dam: DamClient, notification: Notification, now: datetime
) -> list[str]:
    """Update the mirror from one validated notification; returns the public ids it names."""
    if isinstance(notification, UploadNotification):
        await upsert_assets(
            catalog.assets, [asset_from_resource(notification.resource(), now, "webhook")]
        )
        return [notification.public_id]
    if isinstance(notification, DeleteNotification):
        deletions: dict[AssetKey, int | None] = {
            (r.resource_type, r.public_id): r.version for r in notification.resources
        }
        marked = await mark_deleted(catalog.assets, deletions, now)
        return [public_id for _, public_id in marked]
    if isinstance(notification, RenameNotification):
        resource_type = notification.resource_type
        # A rename carries no version, so the old id's tombstone is unguarded; replays of it
        # are refused by the delivery log (claim_delivery).
        await mark_deleted(
            catalog.assets, {(resource_type, notification.from_public_id): None}, now
        )
        resources = await dam.resources_by_ids([notification.to_public_id], resource_type)
        await upsert_assets(
            catalog.assets, [asset_from_resource(r, now, "webhook") for r in resources]
        )
        return [notification.from_public_id, notification.to_public_id]
    return await _reread(catalog, dam, notification, now)


async def _reread(
    catalog: Catalog, dam: DamClient, notification: ChangeNotification, now: datetime
) -> list[str]:
    # Change notifications carry only the difference: read the whole record back.
    by_type: dict[str, list[str]] = {}
    for resource in notification.resources:
        by_type.setdefault(resource.resource_type, []).append(resource.public_id)
    documents = []
    for resource_type, public_ids in by_type.items():
        resources = await dam.resources_by_ids(list(dict.fromkeys(public_ids)), resource_type)
        documents += [asset_from_resource(r, now, "webhook") for r in resources]
    await upsert_assets(catalog.assets, documents)
    return [d["publicId"] for d in documents]


async def claim_delivery(
    deliveries: Collection, key: str, kind: str, now: datetime, expires_at: datetime
) -> bool:
    """True for the first delivery with this key; False for a replay, on any replica.

    The key is ``_id``, unique by nature, so two replicas receiving the same delivery at once
    cannot both claim it. A TTL index drops the record once its signature has expired anyway.
    """
    try:
        await deliveries.insert_one(
            {"_id": key, "type": kind, "receivedAt": now, "expiresAt": expires_at}
        )
    except DuplicateKeyError:
        return False
    return True


async def release_delivery(deliveries: Collection, key: str) -> None:
    """Forget a delivery that was not applied, so that Cloudinary's retry of it is."""
    await deliveries.delete_one({"_id": key})
