"""The emulated account's assets, keyed like Cloudinary: resource type, delivery type, public ID.

Not thread-safe on its own: the owning ``Emulator`` serialises access with its lock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from cloudinary_emulator.errors import bad_request

Direction = Literal["asc", "desc"]

MAX_RESULTS_LIMIT = 500
DEFAULT_MAX_RESULTS = 10


@dataclass(frozen=True, slots=True)
class AssetKey:
    resource_type: str
    type: str
    public_id: str


@dataclass(slots=True)
class Asset:
    resource_type: str
    type: str
    public_id: str
    data: bytes
    format: str | None
    width: int | None
    height: int | None
    version: int
    created_at: datetime
    # Creation order; created_at has one-second resolution, so it cannot order by itself.
    sequence: int
    asset_id: str
    version_id: str
    tags: list[str] = field(default_factory=list)
    context: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    phash: str | None = None
    duration: float | None = None
    original_filename: str = ""
    display_name: str = ""
    asset_folder: str = ""
    # Last change (upload, tags, context, metadata), for the Search API's ``last_updated``,
    # and the order of changes (one-second timestamps cannot order them); assigned again when
    # assets are restored, so not part of an asset's value.
    updated_at: datetime | None = None
    update_sequence: int = field(default=0, compare=False)

    @property
    def last_updated(self) -> datetime:
        return self.updated_at or self.created_at

    @property
    def key(self) -> AssetKey:
        return AssetKey(self.resource_type, self.type, self.public_id)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def etag(self) -> str:
        return hashlib.md5(self.data, usedforsecurity=False).hexdigest()


class AssetStore:
    def __init__(self) -> None:
        self._assets: dict[AssetKey, Asset] = {}
        self._sequence = 0
        self._last_version = 0
        self._update_sequence = 0

    def __len__(self) -> int:
        return len(self._assets)

    def __iter__(self) -> Iterator[Asset]:
        return iter(list(self._assets.values()))

    def get(self, key: AssetKey) -> Asset | None:
        return self._assets.get(key)

    def put(self, asset: Asset) -> None:
        self._assets[asset.key] = asset

    def restore(self, asset: Asset) -> None:
        """Put back an asset stored earlier; later ones still sort and version after it."""
        self._assets[asset.key] = asset
        self._sequence = max(self._sequence, asset.sequence)
        self._last_version = max(self._last_version, asset.version)

    def remove(self, key: AssetKey) -> Asset | None:
        return self._assets.pop(key, None)

    def clear(self) -> None:
        self._assets.clear()

    def next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def next_update(self) -> int:
        self._update_sequence += 1
        return self._update_sequence

    def next_version(self, now: float) -> int:
        """Versions are upload timestamps, made strictly increasing so overwrites differ."""
        self._last_version = max(int(now), self._last_version + 1)
        return self._last_version

    def select(
        self, predicate: Callable[[Asset], bool], direction: Direction = "desc"
    ) -> list[Asset]:
        found = [asset for asset in self._assets.values() if predicate(asset)]
        found.sort(key=lambda asset: asset.sequence, reverse=direction == "desc")
        return found

    def tags(self, resource_type: str) -> list[str]:
        names = {
            tag
            for asset in self._assets.values()
            if asset.resource_type == resource_type
            for tag in asset.tags
        }
        return sorted(names)


def encode_cursor(sequence: int) -> str:
    return base64.urlsafe_b64encode(f"after:{sequence}".encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        prefix, _, number = text.partition(":")
        if prefix != "after":
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad_request(f"Invalid next_cursor: {cursor}") from None


def paginate(
    ordered: list[Asset], max_results: int, cursor: str | None, direction: Direction
) -> tuple[list[Asset], str | None]:
    """One page of ``ordered`` and the cursor of the next, if any.

    The cursor remembers the last asset's creation sequence rather than an offset, so
    deleting assets between pages neither skips nor repeats any.
    """
    if max_results < 1:
        raise bad_request("max_results must be a positive number")
    max_results = min(max_results, MAX_RESULTS_LIMIT)
    if cursor:
        after = decode_cursor(cursor)
        if direction == "desc":
            ordered = [asset for asset in ordered if asset.sequence < after]
        else:
            ordered = [asset for asset in ordered if asset.sequence > after]
    page = ordered[:max_results]
    if len(ordered) > max_results:
        return page, encode_cursor(page[-1].sequence)
    return page, None
