"""Media ingest: local files checked against the channels' rules, uploaded to Cloudinary under the
catalog's naming convention, mirrored, and referenced from their product.

A file failing a checkpoint is still uploaded, marked rejected in its own Cloudinary context, so
reviewers can see it in the DAM while the gateway never delivers it. A file that cannot be tied to
a product (unknown SKU, wrong variant, unreadable) is not uploaded at all.

The product's ``media`` is written through ``resolvers.writes.ProductWriter`` like every other
product write: validated, one revision and one change event per reference added (actor: the
system, named "media ingest"; import job ``ingest:<run time>``), so history shows where a
picture came from and a concurrent edit of ``media`` is merged, never lost.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import anyio
from PIL import Image, ImageCms, UnidentifiedImageError

from resolvers.access.principal import Principal
from resolvers.assets.dam import DamClient, DamUnavailableError
from resolvers.assets.fingerprint import fingerprint_of, same_picture, with_fingerprint
from resolvers.assets.mirror import (
    CONTEXT_REJECT_REASONS,
    CONTEXT_STATUS,
    REASON_SEPARATOR,
    asset_from_resource,
    upsert_assets,
)
from resolvers.assets.phash import closest
from resolvers.channels import Channels
from resolvers.db import Catalog, Document
from resolvers.documents import MEDIA_ROLES
from resolvers.locales import LocaleError, LocaleResolver, canonical_tag
from resolvers.media import next_position
from resolvers.validation import ValidationRules, Validator
from resolvers.writes import (
    Actor,
    Ownership,
    ProductWriter,
    Provenance,
    ValidationFailure,
    VersionConflict,
    WriteFailure,
    revision_of,
    validate_with,
)

IngestStatus = Literal["accepted", "rejected", "failed", "unchanged"]

# Mirror records of assets Cloudinary no longer has: neither duplicates nor re-run matches.
_GONE = ["missing", "deleted"]
CONTEXT_SOURCE_SHA256 = "source_sha256"
# Numbers skipped because Cloudinary already holds other content under them, before giving up.
MAX_TAKEN_NUMBERS = 5
# Times a reference is re-read and written again when another writer changed media meanwhile.
MAX_REFERENCE_ATTEMPTS = 5
# Ingest writes as the system (no field ownership applies), under its own name in history.
INGEST_ACTOR = Actor(replace(Principal.system(), name="media ingest"))

_PILLOW_FORMATS = {"JPEG": "jpg", "MPO": "jpg", "TIFF": "tiff"}
_EXTENSION_FORMATS = {"jpeg": "jpg", "jpe": "jpg", "tif": "tiff"}
# EXIF orientations that rotate by 90°: Cloudinary reports (and delivers) the upright size.
_ROTATED = {5, 6, 7, 8}
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True, slots=True)
class IngestRequest:
    """One file to ingest, from the command line or one manifest row."""

    path: Path
    sku: str
    role: str
    variant: str | None = None
    alt: Mapping[str, str] = field(default_factory=dict)
    # "manifest.csv:4" for manifest rows: failures name the line to fix.
    origin: str | None = None
    # The path as the user wrote it (manifest paths are resolved against the CSV's folder).
    label: str | None = None

    @property
    def display(self) -> str:
        return self.label if self.label is not None else str(self.path)


@dataclass(frozen=True, slots=True)
class NearDuplicate:
    public_id: str
    distance: int


@dataclass(frozen=True, slots=True)
class IngestResult:
    request: IngestRequest
    status: IngestStatus
    public_id: str | None = None
    reasons: tuple[str, ...] = ()
    near_duplicates: tuple[NearDuplicate, ...] = ()
    # The mirrored asset's status: for "unchanged" rows, what the earlier run decided.
    asset_status: str | None = None

    @property
    def passed(self) -> bool:
        """Accepted now or before; a re-run must not turn an earlier rejection into success."""
        return self.status == "accepted" or (
            self.status == "unchanged" and self.asset_status == "active"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.request.display,
            "origin": self.request.origin,
            "sku": self.request.sku,
            "role": self.request.role,
            "variant": self.request.variant,
            "publicId": self.public_id,
            "status": self.status,
            "assetStatus": self.asset_status,
            "reasons": list(self.reasons),
            "nearDuplicates": [
                {"publicId": d.public_id, "distance": d.distance} for d in self.near_duplicates
            ],
        }


@dataclass(frozen=True, slots=True)
class FileProbe:
    """What the checkpoints need, read from the local file before anything is uploaded."""

    format: str
    bytes: int
    width: int | None = None
    height: int | None = None
    color_space: str | None = None


class ManifestError(ValueError):
    """The manifest cannot be used; each problem names the file and line."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class UnreadableImageError(ValueError):
    pass


