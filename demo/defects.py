"""The data-quality defects planted in the demo catalog, and exactly where they are.

An audit is tested against this known answer: :class:`PlantedDefects` records every planted
defect, and every record not named there is clean.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from demo.tables import LONG_NAME_TAIL, Brand, Leaf
from resolvers.documents import ProductDocument

BLANK_ATTRIBUTE = "gtin"
LONG_NAME_LIMIT = 150
MISSING_ASSET_PREFIX = "catalog/missing/"


@dataclass(frozen=True, slots=True)
class MissingTranslation:
    """``name`` and ``description`` of product ``sku`` have no ``locale`` entry."""

    sku: str
    locale: str


@dataclass(frozen=True, slots=True)
class NearDuplicateName:
    """Two products of one brand whose names are equal under :func:`normalize_name`."""

    brand: str
    sku: str
    duplicate_sku: str
    name: str
    duplicate_name: str


@dataclass(frozen=True, slots=True)
class SkuCollision:
    """Two product SKUs equal under :func:`normalize_sku` (case, ``-`` vs ``_``)."""

    sku: str
    colliding_sku: str


@dataclass(frozen=True, slots=True)
class MissingRequiredAttribute:
    """Product ``sku`` lacks ``code``, required by its category ``category``."""

    sku: str
    category: str
    code: str


@dataclass(frozen=True, slots=True)
class BrokenReference:
    """Product ``sku`` lists ``missing_sku``, which no product has, in ``field``."""

    sku: str
    field: Literal["related", "accessories"]
    missing_sku: str


@dataclass(frozen=True, slots=True)
class MissingAsset:
    """Product ``sku`` references ``public_id``, which no DAM asset will ever have."""

    sku: str
    public_id: str


@dataclass(frozen=True, slots=True)
class LongName:
    """Product ``sku`` has a name longer than ``LONG_NAME_LIMIT`` in ``locale``."""

    sku: str
    locale: str
    length: int


@dataclass(frozen=True, slots=True)
class SpecSheetDescription:
    """Product ``sku``'s ``locale`` description is a supplier spec sheet pasted in whole:
    ``characters`` long, valid (within validation's limit), too heavy for a marketplace item."""

    sku: str
    locale: str
    characters: int


@dataclass(frozen=True, slots=True)
class DeletedInDam:
    """Product ``sku``'s picture ``public_id`` was deleted in the DAM and the notification
    never arrived: the mirror still lists it as active, its delivery URL answers 404."""

    sku: str
    public_id: str


@dataclass(frozen=True, slots=True)
class PlantedDefects:
    """Exactly which records carry which planted defect; every other record is clean."""

    missing_translations: tuple[MissingTranslation, ...]
    always_blank_attribute: str  # defined, set to "" on some products, never filled
    missing_hero_media: tuple[str, ...]  # product SKUs without a "hero" media reference
    near_duplicate_names: tuple[NearDuplicateName, ...]
    sku_collisions: tuple[SkuCollision, ...]
    missing_required_attributes: tuple[MissingRequiredAttribute, ...]
    broken_references: tuple[BrokenReference, ...]
    missing_assets: tuple[MissingAsset, ...]
    long_names: tuple[LongName, ...]
    # Defects only a channel contract finds (catalog-gateway simulate): the data is valid.
    spec_sheet_descriptions: tuple[SpecSheetDescription, ...] = ()
    deleted_in_dam: tuple[DeletedInDam, ...] = ()

    def product_skus(self) -> frozenset[str]:
        """SKUs of every product involved in a per-product defect."""
        skus: set[str] = set(self.missing_hero_media)
        skus.update(d.sku for d in self.missing_translations)
        for pair in self.near_duplicate_names:
            skus.update((pair.sku, pair.duplicate_sku))
        for collision in self.sku_collisions:
            skus.update((collision.sku, collision.colliding_sku))
        skus.update(d.sku for d in self.missing_required_attributes)
        skus.update(d.sku for d in self.broken_references)
        skus.update(d.sku for d in self.missing_assets)
        skus.update(d.sku for d in self.long_names)
        skus.update(d.sku for d in self.spec_sheet_descriptions)
        skus.update(d.sku for d in self.deleted_in_dam)
        return frozenset(skus)


@dataclass(frozen=True, slots=True)
class DefectRoles:
    """Which products (indices into the generated list) get which defect planted."""

    collision_originals: list[int]
    collision_twins: list[int]  # their SKUs are respelled originals' (colliding_sku)
    duplicate_originals: list[int]
    duplicate_copies: list[int]  # their names become respelled originals' names
    missing_translation: list[int]
    no_hero: list[int]
    missing_required: list[int]
    broken_reference: list[int]
    missing_asset: list[int]
    long_name: list[int]


# Near-duplicate spellings of one name: each is equal to the original under normalize_name.
_NEAR_DUPLICATES: tuple[Callable[[str], str], ...] = (
    lambda name: name + " ",
    lambda name: name.replace(" ", "-", 1),
    lambda name: name.replace(" ", "  ", 1),
    lambda name: name.lower(),
)
# Colliding spellings of one SKU: each is equal to the original under normalize_sku.
_SKU_COLLISIONS: tuple[Callable[[str], str], ...] = (
    lambda sku: sku.lower().replace("-", "_"),
    lambda sku: sku.replace("-", "_"),
    lambda sku: sku.lower(),
)


def colliding_sku(n: int, sku: str) -> str:
    """The ``n``-th planted collision's spelling of ``sku``."""
    return _SKU_COLLISIONS[n % len(_SKU_COLLISIONS)](sku)


def plant_defects(
    documents: list[ProductDocument],
    roles: DefectRoles,
    rng: random.Random,
    *,
    primary: str,
    droppable: Sequence[str],
    leaves: Sequence[Leaf],
    brands: Sequence[Brand],
) -> PlantedDefects:
    """Plant the defects into ``documents`` (in place) and record them.

    ``primary`` is the locale of over-long names, ``droppable`` the locales a missing
    translation may lack; ``leaves`` and ``brands`` are each product's. SKU collisions are
    planted by the generator (``colliding_sku``) and only recorded here.
    """
    collisions = tuple(
        SkuCollision(documents[original]["sku"], documents[twin]["sku"])
        for original, twin in zip(roles.collision_originals, roles.collision_twins, strict=True)
    )

    duplicates: list[NearDuplicateName] = []
    for n, (original, copy) in enumerate(
        zip(roles.duplicate_originals, roles.duplicate_copies, strict=True)
    ):
        respell = _NEAR_DUPLICATES[n % len(_NEAR_DUPLICATES)]
        source, target = documents[original], documents[copy]
        target["name"] = {tag: respell(text) for tag, text in source["name"].items()}
        target["description"] = dict(source["description"])
        duplicates.append(
            NearDuplicateName(
                brand=source["brand"],
                sku=source["sku"],
                duplicate_sku=target["sku"],
                name=source["name"][primary],
                duplicate_name=target["name"][primary],
            )
        )

    translations: list[MissingTranslation] = []
    for n, i in enumerate(roles.missing_translation):
        locale = droppable[n % len(droppable)]
        del documents[i]["name"][locale]
        del documents[i]["description"][locale]
        translations.append(MissingTranslation(documents[i]["sku"], locale))

    for i in roles.no_hero:
        media = [m for m in documents[i]["media"] if m["role"] != "hero"]
        for position, reference in enumerate(media):
            reference["position"] = position
        documents[i]["media"] = media

    missing_required: list[MissingRequiredAttribute] = []
    for i in roles.missing_required:
        document, leaf = documents[i], leaves[i]
        code = rng.choice(leaf.required)
        document["attributes"].pop(code, None)
        for variant in document["variants"]:
            overrides = variant.get("attributes")
            if overrides is not None:
                overrides.pop(code, None)
                if not overrides:
                    del variant["attributes"]
        missing_required.append(MissingRequiredAttribute(document["sku"], leaf.slug, code))

    broken: list[BrokenReference] = []
    for n, i in enumerate(roles.broken_reference):
        document = documents[i]
        # Running numbers stop at the product count, so this SKU was never generated.
        missing_sku = f"{brands[i].prefix}-{leaves[i].code}-{len(documents) + 1 + n:06d}"
        if n % 2 == 0:
            document["related"] = [*document["related"][:3], missing_sku]
            broken.append(BrokenReference(document["sku"], "related", missing_sku))
        else:
            document["accessories"] = [*document["accessories"][:2], missing_sku]
            broken.append(BrokenReference(document["sku"], "accessories", missing_sku))

    assets: list[MissingAsset] = []
    for i in roles.missing_asset:
        document = documents[i]
        reference = next(
            m for m in reversed(document["media"]) if m["role"] not in ("hero", "swatch")
        )
        suffix = reference["publicId"].rsplit("/", 1)[1]
        reference["publicId"] = f"{MISSING_ASSET_PREFIX}{document['sku']}/{suffix}"
        assets.append(MissingAsset(document["sku"], reference["publicId"]))

    long_names: list[LongName] = []
    for n, i in enumerate(roles.long_name):
        name = documents[i]["name"]
        # The marketplace-style keyword stuffing that overflows storefront title fields.
        tail = LONG_NAME_TAIL[n % len(LONG_NAME_TAIL) :] + LONG_NAME_TAIL
        parts: list[str] = []
        text = name[primary]
        for part in tail:
            parts.append(part)
            text = f"{name[primary]} | {', '.join(parts)}"
            if len(text) > LONG_NAME_LIMIT:
                break
        name[primary] = text
        long_names.append(LongName(documents[i]["sku"], primary, len(text)))

    return PlantedDefects(
        missing_translations=tuple(translations),
        always_blank_attribute=BLANK_ATTRIBUTE,
        missing_hero_media=tuple(documents[i]["sku"] for i in roles.no_hero),
        near_duplicate_names=tuple(duplicates),
        sku_collisions=collisions,
        missing_required_attributes=tuple(missing_required),
        broken_references=tuple(broken),
        missing_assets=tuple(assets),
        long_names=tuple(long_names),
    )


# --------------------------------------------------------------------------- contract defects

DELETED_IN_DAM_COUNT = 1
# Validation's limit of a description (gateway/validation.toml): the pasted sheet stays within
# it, so only the marketplace's payload budget (gateway/contracts.toml) notices it.
SPEC_SHEET_LIMIT = 4_900
_SPEC_ROWS = (
    ("Drop test", "cm"),
    ("Net weight", "g"),
    ("Tolerance", "mm"),
    ("Tensile strength", "N"),
    ("Surface temperature", "C"),
    ("Salt spray", "h"),
    ("Dimensional change", "%"),
    ("Batch moisture", "%"),
)


def deleted_in_dam(products: Sequence[Mapping[str, Any]]) -> tuple[DeletedInDam, ...]:
    """The hero pictures deleted in the DAM without a notification: chosen from the product
    documents alone (published, hero first), by SKU hash, so the generator that records them
    and the demo upload that leaves them out of the DAM (``demo.upload``) agree."""
    eligible = []
    for product in products:
        media = product.get("media") or []
        if product.get("status") == "published" and media and media[0].get("role") == "hero":
            eligible.append((product["sku"], str(media[0]["publicId"])))
    eligible.sort(key=lambda pair: hashlib.sha256(f"deleted-in-dam\x1f{pair[0]}".encode()).digest())
    return tuple(DeletedInDam(sku, public_id) for sku, public_id in eligible[:DELETED_IN_DAM_COUNT])


def spec_sheet(sku: str, name: str) -> str:
    """A supplier's specification sheet for ``sku``, as pasted from their PDF: test results
    with lot numbers and measurements, a few KB that gzip cannot squeeze much."""
    rng = random.Random(f"spec-sheet:{sku}")
    lines = [f"{name} - supplier specification sheet, article {sku}"]
    lot = 0
    while True:
        lot += 1
        label, unit = _SPEC_ROWS[lot % len(_SPEC_ROWS)]
        line = (
            f"Lot {rng.randint(10_000, 99_999)}-{rng.choice('ABCDEFGHKLMNPRSTUVWXZ')}"
            f"{rng.randint(100, 999)}: {label} {rng.uniform(0.1, 999.9):.2f} {unit} "
            f"(spec {rng.uniform(0.1, 999.9):.1f}, ISO {rng.randint(1_000, 20_000)}-"
            f"{rng.randint(1, 9)}, lab {rng.randint(100, 999)}/{rng.randint(10, 99)})"
        )
        if sum(len(text) + 1 for text in lines) + len(line) > SPEC_SHEET_LIMIT:
            return "\n".join(lines)
        lines.append(line)


def plant_spec_sheet(document: ProductDocument, locale: str) -> SpecSheetDescription:
    """Replace ``document``'s ``locale`` description by a pasted spec sheet (in place)."""
    text = spec_sheet(document["sku"], document["name"][locale])
    document["description"][locale] = text
    return SpecSheetDescription(document["sku"], locale, len(text))
