"""Applying Cloudinary notifications to the asset mirror."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from resolvers.assets.dam import DamClient
from resolvers.assets.mirror import asset_from_resource, mark_missing, upsert_assets
from resolvers.db import Catalog

log = logging.getLogger(__name__)

CHANGE_NOTIFICATIONS = {
    "resource_tags_changed",
    "resource_context_changed",
    "resource_metadata_changed",
    "resource_display_name_changed",
}


def _resources(payload: dict[str, Any]) -> list[dict[str, Any]]:
    resources = payload.get("resources") or []
    if isinstance(resources, dict):  # context and metadata notifications key by public id
        return [{"public_id": key, **value} for key, value in resources.items()]
    return [r for r in resources if isinstance(r, dict) and r.get("public_id")]


async def apply_notification(
    catalog: Catalog, dam: DamClient, payload: dict[str, Any], now: datetime
) -> list[str]:
    """Update the mirror from one notification; returns the public ids it touched."""
    kind = payload.get("notification_type")
    if kind == "upload" and payload.get("public_id"):
        await upsert_assets(catalog.assets, [asset_from_resource(payload, now, "webhook")])
        return [payload["public_id"]]
    if kind == "delete":
        resources = _resources(payload)
        keys = [(r.get("resource_type", "image"), r["public_id"]) for r in resources]
        versions = {
            key: int(r["version"])
            for key, r in zip(keys, resources, strict=True)
            if isinstance(r.get("version"), int)
        }
        await mark_missing(catalog.assets, keys, now, status="deleted", versions=versions)
        return [public_id for _, public_id in keys]
    if kind == "rename" and payload.get("from_public_id") and payload.get("to_public_id"):
        resource_type = payload.get("resource_type", "image")
        await mark_missing(
            catalog.assets, [(resource_type, payload["from_public_id"])], now, status="deleted"
        )
        resources = await dam.resources_by_ids([payload["to_public_id"]], resource_type)
        await upsert_assets(
            catalog.assets, [asset_from_resource(r, now, "webhook") for r in resources]
        )
        return [payload["from_public_id"], payload["to_public_id"]]
    if kind in CHANGE_NOTIFICATIONS:
        # Change notifications carry only the difference: read the whole record back.
        by_type: dict[str, list[str]] = {}
        for resource in _resources(payload):
            by_type.setdefault(resource.get("resource_type", "image"), []).append(
                resource["public_id"]
            )
        documents = []
        for resource_type, public_ids in by_type.items():
            resources = await dam.resources_by_ids(public_ids, resource_type)
            documents += [asset_from_resource(r, now, "webhook") for r in resources]
        await upsert_assets(catalog.assets, documents)
        return [d["publicId"] for d in documents]
    log.info("ignoring Cloudinary notification of type %r", kind)
    return []