# --------------------------------------------------------------------------- manifest

REQUIRED_COLUMNS = ("path", "sku", "role")
OPTIONAL_COLUMNS = ("variant",)
ALT_PREFIX = "alt_"


def read_manifest(path: Path) -> list[IngestRequest]:
    """Requests from a manifest CSV, or ManifestError listing every problem with file:line.

    Any structural problem refuses the whole manifest: uploading the rows around a broken one
    leaves a batch half done that is harder to finish than to fix and re-run.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel writes a BOM
    except OSError as exc:
        raise ManifestError([f"{path}: cannot read the manifest: {exc.strerror or exc}"]) from exc
    except UnicodeDecodeError:
        raise ManifestError([f"{path}: not UTF-8 text"]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        raise ManifestError(
            [f"{path}:1: empty manifest; the header needs path, sku, role"]
        ) from None
    except csv.Error as exc:
        raise ManifestError([f"{path}:1: {exc}"]) from None
    columns, problems = _manifest_columns(path, header)
    if problems:
        raise ManifestError(problems)
    requests: list[IngestRequest] = []
    folder = path.parent
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                problems.append(f"{path}:{line}: expected {len(header)} fields, got {len(row)}")
                continue
            cells = {name: row[index].strip() for index, name in enumerate(header)}
            empty = [name for name in REQUIRED_COLUMNS if not cells[name]]
            if empty:
                problems.append(f"{path}:{line}: empty {', '.join(empty)}")
                continue
            requests.append(
                IngestRequest(
                    path=folder / cells["path"],
                    sku=cells["sku"],
                    role=cells["role"],
                    variant=cells.get("variant") or None,
                    alt={tag: cells[name] for name, tag in columns.items() if cells[name]},
                    origin=f"{path}:{line}",
                    label=cells["path"],
                )
            )
    except csv.Error as exc:
        problems.append(f"{path}:{reader.line_num}: {exc}")
    if problems:
        raise ManifestError(problems)
    return requests


def _manifest_columns(path: Path, header: list[str]) -> tuple[dict[str, str], list[str]]:
    """The alt columns (column name → locale tag) and any problems with the header."""
    problems: list[str] = []
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        problems.append(f"{path}:1: missing column(s) {', '.join(missing)}")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        problems.append(f"{path}:1: duplicated column(s) {', '.join(duplicated)}")
    alt_columns: dict[str, str] = {}
    unknown: list[str] = []
    for name in header:
        if name in REQUIRED_COLUMNS or name in OPTIONAL_COLUMNS:
            continue
        if name.startswith(ALT_PREFIX):
            try:
                alt_columns[name] = canonical_tag(name[len(ALT_PREFIX) :])
            except LocaleError as exc:
                problems.append(f"{path}:1: column {name!r}: {exc}")
        else:
            # A typo such as "alt-en-US" would otherwise drop alt text without a word.
            unknown.append(name)
    if unknown:
        problems.append(
            f"{path}:1: unknown column(s) {', '.join(repr(n) for n in unknown)}; expected "
            f"path, sku, role, variant and alt_<locale>"
        )
    return alt_columns, problems


# --------------------------------------------------------------------------- checkpoints


def probe_image(data: bytes) -> FileProbe:
    """Format, upright pixel size and colour space from the header, without decoding pixels."""
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadableImageError(str(exc)) from exc
    with image:
        fmt = image.format or ""
        width, height = image.size
        try:
            orientation = image.getexif().get(_EXIF_ORIENTATION)
        except Exception:  # a broken EXIF block is not worth refusing the file over
            orientation = None
        if orientation in _ROTATED:
            width, height = height, width
        return FileProbe(
            format=_PILLOW_FORMATS.get(fmt, fmt.lower()),
            bytes=len(data),
            width=width,
            height=height,
            color_space=color_space(image),
        )


def color_space(image: Image.Image) -> str:
    """ "sRGB", or a name for what the image is instead (its ICC description, or its mode)."""
    if image.mode in ("CMYK", "LAB", "YCbCr"):
        return image.mode
    icc = image.info.get("icc_profile")
    if not icc:
        # Untagged pixels are displayed as sRGB by browsers and by Cloudinary alike.
        return "sRGB"
    try:
        description = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError):
        return "unreadable ICC profile"
    description = description.strip()
    return "sRGB" if "sRGB" in description else description or "unnamed ICC profile"


def probe_video(path: Path, data: bytes) -> FileProbe:
    # Videos are not decoded here: the extension names the container.
    extension = path.suffix.lstrip(".").lower()
    return FileProbe(format=_EXTENSION_FORMATS.get(extension, extension), bytes=len(data))


def minimum_size(channels: Channels, role: str) -> tuple[int, int] | None:
    """Smallest source that fills every slot taking ``role`` without upscaling."""
    slots = [slot for _, _, slot in channels.slots_for_role(role) if slot.resource_type == "image"]
    if not slots:
        return None
    return max(s.required_width for s in slots), max(s.required_height for s in slots)


def checkpoint_reasons(
    probe: FileProbe,
    role: str,
    alt: Mapping[str, str],
    channels: Channels,
    locales: LocaleResolver,
) -> list[str]:
    """Why the file may not be delivered; empty when it passes every checkpoint."""
    rules = channels.ingest
    video = role == "video"
    kind = "video" if video else "image"
    allowed = rules.video_formats if video else rules.image_formats
    limit = rules.max_video_bytes if video else rules.max_image_bytes
    reasons: list[str] = []
    if probe.format not in allowed:
        reasons.append(
            f"format {probe.format or 'unknown'} is not allowed for {kind}s "
            f"(allowed: {', '.join(allowed)})"
        )
    if probe.bytes > limit:
        reasons.append(f"file is {probe.bytes:,} bytes, over the {limit:,}-byte limit for {kind}s")
    if video:
        return reasons
    needed = minimum_size(channels, role)
    width, height = probe.width or 0, probe.height or 0
    if needed and (width < needed[0] or height < needed[1]):
        reasons.append(
            f"image is {width}x{height} px, smaller than the "
            f"{needed[0]}x{needed[1]} px the {role} role needs (no upscaling)"
        )
    if probe.color_space is not None and probe.color_space not in rules.color_spaces:
        reasons.append(
            f"colour space is {probe.color_space}, not {' or '.join(rules.color_spaces)}"
        )
    missing = [tag for tag in channels.required_locales() if not locales.has_own_value(alt, tag)]
    if missing:
        reasons.append(f"alt text missing for {', '.join(missing)}")
    return reasons


# --------------------------------------------------------------------------- ingest


def public_id_for(sku: str, role: str, number: int) -> str:
    return f"catalog/{sku}/{role}-{number}"


async def ingest_files(
    catalog: Catalog,
    dam: DamClient,
    channels: Channels,
    locales: LocaleResolver,
    requests: Sequence[IngestRequest],
    now: datetime,
    *,
    validation: ValidationRules,
) -> list[IngestResult]:
    """Ingest each file in order, one result per request; product writes are validated
    against ``validation`` (the rules every writer uses)."""
    writer = ProductWriter(
        catalog,
        validate_with(Validator(validation)),
        Ownership.open(),
        channels,
        locales,
        clock=lambda: now,
    )
    provenance = Provenance(import_job=f"ingest:{now.isoformat()}")
    ingest = _Ingest(catalog, dam, channels, locales, now, writer, provenance)
    # One at a time: numbering and re-run detection must see the files before it in the batch.
    return [await ingest.one(request) for request in requests]


@dataclass
class _Ingest:
    catalog: Catalog
    dam: DamClient
    channels: Channels
    locales: LocaleResolver
    now: datetime
    writer: ProductWriter
    provenance: Provenance

    async def one(self, request: IngestRequest) -> IngestResult:
        problems: list[str] = []
        if request.role not in MEDIA_ROLES:
            problems.append(f"unknown role {request.role!r} (one of {', '.join(MEDIA_ROLES)})")
        alt: dict[str, str] = {}
        for tag, text in request.alt.items():
            try:
                alt[self.locales.resolve(tag)] = text
            except LocaleError as exc:
                problems.append(f"alt text: {exc}")
        data: bytes | None = None
        try:
            data = await anyio.to_thread.run_sync(request.path.read_bytes)
        except OSError as exc:
            problems.append(f"cannot read {request.display}: {exc.strerror or exc}")
        product = await self.catalog.products.find_one(
            {"sku": request.sku}, {"variants.sku": 1, "media": 1}
        )
        if product is None:
            problems.append(f"unknown SKU {request.sku!r}")
        elif request.variant is not None and request.variant not in {
            v.get("sku") for v in product.get("variants") or []
        }:
            problems.append(f"variant {request.variant!r} is not a variant of {request.sku!r}")
        probe: FileProbe | None = None
        if data is not None and request.role == "video":
            probe = probe_video(request.path, data)
        elif data is not None:
            try:
                probe = await anyio.to_thread.run_sync(probe_image, data)
            except UnreadableImageError:
                problems.append(f"{request.display} is not an image Pillow can read")
        if problems or data is None or probe is None or product is None:
            return self._failed(request, problems)

        digest = hashlib.sha256(data).hexdigest()
        earlier = await self.catalog.assets.find_one(
            {
                "sku": request.sku,
                "role": request.role,
                "sourceSha256": digest,
                "status": {"$nin": _GONE},
            }
        )
        if earlier is not None:
            return await self._unchanged(request, earlier)

        reasons = checkpoint_reasons(probe, request.role, alt, self.channels, self.locales)
        number = await self._next_number(product, request.sku, request.role)
        context = {f"alt_{tag}": text for tag, text in alt.items()}
        context.update({"role": request.role, "sku": request.sku, CONTEXT_SOURCE_SHA256: digest})
        if request.variant is not None:
            context["variant_sku"] = request.variant
        if reasons:
            context[CONTEXT_STATUS] = "rejected"
            context[CONTEXT_REJECT_REASONS] = REASON_SEPARATOR.join(reasons)
        tags = [f"sku:{request.sku}", f"role:{request.role}"]
        if request.variant is not None:
            tags.append(f"variant:{request.variant}")
        for _ in range(MAX_TAKEN_NUMBERS):
            public_id = public_id_for(request.sku, request.role, number)
            try:
                response = await self.dam.upload(
                    (request.path.name, data),
                    public_id=public_id,
                    resource_type="video" if request.role == "video" else "image",
                    tags=tags,
                    context=context,
                    phash=True,
                    # Never replace an asset the catalog does not know about.
                    overwrite=False,
                )
            except DamUnavailableError as exc:
                return self._failed(request, [f"upload of {public_id} failed: {exc}"])
            if not response.get("existing"):
                break
            if _custom(response).get(CONTEXT_SOURCE_SHA256) == digest:
                break  # uploaded by a run interrupted before it mirrored: adopt it
            # Someone else's asset holds the number (uploaded outside ingest, or a mirror that
            # is behind): leave it alone and take the next one.
            number += 1
        else:
            return self._failed(
                request,
                [
                    f"{MAX_TAKEN_NUMBERS} public ids up to {public_id} are already taken in "
                    "Cloudinary by assets the catalog does not know; sync the asset mirror"
                ],
            )
        document = asset_from_resource(response, self.now, "ingest")
        document["sourceSha256"] = digest
        if probe.color_space is not None:
            document["colorSpace"] = probe.color_space
        if request.role != "video":
            # What tells look-alike pictures apart where Cloudinary's phash cannot.
            document = await anyio.to_thread.run_sync(with_fingerprint, document, data)
        await upsert_assets(self.catalog.assets, [document])
        problem = await self._reference(request.sku, public_id, request.role, request.variant)
        if problem is not None:
            return self._failed(request, [problem])
        rejected = document["status"] == "rejected"
        return IngestResult(
            request,
            "rejected" if rejected else "accepted",
            public_id,
            tuple(document.get("rejectReasons") or ()),
            await self._near_duplicates(public_id, document.get("phash"), document),
            document["status"],
        )

    def _failed(self, request: IngestRequest, problems: list[str]) -> IngestResult:
        prefix = f"{request.origin}: " if request.origin else ""
        return IngestResult(request, "failed", reasons=tuple(prefix + p for p in problems))

    async def _unchanged(self, request: IngestRequest, earlier: Document) -> IngestResult:
        public_id = str(earlier["publicId"])
        # The earlier run may have stopped between mirroring and referencing: finish it.
        problem = await self._reference(
            request.sku, public_id, request.role, earlier.get("variantSku")
        )
        if problem is not None:
            return self._failed(request, [problem])
        return IngestResult(
            request,
            "unchanged",
            public_id,
            tuple(earlier.get("rejectReasons") or ()),
            await self._near_duplicates(public_id, earlier.get("phash"), earlier),
            earlier.get("status"),
        )

    async def _next_number(self, product: Document, sku: str, role: str) -> int:
        """One past the highest n of ``catalog/{sku}/{role}-{n}`` the product or mirror knows.

        Gaps are not reused: a deleted asset's number may still be cached by the CDN.
        """
        prefix = public_id_for(sku, role, 0).removesuffix("0")
        pattern = re.compile(rf"{re.escape(prefix)}(\d+)")
        used = {str(ref.get("publicId", "")) for ref in product.get("media") or []}
        cursor = self.catalog.assets.find(
            {"publicId": {"$regex": f"^{re.escape(prefix)}"}}, {"publicId": 1, "_id": 0}
        )
        used.update([str(doc["publicId"]) async for doc in cursor])
        numbers = [int(m.group(1)) for p in used if (m := pattern.fullmatch(p))]
        return max(numbers, default=0) + 1

    async def _reference(
        self, sku: str, public_id: str, role: str, variant: str | None
    ) -> str | None:
        """Append the media reference unless present, through the product writer; a problem
        when the product refuses it.

        The write expects the revision the media list was read at: another writer that changed
        ``media`` meanwhile makes it a conflict, and the list is read again, so two ingests into
        one product never take the same position nor drop each other's reference.
        """
        for _ in range(MAX_REFERENCE_ATTEMPTS):
            product = await self.catalog.products.find_one(
                {"sku": sku}, {"media": 1, "revision": 1}
            )
            if product is None:
                return f"product {sku!r} was deleted before {public_id} could be referenced"
            media = list(product.get("media") or [])
            if any(ref.get("publicId") == public_id for ref in media):
                return None
            reference: dict[str, Any] = {
                "publicId": public_id,
                "role": role,
                "position": next_position(media),
            }
            if variant is not None:
                reference["variantSku"] = variant
            result = await self.writer.update(
                sku,
                {"media": [*media, reference]},
                INGEST_ACTOR,
                expected_revision=revision_of(product),
                provenance=self.provenance,
            )
            if result.ok:
                return None
            if not all(isinstance(f, VersionConflict) for f in result.failures):
                return f"{public_id} was not referenced from {sku!r}: " + "; ".join(
                    _describe(f) for f in result.failures
                )
        return (
            f"{public_id} was not referenced from {sku!r}: {MAX_REFERENCE_ATTEMPTS} other writes "
            "changed its media meanwhile; run the ingest again"
        )

    async def _near_duplicates(
        self, public_id: str, phash: object, asset: Document
    ) -> tuple[NearDuplicate, ...]:
        """Assets whose phash is within the configured distance, less those whose fingerprint
        shows another picture (a look-alike: another colour, another label)."""
        if not isinstance(phash, str):
            return ()
        # A Hamming distance cannot be indexed; one projection-only scan per file is cheap next
        # to the upload it follows.
        cursor = self.catalog.assets.find(
            {
                "phash": {"$type": "string"},
                "publicId": {"$ne": public_id},
                "status": {"$nin": _GONE},
            },
            {"publicId": 1, "phash": 1, "_id": 0},
        )
        candidates = [(str(doc["publicId"]), str(doc["phash"])) async for doc in cursor]
        try:
            matches = closest(phash, candidates, self.channels.ingest.near_duplicate_distance)
        except ValueError:  # the DAM returned a hash of another shape: nothing to compare
            return ()
        fingerprint = fingerprint_of(asset)
        if fingerprint is not None and matches:
            cursor = self.catalog.assets.find(
                {"publicId": {"$in": [m.public_id for m in matches]}, "status": {"$nin": _GONE}},
                {"publicId": 1, "version": 1, "fingerprint": 1, "_id": 0},
            )
            others = {str(doc["publicId"]): fingerprint_of(doc) async for doc in cursor}
            matches = [
                m
                for m in matches
                if (other := others.get(m.public_id)) is None or same_picture(fingerprint, other)
            ]
        return tuple(NearDuplicate(m.public_id, m.distance) for m in matches)


def _custom(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    context = resource.get("context") or {}
    custom = context.get("custom", context) if isinstance(context, dict) else {}
    return custom if isinstance(custom, dict) else {}


def _describe(failure: WriteFailure) -> str:
    if isinstance(failure, ValidationFailure):
        return "; ".join(
            f"{'.'.join(map(str, v.path))}: {v.code}: {v.message}" for v in failure.violations
        )
    return type(failure).__name__
