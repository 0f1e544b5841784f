"""The emulator instance: one product environment's assets, settings, switches and counters.

Everything mutable lives here, built by ``create_emulator``; the HTTP layer only reads and
changes it through this object, so independent emulators never share state.
"""

from __future__ import annotations

import email.utils
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PIL import Image, ImageDraw

from cloudinary_emulator.config import EmulatorConfig
from cloudinary_emulator.faults import FaultSwitches
from cloudinary_emulator.media import normalise_format, probe_image
from cloudinary_emulator.notifications import Notifier
from cloudinary_emulator.persistence import AssetStorage
from cloudinary_emulator.rendering import encode
from cloudinary_emulator.stats import EmulatorStats
from cloudinary_emulator.store import Asset, AssetKey, AssetStore

_PUBLIC_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"

log = logging.getLogger("cloudinary_emulator.emulator")


@dataclass(frozen=True, slots=True)
class RateLimitStatus:
    limit: int
    remaining: int
    reset_at: float
    exceeded: bool

    @property
    def headers(self) -> dict[str, str]:
        return {
            "X-FeatureRateLimit-Limit": str(self.limit),
            "X-FeatureRateLimit-Remaining": str(self.remaining),
            "X-FeatureRateLimit-Reset": email.utils.formatdate(self.reset_at, usegmt=True),
        }


