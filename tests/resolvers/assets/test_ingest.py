"""`media ingest`: checkpoints, naming, mirror and product references, through the official SDK
against the emulator and a real MongoDB."""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageCms
from pymongo.asynchronous.database import AsyncDatabase

from cloudinary_emulator import EmulatorConfig, EmulatorServer
from cloudinary_emulator.emulator import sample_image
from gateway.cli.media import add_parser, ingest
from gateway.dam_setup import EMULATOR_CLOUD, EMULATOR_KEY
from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.assets import DamClient
from resolvers.assets.ingest import (
    IngestRequest,
    IngestResult,
    ManifestError,
    NearDuplicate,
    ingest_files,
    read_manifest,
)
from resolvers.assets.phash import hamming_distance
from resolvers.channels import Channels, IngestRules
from resolvers.db import Catalog
from resolvers.locales import LocaleResolver
from resolvers.validation import ValidationRules
from tests.command_counter import CommandCounter
from tests.emulator_fixtures import fake_mp4, noise_png, png_bytes
from tests.fixtures.small_catalog import product

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RUN, SOCK = "NW-RUN-001", "NW-SOCK-002"
RED = "NW-RUN-001-RED"
# Every locale the shipped channels deliver is covered: de-AT and fr-CA fall back to these.
ALT = {
    "en-US": "Trail Runner, side view",
    "de-DE": "Trailläufer, Seitenansicht",
    "fr-FR": "Coureur de trail, vue de côté",
    "it-IT": "Scarpa da trail, vista laterale",
}

CLI_SECRET = "cli-test-emulator-secret"


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def jpeg(width: int, height: int, seed: str = "shoe", quality: int = 90) -> bytes:
    return encode(sample_image(width, height, seed), "JPEG", quality=quality)


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@dataclass
class Harness:
    catalog: Catalog
    dam: DamClient
    emulator: EmulatorServer
    channels: Channels
    locales: LocaleResolver
    folder: Path
    validation: ValidationRules

    async def run(
        self, *requests: IngestRequest, rules: IngestRules | None = None
    ) -> list[IngestResult]:
        channels = self.channels
        if rules is not None:
            channels = copy.copy(channels)
            channels.ingest = rules
        return await ingest_files(
            self.catalog,
            self.dam,
            channels,
            self.locales,
            list(requests),
            NOW,
            validation=self.validation,
        )

    def request(
        self, name: str, data: bytes, sku: str = SOCK, role: str = "swatch", **fields: Any
    ) -> IngestRequest:
        fields.setdefault("alt", ALT)
        return IngestRequest(write(self.folder, name, data), sku, role, **fields)

    @property
    def uploads(self) -> int:
        return self.emulator.emulator.stats.upload_calls

    async def resource(self, public_id: str, resource_type: str = "image") -> dict[str, Any]:
        (found,) = await self.dam.resources_by_ids([public_id], resource_type)
        return found

    async def media(self, sku: str) -> list[dict[str, Any]]:
        document = await self.catalog.products.find_one({"sku": sku})
        assert document is not None
        return list(document["media"])

    async def asset(self, public_id: str) -> dict[str, Any]:
        document = await self.catalog.assets.find_one({"publicId": public_id}, {"_id": 0})
        assert document is not None
        return document


def locale_resolver(settings: Settings) -> LocaleResolver:
    return LocaleResolver(settings.locales, settings.default_locale, settings.fallback_chains)


