"""Applying Cloudinary notifications to the asset mirror."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Literal

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


DeliveryClaim = Literal["claimed", "applied", "busy"]
# How long a replica applying a notification holds it: past that, its claim is taken to have
# died with it (a failure it could not even record), and a redelivery applies it again.
APPLY_HOLD = timedelta(seconds=60)


async def claim_delivery(
    deliveries: Collection, key: str, kind: str, now: datetime, expires_at: datetime
) -> DeliveryClaim:
    """``claimed`` for the first delivery with this key (or one whose applier died);
    ``applied`` for a replay of one applied already; ``busy`` while another replica applies it.

    The key is ``_id``, unique by nature, so two replicas receiving the same delivery at once
    cannot both claim it. A TTL index drops the record once its signature has expired anyway.
    A claim is ``applied`` only once ``complete_delivery`` says so: a delivery whose applying
    failed, even where recording the failure failed too (an election), is applied again by
    Cloudinary's next retry, never answered as a duplicate.
    """
    try:
        await deliveries.insert_one(
            {
                "_id": key,
                "type": kind,
                "receivedAt": now,
                "expiresAt": expires_at,
                "state": "applying",
                "heldUntil": now + APPLY_HOLD,
            }
        )
    except DuplicateKeyError:
        pass
    else:
        return "claimed"
    taken = await deliveries.find_one_and_update(
        {"_id": key, "state": "applying", "heldUntil": {"$lte": now}},
        {"$set": {"heldUntil": now + APPLY_HOLD, "receivedAt": now}},
    )
    if taken is not None:
        return "claimed"
    found = await deliveries.find_one({"_id": key}, {"state": 1})
    # Records from before states were kept were written once applied.
    return "busy" if found is not None and found.get("state") == "applying" else "applied"


async def complete_delivery(deliveries: Collection, key: str) -> None:
    """The delivery is applied, rescoring included: its replays are duplicates from now on."""
    await deliveries.update_one({"_id": key}, {"$set": {"state": "applied"}})


async def release_delivery(deliveries: Collection, key: str) -> None:
    """Forget a delivery that was not applied, so that Cloudinary's retry of it is."""
    await deliveries.delete_one({"_id": key})
