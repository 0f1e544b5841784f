"""What the process shares between requests: the catalog, locales, channels and the DAM."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from resolvers.access.api_keys import ApiKeys
from resolvers.assets import DamClient
from resolvers.background import Background
from resolvers.channels import Channels
from resolvers.db import Catalog
from resolvers.locales import LocaleResolver
from resolvers.product_changes import ChangeHub
from resolvers.readiness import rescore_products_using
from resolvers.readiness.memo import ReadinessMemo
from resolvers.shared_result import SharedResults
from resolvers.validation import ValidationRules
from resolvers.workflow.service import Workflow
from resolvers.writes import ProductWriter

KNOWN_BRANDS_TTL_S = 60.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Services:
    """Built once per process from the settings (``gateway.services.open_services``)."""

    catalog: Catalog
    locales: LocaleResolver
    channels: Channels
    dam: DamClient
    loader_batch_size: int = 1000
    # Live readiness results shared between requests (resolvers.readiness.memo).
    readiness_memo: ReadinessMemo = field(default_factory=ReadinessMemo)
    clock: Callable[[], datetime] = utc_now
    missing_asset_ttl: timedelta = timedelta(hours=1)
    # For assets published products reference (resolvers.assets.mirror); None: the one above.
    published_missing_asset_ttl: timedelta | None = None
    background: Background = field(default_factory=Background)
    # Whole-catalog dashboard numbers, shared between requests (see resolvers.shared_result).
    dashboards: SharedResults[dict[str, Any]] = field(default_factory=lambda: SharedResults(0))
    # The brands filters may name, shared for a minute (a name not among them is read again).
    known_brands: SharedResults[list[str]] = field(
        default_factory=lambda: SharedResults(KNOWN_BRANDS_TTL_S)
    )
    # The key store, in a serving process (commands other than `keys` do not need the pepper).
    api_keys: ApiKeys | None = None
    # The one product writer (validation rules and field ownership from the settings); None
    # where nothing writes products (tests of reads, commands that only read).
    writer: ProductWriter | None = None
    # The validation rules (gateway/validation.toml): an import's CSV columns are typed by them.
    validation: ValidationRules | None = None
    # The channel storefronts read when neither their key nor the request names one
    # (CATALOG_DEFAULT_CHANNEL; None: the first configured channel).
    default_channel: str | None = None
    # The publishing workflow (resolvers.workflow); None where nothing publishes.
    workflow: Workflow | None = None
    # Signs preview tokens (CATALOG_PREVIEW_SECRET); None: previews by token are off.
    preview_secret: bytes | None = None
    # The catalog for requests' product reads (loaders, listings) with the read preference of
    # CATALOG_READ_PREFERENCE; None: ``catalog``'s (primary). Writes never go through it.
    reads: Catalog | None = None
    # The change streams behind the productChanged subscription, one per product source.
    product_changes: ChangeHub = field(default_factory=ChangeHub)

    @property
    def read_catalog(self) -> Catalog:
        return self.reads or self.catalog

    def rescore_products_using(self, public_ids: list[str]) -> None:
        """Recompute stored readiness of the products that use these assets, in the background."""
        self.background.spawn(
            rescore_products_using(
                self.catalog, self.channels, self.locales, self.clock(), public_ids
            ),
            name="rescore-after-mirroring",
        )