async def seed(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db["products"].insert_many(
        [
            product(RUN, 1, variants=[{"sku": RED, "options": {"color": "red"}}]),
            product(SOCK, 2, media=[]),
        ]
    )


@pytest.fixture
async def harness(
    db: AsyncDatabase[dict[str, Any]],
    dam: DamClient,
    emulator: EmulatorServer,
    settings: Settings,
    tmp_path: Path,
) -> Harness:
    await seed(db)
    locales = locale_resolver(settings)
    profiles = load_profiles(settings)
    return Harness(
        Catalog(db), dam, emulator, profiles.channels, locales, tmp_path, profiles.validation
    )


async def test_accepted_files_follow_the_naming_convention(harness: Harness) -> None:
    first = harness.request("a.jpg", jpeg(1200, 1000), RUN, "hero", variant=RED)
    second = harness.request("b.png", png_bytes(1300, 1100, "back"), RUN, "hero")

    results = await harness.run(first, second)

    # The product already references hero-1, so numbering continues after it.
    assert [(r.status, r.public_id, r.reasons) for r in results] == [
        ("accepted", f"catalog/{RUN}/hero-2", ()),
        ("accepted", f"catalog/{RUN}/hero-3", ()),
    ]
    assert harness.uploads == 2
    resource = await harness.resource(f"catalog/{RUN}/hero-2")
    assert resource["tags"] == [f"sku:{RUN}", "role:hero", f"variant:{RED}"]
    context = resource["context"]["custom"]
    assert {k: v for k, v in context.items() if k != "source_sha256"} == {
        **{f"alt_{tag}": text for tag, text in ALT.items()},
        "role": "hero",
        "sku": RUN,
        "variant_sku": RED,
    }
    assert re.fullmatch(r"[0-9a-f]{64}", context["source_sha256"])

    mirrored = await harness.asset(f"catalog/{RUN}/hero-2")
    assert mirrored["status"] == "active"
    assert "rejectReasons" not in mirrored
    assert (mirrored["width"], mirrored["height"], mirrored["format"]) == (1200, 1000, "jpg")
    assert mirrored["colorSpace"] == "sRGB"
    assert mirrored["alt"] == ALT
    assert re.fullmatch(r"[0-9a-f]{16}", mirrored["phash"])
    assert mirrored["sourceSha256"] == context["source_sha256"]

    assert await harness.media(RUN) == [
        {"publicId": f"catalog/{RUN}/hero-1", "role": "hero", "position": 0},
        {"publicId": f"catalog/{RUN}/hero-2", "role": "hero", "position": 1, "variantSku": RED},
        {"publicId": f"catalog/{RUN}/hero-3", "role": "hero", "position": 2},
    ]
    updated = await harness.catalog.products.find_one({"sku": RUN})
    assert updated is not None
    assert updated["updatedAt"] == NOW


async def test_numbering_skips_numbers_the_mirror_has_seen(harness: Harness) -> None:
    # A deleted asset's number is not reused: the CDN may still serve the old picture under it.
    await harness.catalog.assets.insert_one(
        {"publicId": f"catalog/{SOCK}/swatch-4", "resourceType": "image", "status": "deleted"}
    )
    (result,) = await harness.run(harness.request("s.png", png_bytes(64, 64)))
    assert result.public_id == f"catalog/{SOCK}/swatch-5"
    assert await harness.media(SOCK) == [
        {"publicId": f"catalog/{SOCK}/swatch-5", "role": "swatch", "position": 0}
    ]


def lab_tagged_png() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    return encode(sample_image(64, 64), "PNG", icc_profile=profile)


def cmyk_jpeg() -> bytes:
    return encode(sample_image(64, 64).convert("CMYK"), "JPEG")


SMALL_NOISE = noise_png(64, 64)

REJECTIONS: list[tuple[str, Callable[[], bytes], str, dict[str, str], IngestRules | None, str]] = [
    (
        "gif",
        lambda: encode(sample_image(64, 64), "GIF"),
        "swatch",
        ALT,
        None,
        "format gif is not allowed for images (allowed: jpg, png, webp, avif, tiff)",
    ),
    (
        "too-small",
        lambda: jpeg(1199, 1000),
        "hero",
        ALT,
        None,
        "image is 1199x1000 px, smaller than the 1200x1000 px the hero role needs (no upscaling)",
    ),
    ("cmyk", cmyk_jpeg, "swatch", ALT, None, "colour space is CMYK, not sRGB"),
    (
        "icc-lab",
        lab_tagged_png,
        "swatch",
        ALT,
        None,
        "colour space is Lab identity built-in, not sRGB",
    ),
    (
        "too-big",
        lambda: SMALL_NOISE,
        "swatch",
        ALT,
        IngestRules(max_image_bytes=1000),
        f"file is {len(SMALL_NOISE):,} bytes, over the 1,000-byte limit for images",
    ),
    (
        "alt",
        lambda: png_bytes(64, 64),
        "swatch",
        {"en-US": "Sock", "de-DE": "Socke"},
        None,
        "alt text missing for fr-FR, fr-CA, it-IT",
    ),
]


@pytest.mark.parametrize(
    ("data", "role", "alt", "rules", "reason"),
    [pytest.param(*case[1:], id=case[0]) for case in REJECTIONS],
)
async def test_each_checkpoint_rejects_but_still_uploads(
    harness: Harness,
    data: Callable[[], bytes],
    role: str,
    alt: dict[str, str],
    rules: IngestRules | None,
    reason: str,
) -> None:
    (result,) = await harness.run(harness.request("f", data(), role=role, alt=alt), rules=rules)

    public_id = f"catalog/{SOCK}/{role}-1"
    assert (result.status, result.public_id, result.reasons) == ("rejected", public_id, (reason,))
    assert not result.passed
    assert harness.uploads == 1
    context = (await harness.resource(public_id))["context"]["custom"]
    assert context["catalog_status"] == "rejected"
    assert context["catalog_reject_reasons"] == reason
    mirrored = await harness.asset(public_id)
    assert (mirrored["status"], mirrored["rejectReasons"]) == ("rejected", [reason])
    # Referenced so that the product page shows a rejected asset rather than nothing at all.
    assert await harness.media(SOCK) == [{"publicId": public_id, "role": role, "position": 0}]


async def test_every_failed_checkpoint_is_listed(harness: Harness) -> None:
    gif = encode(sample_image(40, 30), "GIF")
    (result,) = await harness.run(harness.request("tiny.gif", gif, RUN, "hero", alt={}))
    reasons = (
        "format gif is not allowed for images (allowed: jpg, png, webp, avif, tiff)",
        "image is 40x30 px, smaller than the 1200x1000 px the hero role needs (no upscaling)",
        "alt text missing for en-US, de-DE, de-AT, fr-FR, fr-CA, it-IT",
    )
    assert result.reasons == reasons
    context = (await harness.resource(f"catalog/{RUN}/hero-2"))["context"]["custom"]
    assert context["catalog_reject_reasons"] == " | ".join(reasons)
    assert (await harness.asset(f"catalog/{RUN}/hero-2"))["rejectReasons"] == list(reasons)


async def test_videos_get_format_and_size_checks_only(harness: Harness) -> None:
    good = harness.request("clip.mp4", fake_mp4(1920, 1080, 5.0), RUN, "video", alt={})
    avi = harness.request("clip.avi", fake_mp4(320, 240, 5.0), RUN, "video", alt={})
    results = await harness.run(good, avi)
    assert [(r.status, r.public_id, r.reasons) for r in results] == [
        ("accepted", f"catalog/{RUN}/video-1", ()),
        (
            "rejected",
            f"catalog/{RUN}/video-2",
            ("format avi is not allowed for videos (allowed: mp4, webm, mov)",),
        ),
    ]
    resource = await harness.resource(f"catalog/{RUN}/video-1", "video")
    assert resource["tags"] == [f"sku:{RUN}", "role:video"]
    assert (await harness.asset(f"catalog/{RUN}/video-1"))["resourceType"] == "video"


async def test_requests_that_cannot_be_tied_to_a_product_upload_nothing(
    harness: Harness, tmp_path: Path
) -> None:
    image = png_bytes(64, 64)
    results = await harness.run(
        harness.request("a.png", image, sku="NOPE"),
        harness.request("b.png", image, sku=SOCK, variant=RED),
        IngestRequest(tmp_path / "missing.png", SOCK, "swatch", alt=ALT),
        harness.request("c.png", image, role="poster"),
        harness.request("d.png", b"not an image at all"),
        harness.request("e.png", image, alt={"xx-XX": "?"}),
    )
    assert [(r.status, r.reasons) for r in results] == [
        ("failed", ("unknown SKU 'NOPE'",)),
        ("failed", (f"variant '{RED}' is not a variant of '{SOCK}'",)),
        ("failed", (f"cannot read {tmp_path / 'missing.png'}: No such file or directory",)),
        (
            "failed",
            (
                "unknown role 'poster' (one of hero, front, side, back, detail, swatch, "
                "lifestyle, video)",
            ),
        ),
        ("failed", (f"{tmp_path / 'd.png'} is not an image Pillow can read",)),
        (
            "failed",
            (
                "alt text: unsupported locale 'xx-XX'; supported locales: en-US, de-DE, de-AT, "
                "fr-FR, fr-CA, it-IT",
            ),
        ),
    ]
    assert all(r.public_id is None and not r.passed for r in results)
    assert harness.uploads == 0
    assert await harness.catalog.assets.count_documents({}) == 0
    assert await harness.media(SOCK) == []


async def test_re_running_the_same_file_changes_nothing(harness: Harness) -> None:
    good = harness.request("good.png", png_bytes(64, 64))
    bad = harness.request("bad.gif", encode(sample_image(64, 64, "x"), "GIF"))
    first = await harness.run(good, bad)
    assert [r.status for r in first] == ["accepted", "rejected"]

    again = await harness.run(good, bad)

    assert [(r.status, r.public_id) for r in again] == [
        ("unchanged", f"catalog/{SOCK}/swatch-1"),
        ("unchanged", f"catalog/{SOCK}/swatch-2"),
    ]
    # An earlier rejection stays a failure on re-runs, with its reasons.
    assert [r.passed for r in again] == [True, False]
    assert again[1].reasons == first[1].reasons
    assert harness.uploads == 2
    assert [m["publicId"] for m in await harness.media(SOCK)] == [
        f"catalog/{SOCK}/swatch-1",
        f"catalog/{SOCK}/swatch-2",
    ]


async def test_each_reference_is_a_revision_with_its_change_event(
    harness: Harness, command_counter: CommandCounter
) -> None:
    good = harness.request("good.png", png_bytes(64, 64))
    bad = harness.request("bad.gif", encode(sample_image(64, 64, "x"), "GIF"))

    with command_counter.record(harness.catalog.db.name) as recorded:
        await harness.run(good, bad)

    # Per file: the reference and its event in the writer's transaction, then the rescore's
    # write of the stored readiness.
    writes = recorded.names()
    assert (writes["update:products"], writes["insert:change_events"]) == (4, 2)

    stored = await harness.catalog.products.find_one({"sku": SOCK})
    assert stored is not None
    assert (stored["revision"], stored["updatedAt"]) == (3, NOW)
    events = (
        await harness.catalog.change_events.find({"sku": SOCK}, {"_id": 0, "productId": 0})
        .sort("revision", 1)
        .to_list()
    )
    first = {"publicId": f"catalog/{SOCK}/swatch-1", "role": "swatch", "position": 0}
    second = {"publicId": f"catalog/{SOCK}/swatch-2", "role": "swatch", "position": 1}
    actor = {
        "label": "system",
        "keyId": None,
        "name": "media ingest",
        "source": None,
        "endUser": None,
    }
    common = {
        "sku": SOCK,
        "operation": "update",
        "actor": actor,
        "requestId": None,
        "importJob": f"ingest:{NOW.isoformat()}",
        "at": NOW,
    }
    assert events == [
        {
            **common,
            "revision": 2,
            "changes": [{"path": ["media"], "before": None, "after": [first]}],
        },
        {
            **common,
            "revision": 3,
            "changes": [{"path": ["media"], "before": [first], "after": [first, second]}],
        },
    ]

    # Idempotent: a re-run finds both references in place and writes no revision: per file,
    # the product and mirror reads, nothing else.
    with command_counter.record(harness.catalog.db.name) as recorded:
        await harness.run(good, bad)
    assert recorded.names() == {"find:products": 4, "find:assets": 4}
    assert await harness.catalog.change_events.count_documents({"sku": SOCK}) == 2
    again = await harness.catalog.products.find_one({"sku": SOCK})
    assert again is not None
    assert again["revision"] == 3


async def test_re_run_completes_a_run_interrupted_before_the_product_write(
    harness: Harness,
) -> None:
    request = harness.request("good.png", png_bytes(64, 64))
    await harness.run(request)
    await harness.catalog.products.update_one({"sku": SOCK}, {"$set": {"media": []}})

    (result,) = await harness.run(request)

    assert result.status == "unchanged"
    assert await harness.media(SOCK) == [
        {"publicId": f"catalog/{SOCK}/swatch-1", "role": "swatch", "position": 0}
    ]
    assert harness.uploads == 1


async def test_assets_outside_the_catalog_are_never_overwritten(harness: Harness) -> None:
    foreign = f"catalog/{SOCK}/swatch-1"
    await harness.dam.upload(png_bytes(64, 64, "foreign"), public_id=foreign, tags=["manual"])

    (result,) = await harness.run(harness.request("s.png", png_bytes(64, 64)))

    assert (result.status, result.public_id) == ("accepted", f"catalog/{SOCK}/swatch-2")
    assert (await harness.resource(foreign))["tags"] == ["manual"]
    assert [m["publicId"] for m in await harness.media(SOCK)] == [f"catalog/{SOCK}/swatch-2"]


async def test_an_upload_interrupted_before_mirroring_is_adopted(harness: Harness) -> None:
    data = png_bytes(64, 64)
    public_id = f"catalog/{SOCK}/swatch-1"
    digest = hashlib.sha256(data).hexdigest()
    uploaded = await harness.dam.upload(
        data, public_id=public_id, context={"sku": SOCK, "role": "swatch", "source_sha256": digest}
    )

    (result,) = await harness.run(harness.request("s.png", data))

    assert (result.status, result.public_id) == ("accepted", public_id)
    assert (await harness.resource(public_id))["version"] == uploaded["version"]
    assert (await harness.asset(public_id))["sourceSha256"] == digest
    assert [m["publicId"] for m in await harness.media(SOCK)] == [public_id]


async def test_near_duplicates_are_reported_not_rejected(harness: Harness) -> None:
    picture = sample_image(400, 400, "shoe")
    results = await harness.run(
        harness.request("q95.jpg", encode(picture, "JPEG", quality=95)),
        harness.request("q40.jpg", encode(picture, "JPEG", quality=40), RUN, "swatch"),
        harness.request("other.png", noise_png(400, 400)),
    )

    assert [r.status for r in results] == ["accepted", "accepted", "accepted"]
    original = f"catalog/{SOCK}/swatch-1"
    copy = f"catalog/{RUN}/swatch-1"
    distance = hamming_distance(
        (await harness.asset(original))["phash"], (await harness.asset(copy))["phash"]
    )
    assert distance <= harness.channels.ingest.near_duplicate_distance
    assert results[0].near_duplicates == ()
    assert results[1].near_duplicates == (NearDuplicate(original, distance),)
    assert results[2].near_duplicates == ()


def write_manifest(folder: Path, text: str) -> Path:
    return write(folder, "manifest.csv", text.encode())


async def test_manifest_rows_are_ingested_and_failures_name_the_line(harness: Harness) -> None:
    folder = harness.folder
    write(folder, "images/sock.png", png_bytes(64, 64))
    write(folder, "images/run.jpg", jpeg(1200, 1000))
    manifest = write_manifest(
        folder,
        "path,sku,role,variant,alt_en-US,alt_de-DE,alt_fr-FR,alt_it-IT\n"
        f"images/sock.png,{SOCK},swatch,,Sock,Socke,Chaussette,Calzino\n"
        "images/sock.png,NOPE,swatch,,Sock,Socke,Chaussette,Calzino\n"
        "\n"
        f"images/run.jpg,{RUN},hero,{RED},Shoe,,,\n",
    )

    requests = read_manifest(manifest)
    results = await harness.run(*requests)

    assert [(r.request.display, r.status, r.public_id, r.reasons) for r in results] == [
        ("images/sock.png", "accepted", f"catalog/{SOCK}/swatch-1", ()),
        ("images/sock.png", "failed", None, (f"{manifest}:3: unknown SKU 'NOPE'",)),
        (
            "images/run.jpg",
            "rejected",
            f"catalog/{RUN}/hero-2",
            ("alt text missing for de-DE, de-AT, fr-FR, fr-CA, it-IT",),
        ),
    ]
    assert (await harness.asset(f"catalog/{SOCK}/swatch-1"))["alt"] == {
        "en-US": "Sock",
        "de-DE": "Socke",
        "fr-FR": "Chaussette",
        "it-IT": "Calzino",
    }
    assert (await harness.media(RUN))[-1]["variantSku"] == RED
    assert harness.uploads == 2


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("path,sku\na.png,X\n", ["{m}:1: missing column(s) role"]),
        (
            "path,sku,role,alt-en-US\n",
            [
                "{m}:1: unknown column(s) 'alt-en-US'; expected path, sku, role, variant and "
                "alt_<locale>"
            ],
        ),
        (
            "path,sku,role\na.png,X,hero\nb.png,X\nc.png,,hero\n",
            ["{m}:3: expected 3 fields, got 2", "{m}:4: empty sku"],
        ),
    ],
)
def test_malformed_manifests_are_refused_with_file_and_line(
    tmp_path: Path, text: str, problems: list[str]
) -> None:
    manifest = write_manifest(tmp_path, text)
    with pytest.raises(ManifestError) as raised:
        read_manifest(manifest)
    assert raised.value.problems == [p.format(m=manifest) for p in problems]