class Emulator:
    def __init__(self, config: EmulatorConfig, *, clock: Callable[[], float] = time.time):
        self.config = config
        self.clock = clock
        # Handlers run on the server's loop while tests poke at the emulator from their own
        # thread; one re-entrant lock keeps the store and the quota window consistent.
        self.lock = threading.RLock()
        self.store = AssetStore()
        self.stats = EmulatorStats()
        self.faults = FaultSwitches(config.fault_seed)
        self.notifier = Notifier(
            api_key=config.api_key,
            api_secret=config.api_secret,
            algorithm=config.signature_algorithm,
            timeout_s=config.notification_timeout_s,
            stats=self.stats,
            clock=clock,
        )
        # Runtime-adjustable copies: a gateway under test often learns its webhook URL only
        # after the emulator is already serving.
        self.notification_url: str | None = config.notification_url
        self.named_transformations: dict[str, str] = dict(config.named_transformations)
        self._rate_window = -1
        self._rate_used = 0
        # With a storage_dir, every change to the store is written through to disk and
        # what an earlier emulator stored there is loaded now.
        self.storage: AssetStorage | None = None
        if config.storage_dir is not None:
            self.storage = AssetStorage(config.storage_dir)
            # In the order they last changed, so the Search API's "last_updated" order holds.
            for asset in sorted(self.storage.load(), key=_change_order):
                self.store.restore(asset)
                asset.update_sequence = self.store.next_update()
            log.info("Loaded %d assets from %s", len(self.store), config.storage_dir)

    # ------------------------------------------------------------------ lifecycle

    def reset(
        self,
        *,
        assets: bool = True,
        stats: bool = True,
        faults: bool = True,
        notifications: bool = True,
        settings: bool = True,
    ) -> None:
        """Forget what the flags name; ``settings`` restores the webhook URL and named
        transformations from the config. Forgetting assets empties ``storage_dir`` too."""
        with self.lock:
            if assets:
                self.store.clear()
                if self.storage is not None:
                    try:
                        self.storage.clear()
                    except OSError as error:
                        log.error("Could not empty %s: %s", self.storage.root, error)
            if stats:
                self.stats.reset()
                self._rate_window = -1
                self._rate_used = 0
            if faults:
                self.faults.reset()
            if notifications:
                self.notifier.clear()
            if settings:
                self.notification_url = self.config.notification_url
                self.named_transformations = dict(self.config.named_transformations)

    # ------------------------------------------------------------------ quota

    def consume_admin_quota(self) -> RateLimitStatus:
        """Count one Admin API call against the hourly quota Cloudinary reports."""
        now = self.clock()
        window = int(now // 3600)
        limit = self.config.admin_rate_limit
        with self.lock:
            if window != self._rate_window:
                self._rate_window = window
                self._rate_used = 0
            self._rate_used += 1
            used = self._rate_used
        return RateLimitStatus(
            limit=limit,
            remaining=max(0, limit - used),
            reset_at=(window + 1) * 3600,
            exceeded=self.config.enforce_admin_rate_limit and used > limit,
        )

    # ------------------------------------------------------------------ assets

    def get_asset(
        self, public_id: str, resource_type: str = "image", type: str = "upload"
    ) -> Asset | None:
        with self.lock:
            return self.store.get(AssetKey(resource_type, type, public_id))

    def new_public_id(self) -> str:
        return "".join(secrets.choice(_PUBLIC_ID_ALPHABET) for _ in range(20))

    def save_asset(
        self,
        *,
        resource_type: str,
        type: str,
        public_id: str,
        data: bytes,
        format: str | None,
        width: int | None = None,
        height: int | None = None,
        tags: Iterable[str] = (),
        context: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        phash: str | None = None,
        duration: float | None = None,
        original_filename: str = "",
        overwrite: bool = True,
    ) -> tuple[Asset, bool]:
        """Store an asset; returns it and whether an existing one was kept unchanged.

        Overwriting keeps the asset ID and creation time and bumps the version, as
        Cloudinary does; with ``overwrite=False`` the existing asset wins.
        """
        now = self.clock()
        key = AssetKey(resource_type, type, public_id)
        with self.lock:
            previous = self.store.get(key)
            if previous is not None and not overwrite:
                return previous, True
            asset = Asset(
                resource_type=resource_type,
                type=type,
                public_id=public_id,
                data=data,
                format=format,
                width=width,
                height=height,
                version=self.store.next_version(now),
                created_at=(
                    previous.created_at if previous else datetime.fromtimestamp(int(now), UTC)
                ),
                sequence=previous.sequence if previous else self.store.next_sequence(),
                asset_id=previous.asset_id if previous else uuid.uuid4().hex,
                version_id=uuid.uuid4().hex,
                tags=list(dict.fromkeys(tags)),
                context=dict(context or {}),
                metadata=dict(metadata or {}),
                phash=phash,
                duration=duration,
                original_filename=original_filename or public_id.rsplit("/", 1)[-1],
                display_name=public_id.rsplit("/", 1)[-1],
                asset_folder=public_id.rpartition("/")[0],
            )
            self.store.put(asset)
            self.persist(asset)
            return asset, False

    def remove_asset(self, key: AssetKey) -> Asset | None:
        with self.lock:
            removed = self.store.remove(key)
            if removed is not None and self.storage is not None:
                try:
                    self.storage.delete(key)
                except OSError as error:
                    log.error("Could not delete %s from %s: %s", key, self.storage.root, error)
            return removed

    def persist(self, *assets: Asset) -> None:
        """Write assets changed in place (tags, context, ...) through to ``storage_dir``.

        A failed write is logged, not raised: the API call it belongs to has succeeded in
        memory, as it would without a storage directory.
        """
        with self.lock:
            changed_at = datetime.fromtimestamp(self.clock(), UTC)
            for asset in assets:
                asset.updated_at = changed_at
                asset.update_sequence = self.store.next_update()
        if self.storage is None:
            return
        with self.lock:
            for asset in assets:
                try:
                    self.storage.write(asset)
                except OSError as error:
                    log.error("Could not store %s in %s: %s", asset.key, self.storage.root, error)

    def seed_image(
        self,
        public_id: str,
        *,
        width: int = 800,
        height: int = 600,
        format: str = "jpg",
        type: str = "upload",
        tags: Iterable[str] = (),
        context: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Asset:
        """Put a generated image straight into the store (and ``storage_dir``, if set): no
        API call, counter or webhook.

        For tests that need assets to exist without exercising the Upload API.
        """
        data = encode(sample_image(width, height, public_id), normalise_format(format), None)
        info = probe_image(data)
        asset, _ = self.save_asset(
            resource_type="image",
            type=type,
            public_id=public_id,
            data=data,
            format=info.format,
            width=info.width,
            height=info.height,
            tags=tags,
            context=context,
            metadata=metadata,
            phash=info.phash,
        )
        return asset

    def seed_video(
        self,
        public_id: str,
        *,
        width: int = 1280,
        height: int = 720,
        duration: float = 10.0,
        data: bytes = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",
        format: str = "mp4",
        type: str = "upload",
        tags: Iterable[str] = (),
        context: Mapping[str, str] | None = None,
    ) -> Asset:
        asset, _ = self.save_asset(
            resource_type="video",
            type=type,
            public_id=public_id,
            data=data,
            format=format,
            width=width,
            height=height,
            duration=duration,
            tags=tags,
            context=context,
        )
        return asset


def _change_order(asset: Asset) -> tuple[datetime, int]:
    return asset.last_updated, asset.sequence


def sample_image(width: int, height: int, seed: str = "") -> Image.Image:
    """A picture with structure (gradient, shapes) so crops and hashes have work to do."""
    shade = sum(seed.encode("utf-8")) % 200
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle(
        (width // 8, height // 8, width // 2, height // 2), fill=(shade, 40, 200 - shade)
    )
    draw.ellipse(
        (width // 2, height // 3, width - width // 10, height - height // 10),
        fill=(240, 200 - shade // 2, 30),
    )
    return image


def create_emulator(config: EmulatorConfig, *, clock: Callable[[], float] = time.time) -> Emulator:
    return Emulator(config, clock=clock)
