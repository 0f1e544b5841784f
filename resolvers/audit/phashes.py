"""Duplicate media: live assets that are one picture, by Cloudinary's perceptual hash (``phash``)
and the gateway's own fingerprint (:mod:`resolvers.assets.fingerprint`).

Equal phash alone is too coarse: it keeps neither colour nor details smaller than about a
sixteenth of the picture, so shots of one set-up (one shape, one framing, another colour or
label) share it. So assets of equal phash (found by one aggregation) are only candidates; they
are split into groups whose fingerprints are of the same picture. An asset without a fingerprint
(uploaded to Cloudinary some other way; the mirror learns of it without its bytes) can only be
compared by phash: it joins the first group of its phash.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass

from resolvers.assets.fingerprint import Fingerprint, fingerprint_of, same_picture
from resolvers.audit.asset_links import AssetRef
from resolvers.audit.pipeline import LIVE_ASSET_STATUSES, Pipeline, Section, aggregate
from resolvers.db import Catalog, Document

# Candidate phashes per query: far below MongoDB's 16 MB command size.
PHASH_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class DuplicateMedia:
    phash: str
    assets: tuple[AssetRef, ...]


def candidate_phashes_pipeline() -> Pipeline:
    """Phashes shared by more than one live asset, in order."""
    return [
        {
            "$match": {
                "phash": {"$type": "string", "$ne": ""},
                "status": {"$in": list(LIVE_ASSET_STATUSES)},
            }
        },
        {"$group": {"_id": "$phash", "n": {"$sum": 1}}},
        {"$match": {"n": {"$gt": 1}}},
        {"$sort": {"_id": 1}},
        {"$project": {"n": 0}},
    ]


@dataclass(slots=True)
class _Group:
    leader: Fingerprint | None
    members: list[Document]


def same_picture_groups(assets: Sequence[Document]) -> list[list[Document]]:
    """``assets`` of one phash split into groups of one picture, each in the order given.

    Each fingerprinted asset joins the first group whose first asset is the same picture, else
    starts one; assets without a fingerprint join the first group (or form one). The groups
    come in the order of their first assets.
    """
    groups: list[_Group] = []
    unknown: list[Document] = []
    for asset in assets:
        fingerprint = fingerprint_of(asset)
        if fingerprint is None:
            unknown.append(asset)
            continue
        group = next(
            (g for g in groups if g.leader is not None and same_picture(g.leader, fingerprint)),
            None,
        )
        if group is None:
            groups.append(_Group(fingerprint, [asset]))
        else:
            group.members.append(asset)
    if unknown:
        if groups:
            groups[0].members = sorted([*groups[0].members, *unknown], key=_order)
        else:
            groups.append(_Group(None, unknown))
    return [g.members for g in groups]


def _order(asset: Document) -> tuple[str, str]:
    return (str(asset.get("publicId")), str(asset.get("resourceType", "image")))


def _ref(asset: Document) -> AssetRef:
    return AssetRef(
        asset["publicId"], asset.get("resourceType", "image"), asset["status"], asset.get("sku")
    )


async def _candidates(catalog: Catalog, phashes: Sequence[str]) -> AsyncIterator[list[Document]]:
    """The live assets of each phash, one list per phash in order, each by public id."""
    for start in range(0, len(phashes), PHASH_BATCH):
        cursor = catalog.assets.find(
            {
                "phash": {"$in": list(phashes[start : start + PHASH_BATCH])},
                "status": {"$in": list(LIVE_ASSET_STATUSES)},
            },
            {
                "_id": 0,
                "publicId": 1,
                "resourceType": 1,
                "status": 1,
                "sku": 1,
                "phash": 1,
                "version": 1,
                "fingerprint": 1,
            },
            sort=[("phash", 1), ("publicId", 1), ("resourceType", 1)],
            allow_disk_use=True,
        )
        block: list[Document] = []
        async for asset in cursor:
            if block and asset["phash"] != block[0]["phash"]:
                yield block
                block = []
            block.append(asset)
        if block:
            yield block


async def duplicate_media(catalog: Catalog, *, limit: int = 100) -> Section[DuplicateMedia]:
    """Groups of live assets that are one picture: equal phash, and fingerprints (where both
    assets have one) of the same picture. In phash order, then by first public id."""
    phashes = [row["_id"] for row in await aggregate(catalog.assets, candidate_phashes_pipeline())]
    total = 0
    examples: list[DuplicateMedia] = []
    async for block in _candidates(catalog, phashes):
        for group in _duplicates(same_picture_groups(block)):
            total += 1
            if len(examples) < limit:
                examples.append(DuplicateMedia(group[0]["phash"], tuple(map(_ref, group))))
    return Section(total, tuple(examples))


def _duplicates(groups: Iterable[list[Document]]) -> Iterable[list[Document]]:
    return (group for group in groups if len(group) > 1)