# --------------------------------------------------------------------------- command line


@pytest.fixture(scope="module")
def demo_emulator() -> Iterator[EmulatorServer]:
    """The emulator `command_line_dam` expects on CATALOG_EMULATOR_PORT."""
    config = EmulatorConfig(cloud_name=EMULATOR_CLOUD, api_key=EMULATOR_KEY, api_secret=CLI_SECRET)
    with EmulatorServer(config) as server:
        yield server


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="catalog-gateway")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def table(out: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line) for line in out.strip().splitlines()]


async def test_command_prints_a_table_and_exits_by_outcome(
    db: AsyncDatabase[dict[str, Any]],
    demo_emulator: EmulatorServer,
    mongodb_uri: str,
    db_name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    demo_emulator.emulator.reset()
    await seed(db)
    port = int(demo_emulator.url.rsplit(":", 1)[1])
    settings = Settings(
        mongodb_uri=mongodb_uri,
        db=db_name,
        cloudinary_url=None,
        emulator_port=port,
        emulator_secret=CLI_SECRET,
    )
    good = write(tmp_path, "good.png", png_bytes(64, 64))
    small = write(tmp_path, "small.png", png_bytes(64, 64, "other"))
    alt = [arg for tag, text in ALT.items() for arg in ("--alt", f"{tag}={text}")]

    code = await ingest(
        parse(["media", "ingest", str(good), "--sku", SOCK, "--role", "swatch", *alt]), settings
    )
    assert code == 0
    out = capsys.readouterr().out
    assert table(out) == [
        ["file", "sku", "role", "public_id", "status", "reasons", "near-duplicates"],
        [str(good), SOCK, "swatch", f"catalog/{SOCK}/swatch-1", "accepted", "-", "-"],
        ["1 file(s): 1 accepted, 0 rejected, 0 failed, 0 unchanged"],
    ]

    argv = ["media", "ingest", str(good), str(small), "--sku", SOCK, "--role", "hero", "--json"]
    code = await ingest(parse([*argv, "--alt", "en-US=Sock"]), settings)
    assert code == 1
    rows = json.loads(capsys.readouterr().out)
    assert [(r["file"], r["publicId"], r["status"]) for r in rows] == [
        (str(good), f"catalog/{SOCK}/hero-1", "rejected"),
        (str(small), f"catalog/{SOCK}/hero-2", "rejected"),
    ]
    assert rows[0]["reasons"] == [
        "image is 64x64 px, smaller than the 1200x1000 px the hero role needs (no upscaling)",
        "alt text missing for de-DE, de-AT, fr-FR, fr-CA, it-IT",
    ]
    assert demo_emulator.emulator.stats.upload_calls == 3

    manifest = write_manifest(tmp_path, "path,sku\ngood.png,X\n")
    assert await ingest(parse(["media", "ingest", "--manifest", str(manifest)]), settings) == 1
    assert capsys.readouterr().err == (
        f"catalog-gateway: error: {manifest}:1: missing column(s) role\n"
    )
    assert demo_emulator.emulator.stats.upload_calls == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["a.png", "--role", "hero"], "required with files: --sku"),
        (["--manifest", "m.csv", "--sku", "X"], "--sku come from the manifest's columns"),
        (["a.png", "--manifest", "m.csv"], "give files or --manifest, not both"),
        ([], "give the files to ingest, or --manifest CSV"),
        (["a.png", "--sku", "X", "--role", "poster"], "invalid choice: 'poster'"),
        (["a.png", "--sku", "X", "--role", "hero", "--alt", "en-US"], "expected LOCALE=TEXT"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse(["media", "ingest", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: catalog-gateway media ingest")
    assert message in err
