"""Settings of one emulated Cloudinary product environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

SignatureAlgorithm = Literal["sha1", "sha256"]

RESOURCE_TYPES = ("image", "video", "raw")
DELIVERY_TYPES = ("upload", "private", "authenticated")


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """What a real account would hold in its console settings.

    ``signed_delivery_types`` lists the delivery types whose URLs must carry an ``s--…--``
    signature (Cloudinary always demands it for ``authenticated``; add ``upload`` to emulate
    "strict transformations"). ``named_transformations`` maps ``t_<name>`` to the
    transformation string it stands for, as created with the Admin API on a real account.

    ``storage_dir`` keeps the assets on disk as well: an emulator created on the same
    directory later starts with them (stats, fault switches and webhook history are not
    kept). One emulator per directory at a time.
    """

    cloud_name: str = "demo"
    api_key: str = "000000000000000"
    api_secret: str = "emulator-secret"
    notification_url: str | None = None
    named_transformations: Mapping[str, str] = field(default_factory=dict)
    signed_delivery_types: frozenset[str] = frozenset({"authenticated"})
    # Accounts choose SHA-1 or SHA-256 for notification and response signatures; requests are
    # accepted in either, as Cloudinary does unless an account is locked to SHA-256.
    signature_algorithm: SignatureAlgorithm = "sha1"
    # Signed Upload API requests older than this are refused as stale, like Cloudinary's hour.
    max_request_age_s: int = 3600
    # The free plan's hourly Admin API quota, reported in X-FeatureRateLimit-* headers.
    admin_rate_limit: int = 500
    # Off by default so a long test session never trips over a quota the tests did not ask for.
    enforce_admin_rate_limit: bool = False
    fault_seed: int = 0
    notification_timeout_s: float = 5.0
    # Videos cannot be decoded here; these stand in when neither the upload's context nor the
    # MP4 header gives the real values.
    default_video_width: int = 1280
    default_video_height: int = 720
    default_video_duration_s: float = 10.0
    storage_dir: Path | None = None

    def __post_init__(self) -> None:
        if isinstance(self.storage_dir, str):
            # Convenient from settings and command lines; stored as a Path all the same.
            object.__setattr__(self, "storage_dir", Path(self.storage_dir))
        for name in ("cloud_name", "api_key", "api_secret"):
            if not getattr(self, name):
                raise ValueError(f"EmulatorConfig.{name} must not be empty")
        unknown = self.signed_delivery_types - set(DELIVERY_TYPES)
        if unknown:
            raise ValueError(f"unknown delivery types in signed_delivery_types: {sorted(unknown)}")
        if self.admin_rate_limit < 1:
            raise ValueError("admin_rate_limit must be at least 1")
