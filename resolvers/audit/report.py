"""The whole audit: every section, run concurrently, in one report."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from resolvers.audit.asset_links import AssetRef, MissingAssetReference, media_links
from resolvers.audit.fill import FillRates, fill_rates
from resolvers.audit.names import DuplicateName, duplicate_names
from resolvers.audit.phashes import DuplicateMedia, duplicate_media
from resolvers.audit.pipeline import Section
from resolvers.audit.product_links import MissingProductReference, missing_product_references
from resolvers.audit.required import MissingRequired, missing_required_attributes
from resolvers.audit.skus import DuplicateSku, duplicate_skus
from resolvers.channels import Channels
from resolvers.db import Catalog
from resolvers.locales import LocaleResolver

T = TypeVar("T")

MAX_LIMIT = 1000

SECTIONS: tuple[str, ...] = (
    "duplicate_skus",
    "duplicate_names",
    "fill_rates",
    "missing_required_attributes",
    "orphaned_assets",
    "missing_asset_references",
    "missing_product_references",
    "duplicate_media",
)


@dataclass(frozen=True, slots=True)
class AuditReport:
    locales: tuple[str, ...]
    limit: int
    duplicate_skus: Section[DuplicateSku]
    duplicate_names: Section[DuplicateName]
    fill_rates: FillRates
    missing_required_attributes: Section[MissingRequired]
    orphaned_assets: Section[AssetRef]
    missing_asset_references: Section[MissingAssetReference]
    missing_product_references: Section[MissingProductReference]
    duplicate_media: Section[DuplicateMedia]
    seconds: Mapping[str, float]  # wall time of each section (they overlap), and "total"


def audit_fallbacks(locales: LocaleResolver) -> dict[str, list[str]]:
    """The configured fallback chains without the default locale that ends every chain."""
    return {
        tag: [t for t in locales.chain(tag)[1:] if t != locales.default] for tag in locales.locales
    }


def configured_asset_ids(channels: Channels) -> set[str]:
    """Public ids the channel profiles deliver themselves: each slot's placeholder (in place of
    missing media) and watermark overlay (on preview slots). Never orphans, though no product
    references them. A named transformation is a name, not an asset; overlays inside its
    definition live in Cloudinary, which the gateway does not read."""
    return {
        public_id
        for profile in channels.profiles.values()
        for slot in profile.slots.values()
        for public_id in (slot.placeholder, slot.watermark)
        if public_id is not None
    }


async def _timed(name: str, work: Awaitable[T], seconds: dict[str, float]) -> T:
    started = time.perf_counter()
    try:
        return await work
    finally:
        seconds[name] = time.perf_counter() - started


async def run_audit(
    catalog: Catalog,
    *,
    locales: Sequence[str],
    limit: int = 100,
    fallbacks: Mapping[str, Sequence[str]] | None = None,
    linked: Iterable[str] = (),
) -> AuditReport:
    """Every section, concurrently. ``fallbacks``: locales whose values fill a locale without
    its own (no default-locale catch-all); ``linked``: public ids used outside product media
    (:func:`configured_asset_ids`: placeholders, watermarks), never orphans."""
    if not 0 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 0 and {MAX_LIMIT}, got {limit}")
    locales = tuple(locales)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    report = await _sections(catalog, locales, limit, fallbacks, linked, seconds)
    seconds["total"] = time.perf_counter() - started
    # One aggregation answers both media sections.
    seconds["orphaned_assets"] = seconds["missing_asset_references"] = seconds.pop("media_links")
    return replace(report, seconds={name: round(seconds[name], 3) for name in (*SECTIONS, "total")})


def _retrieve(task: asyncio.Task[Any]) -> None:
    # Nobody awaits a section left running by a cancelled audit: mark its outcome as seen.
    if not task.cancelled():
        task.exception()


async def _sections(
    catalog: Catalog,
    locales: tuple[str, ...],
    limit: int,
    fallbacks: Mapping[str, Sequence[str]] | None,
    linked: Iterable[str],
    seconds: dict[str, float],
) -> AuditReport:
    skus = asyncio.create_task(
        _timed("duplicate_skus", duplicate_skus(catalog, limit=limit), seconds)
    )
    names = asyncio.create_task(
        _timed("duplicate_names", duplicate_names(catalog, locales=locales, limit=limit), seconds)
    )
    rates = asyncio.create_task(
        _timed("fill_rates", fill_rates(catalog, locales=locales, fallbacks=fallbacks), seconds)
    )
    required = asyncio.create_task(
        _timed(
            "missing_required_attributes",
            missing_required_attributes(catalog, locales=locales, limit=limit, fallbacks=fallbacks),
            seconds,
        )
    )
    links = asyncio.create_task(
        _timed("media_links", media_links(catalog, linked=linked, limit=limit), seconds)
    )
    products = asyncio.create_task(
        _timed(
            "missing_product_references", missing_product_references(catalog, limit=limit), seconds
        )
    )
    media = asyncio.create_task(
        _timed("duplicate_media", duplicate_media(catalog, limit=limit), seconds)
    )
    tasks = [skus, names, rates, required, links, products, media]
    # Every section runs to its end, failed or not: cancelling a pymongo (4.20) operation that
    # waits in server selection breaks the client's topology lock ("Lock is not acquired"), and
    # closing the client then hangs. Unreachable, every section fails within the timeout anyway.
    try:
        await asyncio.wait(tasks)
    except asyncio.CancelledError:
        for task in tasks:
            task.add_done_callback(_retrieve)
        raise
    # Every outcome is read, so no failed section is reported again as never retrieved.
    errors = [error for task in tasks if (error := task.exception()) is not None]
    if errors:
        raise errors[0]
    orphans, missing_assets = links.result()
    return AuditReport(
        locales=locales,
        limit=limit,
        duplicate_skus=skus.result(),
        duplicate_names=names.result(),
        fill_rates=rates.result(),
        missing_required_attributes=required.result(),
        orphaned_assets=orphans,
        missing_asset_references=missing_assets,
        missing_product_references=products.result(),
        duplicate_media=media.result(),
        seconds={},
    )
