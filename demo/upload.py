"""Uploading the demo pictures to the DAM and mirroring them as active assets.

Uploads go through the official SDK (``DamClient``) and the mirror is written directly, so the
gateway's request path never asks the Admin API about them. Each reference gets its picture
(``demo.pictures``), each video a stand-in file, and the channel profiles their placeholders.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio
from PIL import Image
from pymongo.errors import PyMongoError

from cloudinary_emulator.phash import perceptual_hash
from demo.defects import MISSING_ASSET_PREFIX, deleted_in_dam
from demo.pictures import EN_DASH, ROLE_SIZES, VIDEO_SIZE, digest, draw_product_image, fake_mp4
from demo.placeholders import PLACEHOLDER_SIZES, placeholder_file, placeholder_resource_type
from demo.tables import CONTENT_LOCALES, T4, read, translations
from resolvers.assets import DamClient, DamUnavailableError, asset_from_resource, upsert_assets
from resolvers.assets.fingerprint import with_fingerprint
from resolvers.channels import Channels
from resolvers.db import Catalog, Document
from resolvers.locales import LocaleResolver
from resolvers.readiness import materialize

log = logging.getLogger(__name__)

# The locales of alt texts: the demo's content locales, the order of the translation tuples.
ALT_LOCALES: tuple[str, ...] = CONTENT_LOCALES
MIRROR_BATCH = 200
_ID_BATCH = 1_000
# Readiness checks need products without alt text to find; this share of products (at least
# two) is left without, chosen by SKU hash so the choice survives re-seeding in another order.
NO_ALT_EVERY = 60
NO_ALT_MIN = 2

_PRODUCT_PROJECTION = {
    "_id": 0,
    "sku": 1,
    "status": 1,
    "brand": 1,
    "categories": 1,
    "variants": 1,
    "media": 1,
    "attributes.color": 1,
    **{f"name.{locale}": 1 for locale in ALT_LOCALES},
}


_words = read("alt_texts.toml")
_VIEWS: dict[str, T4] = {
    role: translations(text, f"views.{role}") for role, text in _words["views"].items()
}
_COLOR_WORDS: dict[str, T4] = {
    color: translations(text, f"color_words.{color}")
    for color, text in _words["color_words"].items()
}


def _alt_texts(name: dict[str, str], role: str, color: str | None) -> dict[str, str]:
    english = name.get("en-US") or next(iter(name.values()), "")
    texts: dict[str, str] = {}
    for index, locale in enumerate(ALT_LOCALES):
        view = _VIEWS[role][index]
        if role == "swatch" and color:
            view = f"{view}: {_COLOR_WORDS.get(color, (color, color, color, color))[index]}"
        # A product lacking a translation is a planted defect; its alt text falls back to
        # English like the rest of the gateway does.
        texts[f"alt_{locale}"] = f"{name.get(locale) or english} {EN_DASH} {view}"
    return texts


@dataclass(frozen=True, slots=True)
class FailedUpload:
    public_id: str
    resource_type: str
    reason: str


@dataclass(frozen=True, slots=True)
class DemoMediaReport:
    """What :func:`upload_demo_media` did. ``skipped`` were already active in the mirror."""

    references: int  # media references to fill (``catalog/missing/`` ones excluded)
    uploaded: int
    skipped: int
    failed: tuple[FailedUpload, ...]
    left_missing: int  # planted ``catalog/missing/`` references, never uploaded
    placeholders_uploaded: int
    placeholders_skipped: int
    mirrored: int  # mirror documents inserted or changed
    products_without_alt: tuple[str, ...]  # SKUs whose assets carry no alt_* context
    seconds: float
    # Planted: mirrored as active but never in the DAM, as a deletion whose notification was
    # lost leaves them (demo.defects.DeletedInDam); counted in ``references``, not ``uploaded``.
    deleted_in_dam: tuple[str, ...] = ()


class UploadProgress:
    """How far an upload run is: counts, rate and time left, logged as it goes.

    A line when the run begins, then one each time another tenth is done and at least
    ``every_s`` passed since the last (or ``at_least_every_s`` passed, if a tenth takes that
    long); never one per picture. The gateway shares the object with ``/readyz`` and GraphiQL
    while the demo's media upload.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        every_s: float = 10.0,
        at_least_every_s: float = 60.0,
    ) -> None:
        self.clock = clock
        self.every_s = every_s
        self.at_least_every_s = at_least_every_s
        self.total = 0
        self.uploaded = 0
        self.failed = 0
        self.started = False
        self.finished = False
        self._began_at = 0.0
        self._logged_at = 0.0
        self._logged_tenths = 0

    @property
    def done(self) -> int:
        return self.uploaded + self.failed

    @property
    def uploading(self) -> bool:
        """Between ``begin`` with something to upload and ``finish``."""
        return self.started and not self.finished and self.total > 0

    @property
    def rate(self) -> float:
        """Pictures (and videos) done per second since the run began."""
        elapsed = self.clock() - self._began_at
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def remaining_s(self) -> float | None:
        rate = self.rate
        return (self.total - self.done) / rate if rate > 0 else None

    def as_dict(self) -> dict[str, int]:
        return {"uploaded": self.uploaded, "failed": self.failed, "total": self.total}

    def begin(self, total: int) -> None:
        self.total, self.uploaded, self.failed = total, 0, 0
        self.started, self.finished = True, total == 0
        self._began_at = self._logged_at = self.clock()
        self._logged_tenths = 0
        if total:
            log.info(
                "demo media: uploading %d pictures and videos; until they arrive, products "
                "show placeholders",
                total,
            )

    def advance(self, *, failed: bool = False) -> None:
        if failed:
            self.failed += 1
        else:
            self.uploaded += 1
        done, total = self.done, self.total
        if done >= total:
            return  # the run's result line says the rest
        now = self.clock()
        tenths = done * 10 // total
        since = now - self._logged_at
        if (tenths > self._logged_tenths and since >= self.every_s) or (
            since >= self.at_least_every_s
        ):
            self._logged_at, self._logged_tenths = now, tenths
            self._log_line()

    def finish(self) -> None:
        self.finished = True

    def _log_line(self) -> None:
        failed = f", {self.failed} failed" if self.failed else ""
        remaining = self.remaining_s
        left = f", about {_duration(remaining)} left" if remaining is not None else ""
        log.info(
            "demo media: %d of %d done (%d%%)%s, %.1f per second%s",
            self.done,
            self.total,
            self.done * 100 // self.total,
            failed,
            self.rate,
            left,
        )


