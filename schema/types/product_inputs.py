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
    locale: str
    value: str | None


@strawberry.input(
    description="One attribute value (typed by its definition; a localizable one is "
    "{locale: value}); on update, a null value removes the attribute."
)
class AttributeValueInput:
    code: str
    value: JSON | None
    unit: str | None = None


@strawberry.input(description="A variant option value, e.g. size = M.")
class VariantOptionValueInput:
    code: str
    value: str


@strawberry.input(description="A variant: its SKU, options and attribute overrides.")
class VariantInput:
    sku: str
    options: list[VariantOptionValueInput] = strawberry.field(default_factory=list)
    attributes: list[AttributeValueInput] = strawberry.field(default_factory=list)


@strawberry.input(
    description="Changes to one existing variant: options replace the variant's options when "
    "given; attributes merge per code (a null value removes one)."
)
class VariantPatchInput:
    sku: str
    options: list[VariantOptionValueInput] | None = None
    attributes: list[AttributeValueInput] = strawberry.field(default_factory=list)


@strawberry.input(description="Variants to add, change and remove, by SKU.")
class VariantChangesInput:
    add: list[VariantInput] = strawberry.field(default_factory=list)
    update: list[VariantPatchInput] = strawberry.field(default_factory=list)
    remove: list[str] = strawberry.field(default_factory=list)


@strawberry.input(
    description="A reference to an asset of the mirror (a Cloudinary public id); rejected and "
    "unknown assets are refused."
)
class MediaReferenceInput:
    public_id: str
    role: MediaRole
    variant_sku: str | None = None


@strawberry.input(
    description="Media changes, applied in this order: detach, attach (appended), then order "
    "(the public ids named come first, in that order; the rest keep theirs)."
)
class MediaChangesInput:
    attach: list[MediaReferenceInput] = strawberry.field(default_factory=list)
    detach: list[str] = strawberry.field(default_factory=list)
    order: list[str] = strawberry.field(default_factory=list)


@strawberry.input(description="A product in a bundle, and how many of it.")
class BundleItemInput:
    sku: str
    quantity: int = 1


@strawberry.input(description="A new product (status DRAFT unless given).")
class ProductCreateInput:
    sku: str
    brand: str | None = None
    status: ProductStatus = ProductStatus.DRAFT
    name: list[LocalizedTextInput] = strawberry.field(default_factory=list)
    description: list[LocalizedTextInput] = strawberry.field(default_factory=list)
    categories: list[str] = strawberry.field(default_factory=list, description="Slugs.")
    attributes: list[AttributeValueInput] = strawberry.field(default_factory=list)
    variants: list[VariantInput] = strawberry.field(default_factory=list)
    media: list[MediaReferenceInput] = strawberry.field(default_factory=list)
    accessories: list[str] = strawberry.field(default_factory=list, description="SKUs.")
    related: list[str] = strawberry.field(default_factory=list, description="SKUs.")
    bundle_items: list[BundleItemInput] = strawberry.field(default_factory=list)
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


@strawberry.input(
    description="Changes to a product; fields left out stay as they are. Localized text and "
    "attributes merge per locale and code; categories and relations are replaced when given."
)
class ProductUpdateInput:
    sku: str
    expected_revision: int = strawberry.field(
        description="The revision the client read. When the product moved on since, the write "
        "still merges unless a field it changes was changed meanwhile (VersionConflictError)."
    )
    brand: str | None = None
    status: ProductStatus | None = None
    name: list[LocalizedTextInput] | None = None
    description: list[LocalizedTextInput] | None = None
    categories: list[str] | None = None
    attributes: list[AttributeValueInput] | None = None
    variants: VariantChangesInput | None = None
    media: MediaChangesInput | None = None
    accessories: list[str] | None = None
    related: list[str] | None = None
    bundle_items: list[BundleItemInput] | None = None
    dry_run: bool = strawberry.field(default=False, description=DRY_RUN)


@strawberry.input(description="A product to archive or restore.")
class ProductStatusInput:
    sku: str
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
    dry_run: bool
    errors: list[UserError]


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
