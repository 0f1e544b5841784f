"""Duplicate media on the demo catalog, as the demo set-up uploads it: every group is one picture
(precision 1) and every pair of copies of one picture is in a group (recall 1).

The demo's pictures are drawn through the real path (``demo.upload``, the Cloudinary SDK, the
emulator computing each phash, the mirror), and one more copy of a demo picture, re-encoded
smaller, is ingested beside them. Which assets are one picture is known without any hash: the
same bytes (the emulator's etag; swatches of one colour are one flat picture whoever they belong
to) or the planted copy and its original.

One kind of pair is left out of the count: a view of each of the two products of a planted
near-duplicate name (``PlantedDefects.near_duplicate_names``: one product entered twice, its name
respelled). The demo draws them alike, but for that respelling and the SKU in the caption
("Nova Camping Stove" and "Nova-Camping Stove"): one picture or two is a matter of definition,
and a difference of a hyphen is below what survives re-encoding at the fingerprint's resolution.
"""

from __future__ import annotations

import io
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import Image
from pymongo import AsyncMongoClient

from demo.catalog import generate_demo_catalog
from resolvers.assets import asset_from_resource, upsert_assets
from resolvers.assets.fingerprint import with_fingerprint
from resolvers.audit import duplicate_media
from resolvers.audit.phashes import same_picture_groups
from resolvers.db import Catalog, Document
from tests.demo_fixtures import DemoMediaSnapshots, demo_media_uploaded

NOW = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
# Uploading costs about 0.2 s of CPU a picture: 50 products (~270 pictures) already have both
# kinds of trouble, look-alikes sharing a phash and swatches shared between products.
PRODUCTS = 50
COPY = "catalog/planted/copy-of-a-hero"

Pair = frozenset[str]


@dataclass(frozen=True, slots=True)
class Uploaded:
    catalog: Catalog
    truth: dict[str, str]  # public id -> what picture it is (its bytes' etag; the copy: its source)
    original: str  # the picture COPY is a copy of


def reencoded(data: bytes) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


@pytest.fixture(scope="module")
async def uploaded(
    mongo_client: AsyncMongoClient[dict[str, Any]], demo_media_snapshots: DemoMediaSnapshots
) -> AsyncIterator[Uploaded]:
    async with demo_media_uploaded(mongo_client, PRODUCTS, NOW, demo_media_snapshots) as media:
        catalog, dam, server, report = media.catalog, media.dam, media.emulator, media.report
        assert report.failed == ()
        hero = await catalog.assets.find_one({"role": "hero"}, sort=[("publicId", 1)])
        assert hero is not None
        original = server.emulator.get_asset(hero["publicId"])
        assert original is not None
        # A copy uploaded the way `media ingest` uploads: the phash from Cloudinary, the
        # fingerprint from the bytes.
        copy = reencoded(original.data)
        response = await dam.upload(("copy.jpg", copy), public_id=COPY, phash=True)
        assert response["phash"] == original.phash  # else no phash-based audit could find it
        await upsert_assets(
            catalog.assets, [with_fingerprint(asset_from_resource(response, NOW, "test"), copy)]
        )
        truth = {asset.public_id: asset.etag for asset in server.emulator.store}
        truth[COPY] = original.etag
        # The planted hero deleted in the DAM is still in the mirror: a picture of its own.
        truth.update({public_id: public_id for public_id in report.deleted_in_dam})
        yield Uploaded(catalog, truth, original.public_id)


def pairs(groups: Iterable[Iterable[str]]) -> set[Pair]:
    return {frozenset(p) for group in groups for p in itertools.combinations(sorted(group), 2)}


def precision_and_recall(found: set[Pair], true: set[Pair]) -> tuple[float, float]:
    return len(found & true) / len(found) if found else 1.0, len(found & true) / len(true)


async def images(catalog: Catalog) -> list[Document]:
    return await catalog.assets.find({"resourceType": "image", "status": "active"}).to_list()


def undecided(public_ids: Iterable[str]) -> set[Pair]:
    """Pairs of one view of the two products of a planted near-duplicate name."""
    planted = generate_demo_catalog(products=PRODUCTS).defects.near_duplicate_names
    assert planted
    views = {public_id.rsplit("/", 1)[-1] for public_id in public_ids}
    return {
        frozenset((f"catalog/{pair.sku}/{view}", f"catalog/{pair.duplicate_sku}/{view}"))
        for pair in planted
        for view in views
    }


async def test_groups_are_one_picture_each_and_hold_every_copy(uploaded: Uploaded) -> None:
    truth = uploaded.truth
    public_ids = sorted({asset["publicId"] for asset in await images(uploaded.catalog)})
    pictures: dict[str, list[str]] = defaultdict(list)
    for public_id in public_ids:
        pictures[truth[public_id]].append(public_id)
    true = pairs(pictures.values())
    assert frozenset((uploaded.original, COPY)) in true
    assert len(true) > 1, "the demo's swatches of one colour are copies of one picture"
    left_out = undecided(public_ids) - true

    by_phash: dict[str, list[str]] = defaultdict(list)
    for asset in await images(uploaded.catalog):
        by_phash[asset["phash"]].append(asset["publicId"])
    phash_alone = precision_and_recall(pairs(by_phash.values()) - left_out, true)
    # Why phash alone is not enough: look-alike pictures of other products share it.
    assert phash_alone[0] < 1.0

    report = await duplicate_media(uploaded.catalog, limit=1000)
    groups = [[asset.public_id for asset in group.assets] for group in report.examples]
    assert report.total == len(groups)
    mixed = [group for group in groups if pairs([group]) - true - left_out]
    assert mixed == []
    assert precision_and_recall(pairs(groups) - left_out, true) == (1.0, 1.0)
    assert [uploaded.original, COPY] in groups


def asset(public_id: str, fingerprint: Document | None = None, version: int = 1) -> Document:
    document = {"publicId": public_id, "resourceType": "image", "status": "active"}
    return {**document, "version": version, **({"fingerprint": fingerprint} if fingerprint else {})}


def flat(color: str) -> Document:
    """The stored fingerprint of a flat picture of ``color``, uploaded as version 1."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), color).save(buffer, "PNG")
    fingerprinted = with_fingerprint(asset("flat"), buffer.getvalue())
    return dict(fingerprinted["fingerprint"])


def test_assets_without_a_fingerprint_are_compared_by_phash_alone() -> None:
    red, navy = flat("#c0392b"), flat("#1f2a44")
    block = [
        asset("a-unknown"),
        asset("b-red", red),
        asset("c-navy", navy),
        asset("d-red", red),
        asset("e-stale", navy, version=2),  # re-uploaded since it was fingerprinted
    ]
    groups = [[a["publicId"] for a in group] for group in same_picture_groups(block)]
    assert groups == [["a-unknown", "b-red", "d-red", "e-stale"], ["c-navy"]]