def _duration(seconds: float) -> str:
    whole = max(1, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


@dataclass(frozen=True, slots=True)
class _Job:
    public_id: str
    resource_type: str
    role: str
    sku: str = ""
    variant_sku: str | None = None
    name: dict[str, str] = field(default_factory=dict)
    brand: str = ""
    category: str | None = None
    color: str | None = None
    with_alt: bool = True
    deleted_in_dam: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.resource_type, self.public_id)


def _pick_without_alt(skus: Sequence[str]) -> frozenset[str]:
    count = max(NO_ALT_MIN, len(skus) // NO_ALT_EVERY) if skus else 0
    return frozenset(sorted(skus, key=lambda sku: digest("no-alt", sku))[:count])


def _product_color(product: Document) -> str | None:
    for variant in product.get("variants") or []:
        color = (variant.get("options") or {}).get("color")
        if color:
            return str(color)
    value = ((product.get("attributes") or {}).get("color") or {}).get("value")
    return str(value) if isinstance(value, str) and value else None


def _jobs(products: Sequence[Document]) -> tuple[list[_Job], int, frozenset[str]]:
    """Upload jobs for the products' references, the planted-missing count, SKUs without alt."""
    without_alt = _pick_without_alt([p["sku"] for p in products])
    deleted = {d.public_id for d in deleted_in_dam(products)}
    jobs: dict[tuple[str, str], _Job] = {}
    left_missing = 0
    for product in products:
        variant_colors = {
            v["sku"]: (v.get("options") or {}).get("color") for v in product.get("variants") or []
        }
        default_color = _product_color(product)
        for reference in product.get("media") or []:
            public_id = reference["publicId"]
            if public_id.startswith(MISSING_ASSET_PREFIX):
                left_missing += 1
                continue
            role = reference["role"]
            variant_sku = reference.get("variantSku")
            job = _Job(
                public_id=public_id,
                resource_type="video" if role == "video" else "image",
                role=role,
                sku=product["sku"],
                variant_sku=variant_sku,
                name=dict(product.get("name") or {}),
                brand=product.get("brand", ""),
                category=next(iter(product.get("categories") or []), None),
                color=variant_colors.get(variant_sku or "") or default_color,
                with_alt=product["sku"] not in without_alt,
                deleted_in_dam=public_id in deleted,
            )
            jobs.setdefault(job.key, job)
    return list(jobs.values()), left_missing, without_alt


def _placeholder_jobs() -> list[_Job]:
    return [
        _Job(public_id=p, resource_type=placeholder_resource_type(p), role="placeholder")
        for p in PLACEHOLDER_SIZES
    ]


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _active_keys(catalog: Catalog, jobs: Sequence[_Job]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    public_ids = [job.public_id for job in jobs]
    for chunk in _chunks(public_ids, _ID_BATCH):
        cursor = catalog.assets.find(
            {"publicId": {"$in": list(chunk)}, "status": "active"},
            {"_id": 0, "publicId": 1, "resourceType": 1},
        )
        async for document in cursor:
            found.add((document.get("resourceType", "image"), document["publicId"]))
    return found


def _shot(public_id: str) -> int:
    """``n`` of ``catalog/{sku}/{role}-{n}``; 1 for ids not shaped like that."""
    number = public_id.rsplit("-", 1)[-1]
    return int(number) if number.isdigit() else 1


def _render(job: _Job) -> tuple[str, bytes]:
    """The file name and bytes to upload for one job (runs in a worker thread)."""
    if job.role == "placeholder":
        return placeholder_file(job.public_id)
    stem = job.public_id.rsplit("/", 1)[-1]
    if job.role == "video":
        seconds = 8 + digest(job.public_id)[0] % 25
        return f"{stem}.mp4", fake_mp4(*VIDEO_SIZE, float(seconds))
    data = draw_product_image(
        sku=job.sku,
        name=job.name.get("en-US") or next(iter(job.name.values()), job.sku),
        role=job.role,
        color=job.color,
        category=job.category,
        brand=job.brand,
        shot=_shot(job.public_id),
    )
    return f"{stem}.{'png' if job.role == 'swatch' else 'jpg'}", data


def _upload_options(job: _Job) -> dict[str, Any]:
    if job.role == "placeholder":
        # No role: placeholders are nobody's media, and the mirror's role is a media role.
        return {"tags": ["placeholder"]}
    tags = [f"sku:{job.sku}", f"role:{job.role}"]
    context: dict[str, str] = {"role": job.role, "sku": job.sku}
    if job.variant_sku:
        tags.append(f"variant:{job.variant_sku}")
        context["variant_sku"] = job.variant_sku
    if job.with_alt:
        context.update(_alt_texts(job.name, job.role, job.color))
    return {"tags": tags, "context": context}


def _as_once_uploaded(job: _Job, filename: str, data: bytes, now: datetime) -> dict[str, Any]:
    """The upload response the mirror kept of a picture deleted in the DAM since, without the
    notification that would have told the gateway: what the mirror still believes is there."""
    options = _upload_options(job)
    width, height = ROLE_SIZES[job.role]
    with Image.open(io.BytesIO(data)) as picture:
        phash = perceptual_hash(picture)
    return {
        "public_id": job.public_id,
        "resource_type": job.resource_type,
        "type": "upload",
        "format": filename.rsplit(".", 1)[-1],
        "width": width,
        "height": height,
        "bytes": len(data),
        "version": int(now.timestamp()),
        "tags": options["tags"],
        "context": {"custom": options["context"]},
        "phash": phash,
    }


class _Run:
    """One upload run: workers share the job iterator, results and the pending mirror batch."""

    def __init__(
        self,
        catalog: Catalog,
        dam: DamClient,
        now: datetime,
        concurrency: int,
        progress: UploadProgress,
    ) -> None:
        self.catalog = catalog
        self.dam = dam
        self.now = now
        self.concurrency = concurrency
        self.progress = progress
        # Drawing holds the GIL for part of its time; more drawing threads than uploads in
        # flight would only queue up finished pictures in memory.
        self.draw_limiter = anyio.CapacityLimiter(concurrency)
        self.pending: list[Document] = []
        self.mirrored = 0
        self.uploaded = 0
        self.failed: list[FailedUpload] = []
        self.deleted_in_dam: list[str] = []

    async def run(self, jobs: Sequence[_Job]) -> int:
        before = self.uploaded
        queue = iter(jobs)
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self.concurrency, len(jobs))):
                    group.create_task(self._worker(queue))
        except ExceptionGroup as errors:
            # Only MongoDB failures get here (upload failures are recorded); callers should
            # see the driver's error, not a group of one.
            raise errors.exceptions[0] from errors
        await self.flush()
        return self.uploaded - before

    async def _worker(self, queue: Iterator[_Job]) -> None:
        for job in queue:
            await self._one(job)

    async def _one(self, job: _Job) -> None:
        try:
            filename, data = await anyio.to_thread.run_sync(_render, job, limiter=self.draw_limiter)
            if job.deleted_in_dam:
                response = _as_once_uploaded(job, filename, data, self.now)
                self.deleted_in_dam.append(job.public_id)
            else:
                response = await self.dam.upload(
                    (filename, data),
                    public_id=job.public_id,
                    resource_type=job.resource_type,
                    overwrite=True,
                    phash=job.resource_type == "image",
                    **_upload_options(job),
                )
                self.uploaded += 1
        except DamUnavailableError as exc:
            self._fail(job, str(exc))
            return
        except Exception as exc:
            # A drawing bug on one odd product must not cost the demo its other pictures.
            log.exception("demo media for %s could not be prepared", job.public_id)
            self._fail(job, f"{type(exc).__name__}: {exc}")
            return
        self.progress.advance()
        document = asset_from_resource(response, self.now, "demo")
        if job.resource_type == "image":
            # What the audit tells look-alike pictures apart by (Cloudinary's phash cannot).
            document = await anyio.to_thread.run_sync(
                with_fingerprint, document, data, limiter=self.draw_limiter
            )
        self.pending.append(document)
        if len(self.pending) >= MIRROR_BATCH:
            await self.flush()

    def _fail(self, job: _Job, reason: str) -> None:
        log.warning("demo media upload of %s failed: %s", job.public_id, reason)
        self.failed.append(FailedUpload(job.public_id, job.resource_type, reason))
        self.progress.advance(failed=True)

    async def flush(self) -> None:
        batch, self.pending = self.pending, []
        if batch:
            self.mirrored += await upsert_assets(self.catalog.assets, batch)


