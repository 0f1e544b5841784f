"""Cloudinary (the DAM) through the official SDK: configured per call, called off the event loop.

The SDK is synchronous and reads global configuration by default; here every call gets its
options explicitly, so two gateways (or a test and the emulator) never share state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import anyio
import cloudinary.api
import cloudinary.exceptions
import cloudinary.uploader
import cloudinary.utils

log = logging.getLogger(__name__)

T = TypeVar("T")

# Cloudinary's limit for resources_by_ids.
ADMIN_BATCH = 100


class DamUnavailableError(Exception):
    """Cloudinary did not answer usefully: timeout, 5xx, or 420 (rate limited)."""


@dataclass(frozen=True, slots=True)
class DamConfig:
    cloud_name: str
    api_key: str
    api_secret: str = field(repr=False)
    # Extra SDK options: upload_prefix and delivery host when talking to the emulator.
    sdk_options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_url(cls, url: str) -> DamConfig:
        """Parse ``cloudinary://api_key:api_secret@cloud_name`` (CLOUDINARY_URL)."""
        parts = urlsplit(url)
        if parts.scheme != "cloudinary" or not parts.hostname:
            raise ValueError("must look like cloudinary://API_KEY:API_SECRET@CLOUD_NAME")
        if not parts.username or not parts.password:
            raise ValueError("has no API key and secret (cloudinary://KEY:SECRET@CLOUD)")
        return cls(
            parts.hostname, unquote(parts.username), unquote(parts.password), {"secure": True}
        )

    def options(self) -> dict[str, Any]:
        """Keyword arguments for one SDK call."""
        return {
            "cloud_name": self.cloud_name,
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            **self.sdk_options,
        }


@dataclass
class DamStats:
    """Counts of Admin API calls made by this process (the quota is per hour)."""

    admin_calls: int = 0
    uploads: int = 0
    urls_built: int = 0


class DamClient:
    """Async facade over the SDK calls the gateway makes."""

    def __init__(
        self,
        config: DamConfig,
        *,
        max_threads: int = 8,
        timeout_s: float = 10.0,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.timeout_s = timeout_s
        self.cooldown_s = cooldown_s
        self.stats = DamStats()
        self._limiter = anyio.CapacityLimiter(max_threads)
        self._options = config.options()
        self._clock = clock
        # Circuit breaker: after a failure the Admin API is left alone for a while, so a slow
        # or failing Cloudinary costs one timeout, not one per request.
        self._closed_until = 0.0

    async def _run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        call = partial(function, *args, **self._options, timeout=self.timeout_s, **kwargs)
        try:
            return await anyio.to_thread.run_sync(call, limiter=self._limiter)
        except cloudinary.exceptions.RateLimited as exc:
            raise DamUnavailableError(f"Cloudinary rate limit reached: {exc}") from exc
        except Exception as exc:
            # The SDK raises GeneralError for network failures and timeouts, and a bare
            # Exception for statuses it has no class for (502, 503, …).
            raise DamUnavailableError(f"Cloudinary error: {exc}") from exc

    async def _admin(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        now = self._clock()
        if now < self._closed_until:
            raise DamUnavailableError(
                f"Cloudinary failed recently; not asking again for {self._closed_until - now:.0f}s"
            )
        self.stats.admin_calls += 1
        try:
            return await self._run(function, *args, **kwargs)
        except DamUnavailableError:
            self._closed_until = self._clock() + self.cooldown_s
            raise

    async def resources_by_ids(
        self, public_ids: Sequence[str], resource_type: str = "image"
    ) -> list[dict[str, Any]]:
        """Resource details for up to 100 public ids per Admin API call (calls run together)."""
        batches = [
            list(public_ids[start : start + ADMIN_BATCH])
            for start in range(0, len(public_ids), ADMIN_BATCH)
        ]
        responses = await asyncio.gather(
            *(
                self._admin(
                    cloudinary.api.resources_by_ids,
                    batch,
                    resource_type=resource_type,
                    tags=True,
                    context=True,
                    metadata=True,
                    max_results=len(batch),
                )
                for batch in batches
            )
        )
        return [resource for response in responses for resource in response.get("resources", [])]

    async def resource(self, public_id: str, resource_type: str = "image") -> dict[str, Any]:
        result: dict[str, Any] = await self._admin(
            cloudinary.api.resource, public_id, resource_type=resource_type, phash=True
        )
        return result

    async def upload(self, file: Any, **params: Any) -> dict[str, Any]:
        self.stats.uploads += 1
        result: dict[str, Any] = await self._run(cloudinary.uploader.upload, file, **params)
        return result

    def url(self, public_id: str, **options: Any) -> str:
        """A delivery URL, built locally by the SDK (no network)."""
        self.stats.urls_built += 1
        url, _ = cloudinary.utils.cloudinary_url(public_id, **self._options, **options)
        return str(url)

    def notification_signature(self, body: str, timestamp: str, algorithm: str = "sha1") -> str:
        """What ``X-Cld-Signature`` must be: hash of body, timestamp and API secret.

        The SDK's own ``verify_notification_signature`` reads the global configuration, which
        this process never sets, so the same computation is done here with our secret.
        """
        text = f"{body}{timestamp}{self.config.api_secret}"
        return str(cloudinary.utils.compute_hex_hash(text, algorithm))
