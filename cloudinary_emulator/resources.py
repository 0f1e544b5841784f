"""Assets rendered as the JSON the Upload and Admin APIs return.

``url`` and ``secure_url`` both point at the emulator itself (plain HTTP unless it is
reached through TLS), so links taken from responses resolve to the emulator's delivery.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from cloudinary_emulator.config import SignatureAlgorithm
from cloudinary_emulator.notifications import iso_time
from cloudinary_emulator.signing import response_signature, smart_escape
from cloudinary_emulator.store import Asset

# Always present in Admin API listings, whatever ``fields`` asks for.
_IDENTITY_FIELDS = ("asset_id", "public_id", "resource_type", "type")


def asset_url(asset: Asset, base_url: str, cloud_name: str) -> str:
    filename = asset.public_id
    if asset.format and asset.resource_type != "raw":
        filename = f"{filename}.{asset.format}"
    return (
        f"{base_url}/{cloud_name}/{asset.resource_type}/{asset.type}/v{asset.version}/"
        f"{smart_escape(filename)}"
    )


def playback_url(asset: Asset, base_url: str, cloud_name: str) -> str:
    return (
        f"{base_url}/{cloud_name}/video/{asset.type}/sp_auto/v{asset.version}/"
        f"{smart_escape(asset.public_id)}.m3u8"
    )


def _base(asset: Asset, base_url: str, cloud_name: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "asset_id": asset.asset_id,
        "public_id": asset.public_id,
    }
    if asset.format and asset.resource_type != "raw":
        body["format"] = asset.format
    body.update(
        {
            "version": asset.version,
            "resource_type": asset.resource_type,
            "type": asset.type,
            "created_at": iso_time(asset.created_at.timestamp()),
            "bytes": asset.size,
        }
    )
    if asset.width is not None and asset.height is not None:
        body["width"] = asset.width
        body["height"] = asset.height
    if asset.duration is not None:
        body["duration"] = asset.duration
    url = asset_url(asset, base_url, cloud_name)
    body.update(
        {
            "asset_folder": asset.asset_folder,
            "display_name": asset.display_name,
            "url": url,
            "secure_url": url,
        }
    )
    return body


def _context_json(asset: Asset) -> dict[str, Any]:
    return {"custom": dict(asset.context)}


def upload_json(
    asset: Asset,
    *,
    base_url: str,
    cloud_name: str,
    api_key: str,
    api_secret: str,
    algorithm: SignatureAlgorithm,
    include_phash: bool,
    existing: bool = False,
) -> dict[str, Any]:
    body = _base(asset, base_url, cloud_name)
    body["version_id"] = asset.version_id
    body["signature"] = response_signature(asset.public_id, asset.version, api_secret, algorithm)
    body["etag"] = asset.etag
    body["placeholder"] = False
    _describe(body, asset, base_url, cloud_name, include_phash)
    if existing:
        body["existing"] = True
    body["original_filename"] = asset.original_filename
    body["api_key"] = api_key
    return body


def detail_json(
    asset: Asset, *, base_url: str, cloud_name: str, include_phash: bool
) -> dict[str, Any]:
    body = _base(asset, base_url, cloud_name)
    _describe(body, asset, base_url, cloud_name, include_phash)
    body["derived"] = []
    return body


def _describe(
    body: dict[str, Any], asset: Asset, base_url: str, cloud_name: str, include_phash: bool
) -> None:
    """Tags, context, metadata, phash and playback URL, as both upload and detail answers carry."""
    body["tags"] = list(asset.tags)
    if asset.context:
        body["context"] = _context_json(asset)
    if asset.metadata:
        body["metadata"] = dict(asset.metadata)
    if include_phash and asset.phash:
        body["phash"] = asset.phash
    if asset.resource_type == "video":
        body["playback_url"] = playback_url(asset, base_url, cloud_name)


def list_json(
    asset: Asset,
    *,
    base_url: str,
    cloud_name: str,
    tags: bool,
    context: bool,
    metadata: bool,
    fields: Collection[str] | None,
) -> dict[str, Any]:
    body = _base(asset, base_url, cloud_name)
    if tags or (fields and "tags" in fields):
        body["tags"] = list(asset.tags)
    if (context or (fields and "context" in fields)) and asset.context:
        body["context"] = _context_json(asset)
    if (metadata or (fields and "metadata" in fields)) and asset.metadata:
        body["metadata"] = dict(asset.metadata)
    if fields:
        keep = set(fields) | set(_IDENTITY_FIELDS)
        body = {key: value for key, value in body.items() if key in keep}
    return body