async def upload_demo_media(
    catalog: Catalog,
    dam: DamClient,
    *,
    now: datetime,
    concurrency: int = 8,
    only_missing: bool = True,
    progress: UploadProgress | None = None,
) -> DemoMediaReport:
    """Draw and upload a picture (or a stand-in video) for every media reference, plus the
    placeholders the channel profiles use, and mirror them as active assets.

    References under ``catalog/missing/`` are planted broken references and stay missing. With
    ``only_missing``, references the mirror already holds as active are skipped, so a restart
    against a persistent DAM uploads nothing; that trusts the mirror, so pass ``False`` when
    the DAM may have lost its assets (an in-memory emulator) while MongoDB kept the mirror.
    Upload failures are reported, not raised. ``progress`` follows the run (and logs it).
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    started = time.monotonic()
    products = await catalog.products.find({}, _PRODUCT_PROJECTION).to_list(None)
    jobs, left_missing, without_alt = _jobs(products)
    placeholders = _placeholder_jobs()
    if only_missing:
        active = await _active_keys(catalog, [*jobs, *placeholders])
        todo = [job for job in jobs if job.key not in active]
        todo_placeholders = [job for job in placeholders if job.key not in active]
    else:
        todo, todo_placeholders = jobs, placeholders

    progress = progress or UploadProgress()
    progress.begin(len(todo_placeholders) + len(todo))
    run = _Run(catalog, dam, now, concurrency, progress)
    try:
        placeholders_uploaded = await run.run(todo_placeholders)
        uploaded = await run.run(todo)
    finally:
        progress.finish()
    report = DemoMediaReport(
        references=len(jobs),
        uploaded=uploaded,
        skipped=len(jobs) - len(todo),
        failed=tuple(run.failed),
        left_missing=left_missing,
        placeholders_uploaded=placeholders_uploaded,
        placeholders_skipped=len(placeholders) - len(todo_placeholders),
        mirrored=run.mirrored,
        products_without_alt=tuple(sorted(without_alt)),
        seconds=round(time.monotonic() - started, 3),
        deleted_in_dam=tuple(sorted(run.deleted_in_dam)),
    )
    log.info(
        "demo media: %d uploaded, %d skipped, %d failed, %d placeholders, %d mirrored but "
        "left out of the DAM (planted: deleted without a notification) in %.1f s",
        report.uploaded,
        report.skipped,
        len(report.failed),
        report.placeholders_uploaded,
        len(report.deleted_in_dam),
        report.seconds,
    )
    return report


async def upload_demo_pictures(
    catalog: Catalog,
    dam: DamClient,
    channels: Channels,
    locales: LocaleResolver,
    clock: Callable[[], datetime],
    *,
    concurrency: int = 4,
    progress: UploadProgress | None = None,
) -> DemoMediaReport | None:
    """Draw and upload the demo catalog's pictures into the emulator (skipping what it has).

    The gateway runs this after start-up when it seeded the demo against its own emulator, and
    ``seed --demo`` after seeding; failures are logged, and stored readiness scores are
    recomputed when pictures arrived. None when MongoDB failed.
    """
    try:
        report = await upload_demo_media(
            catalog, dam, now=clock(), concurrency=concurrency, progress=progress
        )
    except PyMongoError:
        log.exception("uploading the demo pictures failed")
        return None
    if report.uploaded or report.placeholders_uploaded:
        # Scores computed before the pictures existed are all wrong now.
        await materialize(catalog, channels, locales, clock())
    return report
