"""Inputs and payloads of the product mutations (``schema/mutations/products.py``).

Inputs mirror the shape the read side exposes: localized text as ``[{locale, value}]``,
attributes as ``[{code, value, unit}]``, media and relations by public id and SKU. ``to_*``
turn them into the partial product ``resolvers.writes.merge_patch`` merges; payloads are
built from a ``record`` (plain data), so a replayed Idempotency-Key answers exactly what the
first request did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import strawberry
from strawberry.scalars import JSON

from resolvers.db import Document
from schema.types.enums import ProductStatus
from schema.types.history import FieldChangeType, json_value
from schema.types.media import MediaRole
from schema.types.product import Product
from schema.types.user_errors import (
    FieldOwnershipError,
    FieldValue,
    InputError,
    NotFoundError,
    UserError,
    UserErrorCode,
    ValidationError,
    VersionConflictError,
)

DRY_RUN = "When true: full validation and the would-be changes, nothing written."


@strawberry.input(description="One locale's text; on update, a null value removes the locale.")
class LocalizedTextInput:
    locale: str = strawberry.field(description="A supported locale, e.g. de-DE.")
    value: str | None = strawberry.field(
        description="The text in that locale; null removes the locale on update."
    )


@strawberry.input(
    description="One attribute value (typed by its definition; a localizable one is "
    "{locale: value}); on update, a null value removes the attribute."
)
class AttributeValueInput:
    code: str = strawberry.field(
        description="The attribute's code, as in the attribute definitions."
    )
    value: JSON | None = strawberry.field(
        description="The value, typed by the definition; null removes it on update."
    )
    unit: str | None = strawberry.field(
        default=None,
        description="For measured numbers: the unit of 'value', one the definition allows (kg, g).",
    )


@strawberry.input(description="A variant option value, e.g. size = M.")
class VariantOptionValueInput:
    code: str = strawberry.field(description="The option's code, e.g. size.")
    value: str = strawberry.field(description="The option's value, e.g. M.")


@strawberry.input(description="A variant: its SKU, options and attribute overrides.")
class VariantInput:
    sku: str = strawberry.field(description="The variant's SKU, unique in the catalog.")
    options: list[VariantOptionValueInput] = strawberry.field(
        default_factory=list,
        description="The options that set this variant apart, e.g. color and size.",
    )
    attributes: list[AttributeValueInput] = strawberry.field(
        default_factory=list,
        description="Attribute values that override the product's for this variant.",
    )


@strawberry.input(
    description="Changes to one existing variant: options replace the variant's options when "
    "given; attributes merge per code (a null value removes one)."
)
class VariantPatchInput:
    sku: str = strawberry.field(description="The SKU of the variant to change.")
    options: list[VariantOptionValueInput] | None = strawberry.field(
        default=None,
        description="The variant's options, replacing all of them; omitted: unchanged.",
    )
    attributes: list[AttributeValueInput] = strawberry.field(
        default_factory=list, description="Attribute overrides to set (a null value removes one)."
    )


@strawberry.input(description="Variants to add, change and remove, by SKU.")
class VariantChangesInput:
    add: list[VariantInput] = strawberry.field(default_factory=list, description="New variants.")
    update: list[VariantPatchInput] = strawberry.field(
        default_factory=list, description="Changes to existing variants."
    )
    remove: list[str] = strawberry.field(
        default_factory=list, description="SKUs of variants to remove."
    )


@strawberry.input(
    description="A reference to an asset of the mirror (a Cloudinary public id); rejected and "
    "unknown assets are refused."
)
class MediaReferenceInput:
    public_id: str = strawberry.field(
        description="The asset's Cloudinary public ID; the asset must be in the mirror."
    )
    role: MediaRole = strawberry.field(description="What the asset shows for this product.")
    variant_sku: str | None = strawberry.field(
        default=None, description="The variant the asset belongs to; omitted: the whole product."
    )


@strawberry.input(
    description="Media changes, applied in this order: detach, attach (appended), then order "
    "(the public ids named come first, in that order; the rest keep theirs)."
)
class MediaChangesInput:
    attach: list[MediaReferenceInput] = strawberry.field(
        default_factory=list, description="References to append."
    )
    detach: list[str] = strawberry.field(
        default_factory=list, description="Public IDs of references to remove."
    )
    order: list[str] = strawberry.field(
        default_factory=list,
        description="Public IDs in their new order; those not named keep their order after them.",
    )


@strawberry.input(description="A product in a bundle, and how many of it.")
class BundleItemInput:
    sku: str = strawberry.field(description="The component's SKU.")
    quantity: int = strawberry.field(
        default=1, description="How many of the component the bundle holds (default 1)."
    )


@strawberry.input(description="A new product (status DRAFT unless given).")
class ProductCreateInput:
    sku: str = strawberry.field(description="The new product's SKU, unique in the catalog.")
    brand: str | None = strawberry.field(default=None, description="The brand name.")
    status: ProductStatus = strawberry.field(
        default=ProductStatus.DRAFT, description="DRAFT unless given."
    )
    name: list[LocalizedTextInput] = strawberry.field(
        default_factory=list, description="The name per locale."
    )
    description: list[LocalizedTextInput] = strawberry.field(
        default_factory=list, description="The description per locale."
    )
    categories: list[str] = strawberry.field(default_factory=list, description="Slugs.")
    attributes: list[AttributeValueInput] = strawberry.field(
        default_factory=list, description="Attribute values."
    )
    variants: list[VariantInput] = strawberry.field(
        default_factory=list, description="The product's variants."
    )
    media: list[MediaReferenceInput] = strawberry.field(
        default_factory=list, description="References to mirrored assets, in display order."
    )
    accessories: list[str] = strawberry.field(default_factory=list, description="SKUs.")
    related: list[str] = strawberry.field(default_factory=list, description="SKUs.")
    bundle_items: list[BundleItemInput] = strawberry.field(
        default_factory=list, description="For a bundle: its components."
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


@strawberry.input(
    description="Changes to a product; fields left out stay as they are. Localized text and "
    "attributes merge per locale and code; categories and relations are replaced when given."
)
class ProductUpdateInput:
    sku: str = strawberry.field(description="The SKU of the product to change.")
    expected_revision: int = strawberry.field(
        description="The revision the client read. When the product moved on since, the write "
        "still merges unless a field it changes was changed meanwhile (VersionConflictError)."
    )
    brand: str | None = strawberry.field(default=None, description="The new brand.")
    status: ProductStatus | None = strawberry.field(default=None, description="The new status.")
    name: list[LocalizedTextInput] | None = strawberry.field(
        default=None, description="Names to set per locale (a null value removes one)."
    )
    description: list[LocalizedTextInput] | None = strawberry.field(
        default=None, description="Descriptions to set per locale (a null value removes one)."
    )
    categories: list[str] | None = strawberry.field(
        default=None, description="Category slugs, replacing all of them."
    )
    attributes: list[AttributeValueInput] | None = strawberry.field(
        default=None, description="Attribute values to set (a null value removes one)."
    )
    variants: VariantChangesInput | None = strawberry.field(
        default=None, description="Variants to add, change and remove."
    )
    media: MediaChangesInput | None = strawberry.field(
        default=None, description="Media to attach, detach and reorder."
    )
    accessories: list[str] | None = strawberry.field(
        default=None, description="Accessory SKUs, replacing all of them."
    )
    related: list[str] | None = strawberry.field(
        default=None, description="Related product SKUs, replacing all of them."
    )
    bundle_items: list[BundleItemInput] | None = strawberry.field(
        default=None, description="Bundle components, replacing all of them."
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


@strawberry.input(description="A product to archive or restore.")
class ProductStatusInput:
    sku: str = strawberry.field(description="The SKU of the product.")
    expected_revision: int | None = strawberry.field(
        default=None,
        description="The revision the client read; omitted: no check (archiving is idempotent).",
    )
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


def localized(entries: Iterable[LocalizedTextInput]) -> dict[str, str | None]:
    return {entry.locale: entry.value for entry in entries}


def attribute_values(entries: Iterable[AttributeValueInput]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for entry in entries:
        if entry.value is None:
            values[entry.code] = None
            continue
        value: dict[str, Any] = {"value": entry.value}
        if entry.unit is not None:
            value["unit"] = entry.unit
        values[entry.code] = value
    return values


def variant_document(variant: VariantInput) -> Document:
    document: Document = {
        "sku": variant.sku,
        "options": {option.code: option.value for option in variant.options},
    }
    attributes = {k: v for k, v in attribute_values(variant.attributes).items() if v is not None}
    if attributes:
        document["attributes"] = attributes
    return document


def variant_patch(variant: VariantPatchInput) -> Document:
    patch: Document = {}
    if variant.options is not None:
        patch["options"] = {option.code: option.value for option in variant.options}
    if variant.attributes:
        patch["attributes"] = attribute_values(variant.attributes)
    return patch


def media_references(entries: Sequence[MediaReferenceInput], start: int = 0) -> list[Document]:
    references = []
    for position, entry in enumerate(entries, start=start):
        reference: Document = {
            "publicId": entry.public_id,
            "role": entry.role.value,
            "position": position,
        }
        if entry.variant_sku is not None:
            reference["variantSku"] = entry.variant_sku
        references.append(reference)
    return references


def changed_media(current: Sequence[Document], changes: MediaChangesInput) -> list[Document]:
    """The media list after detach, attach and order, positions renumbered from 0."""
    detached = set(changes.detach)
    kept = [dict(m) for m in current if m.get("publicId") not in detached]
    kept += media_references(changes.attach)
    rank = {public_id: i for i, public_id in enumerate(changes.order)}
    ordered = sorted(
        enumerate(kept), key=lambda item: (rank.get(item[1]["publicId"], len(rank)), item[0])
    )
    return [{**media, "position": i} for i, (_, media) in enumerate(ordered)]


def bundle(entries: Iterable[BundleItemInput]) -> list[Document]:
    return [{"sku": entry.sku, "quantity": entry.quantity} for entry in entries]


def create_document(input: ProductCreateInput) -> Document:
    """The product a create input describes, in the stored shape."""
    document: Document = {
        "sku": input.sku,
        "status": input.status.value,
        "name": {k: v for k, v in localized(input.name).items() if v is not None},
        "description": {k: v for k, v in localized(input.description).items() if v is not None},
        "categories": list(input.categories),
        "attributes": {
            k: v for k, v in attribute_values(input.attributes).items() if v is not None
        },
        "variants": [variant_document(v) for v in input.variants],
        "media": media_references(input.media),
        "accessories": list(input.accessories),
        "related": list(input.related),
        "bundle": bundle(input.bundle_items),
    }
    if input.brand is not None:
        document["brand"] = input.brand
    return document


# The input's spelling of stored field names, for error paths.
INPUT_NAMES = {"bundle": "bundleItems"}


# Payloads: a record (plain data kept for Idempotency-Key replays) → the GraphQL payload.


@strawberry.type
class ProductWritePayload:
    product: Product | None = strawberry.field(
        description="The product after the write (for a dry run, as it would be; for a dry-run "
        "create, null: it has no id yet); on failure, as stored (null when there is none)."
    )
    revision: int | None = strawberry.field(
        description="The product's revision after the write (would-be for a dry run)."
    )
    changes: list[FieldChangeType] = strawberry.field(
        description="What changed (would change, for a dry run); empty for a write that "
        "changes nothing, which bumps no revision, and on failure."
    )
    dry_run: bool = strawberry.field(
        description="True when nothing was written: the input asked for a dry run."
    )
    errors: list[UserError] = strawberry.field(
        description="What the user can fix; empty on success."
    )


@strawberry.type(description="The result of productCreate.")
class ProductCreatePayload(ProductWritePayload):
    pass


@strawberry.type(description="The result of productUpdate.")
class ProductUpdatePayload(ProductWritePayload):
    pass


@strawberry.type(description="The result of productArchive.")
class ProductArchivePayload(ProductWritePayload):
    pass


@strawberry.type(description="The result of productRestore.")
class ProductRestorePayload(ProductWritePayload):
    pass


def error_from_record(record: Mapping[str, Any]) -> UserError:
    code = UserErrorCode[record["code"]]
    path = record.get("path")
    message = str(record["message"])
    kind = record["kind"]
    if kind == "validation":
        return ValidationError(
            code=code, path=path, message=message, rule=record["rule"], limit=record.get("limit")
        )
    if kind == "conflict":
        return VersionConflictError(
            code=code,
            path=path,
            message=message,
            current_revision=int(record["currentRevision"]),
            current_values=[
                FieldValue(path=[str(p) for p in v["path"]], value=json_value(v.get("value")))
                for v in record["currentValues"]
            ],
        )
    if kind == "ownership":
        return FieldOwnershipError(code=code, path=path, message=message, owner=record["owner"])
    if kind == "not_found":
        return NotFoundError(code=code, path=path, message=message)
    return InputError(code=code, path=path, message=message)


P = TypeVar("P", bound=ProductWritePayload)


def payload_from_record(payload: type[P], record: Mapping[str, Any]) -> P:
    product = record.get("product")
    return payload(
        product=Product.from_document(product) if product and "_id" in product else None,
        revision=record.get("revision"),
        changes=[
            FieldChangeType(
                path=[str(p) for p in change["path"]],
                before=json_value(change.get("before")),
                after=json_value(change.get("after")),
            )
            for change in record.get("changes") or []
        ],
        dry_run=bool(record.get("dryRun")),
        errors=[error_from_record(error) for error in record.get("errors") or []],
    )
