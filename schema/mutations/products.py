"""The product mutations (catalog:write): create, update, archive, restore.

Relay style: one ``input`` (with ``dryRun``), a payload with the product, its revision, the
field-level changes and ``errors``. Writes go through the process's one ``ProductWriter``
(validated, ownership-checked, versioned, recorded in history in one transaction); what it
refuses comes back as typed ``UserError``s, and so do broken references (media the asset mirror
does not have or rejected, unknown SKUs and categories), checked here before the writer runs.
Anything unexpected is raised, and masked with the request id by the schema.

With an ``Idempotency-Key`` header, a repeated request (same key, same body) answers the
first result without writing again (``resolvers.idempotency``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry

from resolvers.access import Scope
from resolvers.db import Document
from resolvers.upcasting import upcast
from resolvers.writes import WriteResult
from resolvers.writes.references import check_references
from schema.mutations.write_payloads import (
    Info,
    Record,
    actor,
    answer,
    failed_record,
    input_error_record,
    not_found_record,
    product_writer,
    provenance,
    validation_record,
    write_record,
)
from schema.permissions import requires
from schema.types.enums import ProductStatus
from schema.types.product_inputs import (
    ProductArchivePayload,
    ProductCreateInput,
    ProductCreatePayload,
    ProductRestorePayload,
    ProductStatusInput,
    ProductUpdateInput,
    ProductUpdatePayload,
    attribute_values,
    bundle,
    changed_media,
    create_document,
    localized,
    variant_document,
    variant_patch,
)
from schema.types.user_errors import UserErrorCode


@strawberry.type
class ProductMutations:
    @strawberry.mutation(
        description="Create a product (needs catalog:write).",
        extensions=requires(Scope.CATALOG_WRITE),
    )
    async def product_create(
        self,
        info: Info,
        input: Annotated[
            ProductCreateInput, strawberry.argument(description="The product to create.")
        ],
    ) -> ProductCreatePayload | None:
        return await answer(info, ProductCreatePayload, lambda: _create(info, input))

    @strawberry.mutation(
        description="Change a product (needs catalog:write): the fields given, merged onto the "
        "current product when it moved on since expectedRevision without touching them.",
        extensions=requires(Scope.CATALOG_WRITE),
    )
    async def product_update(
        self,
        info: Info,
        input: Annotated[
            ProductUpdateInput, strawberry.argument(description="The product and its changes.")
        ],
    ) -> ProductUpdatePayload | None:
        return await answer(info, ProductUpdatePayload, lambda: _update(info, input))

    @strawberry.mutation(
        description="Archive a product (needs catalog:write): it is withdrawn at once from every "
        "channel it is published or scheduled on (UNPUBLISHED there); archiving an archived "
        "product changes nothing.",
        extensions=requires(Scope.CATALOG_WRITE),
    )
    async def product_archive(
        self,
        info: Info,
        input: Annotated[ProductStatusInput, strawberry.argument(description="The product.")],
    ) -> ProductArchivePayload | None:
        return await answer(info, ProductArchivePayload, lambda: _archive(info, input))

    @strawberry.mutation(
        description="Bring an archived product back as a DRAFT (needs catalog:write): it is "
        "published again only through review.",
        extensions=requires(Scope.CATALOG_WRITE),
    )
    async def product_restore(
        self,
        info: Info,
        input: Annotated[ProductStatusInput, strawberry.argument(description="The product.")],
    ) -> ProductRestorePayload | None:
        change = product_writer(info).restore
        return await answer(info, ProductRestorePayload, lambda: _status(info, input, change))


async def _archive(info: Info, input: ProductStatusInput) -> Record:
    """Archive, then withdraw the product from every channel it is live or scheduled on
    (resolvers.workflow): an archived product is not sold."""
    record = await _status(info, input, product_writer(info).archive)
    workflow = info.context.services.workflow
    if workflow is not None and not input.dry_run and not record["errors"]:
        await workflow.withdraw(str(input.sku), actor(info), provenance(info))
    return record


async def _status(
    info: Info, input: ProductStatusInput, change: Callable[..., Awaitable[WriteResult]]
) -> Record:
    """Archive or restore (the writer's method ``change``), as a payload record."""
    result = await change(
        input.sku,
        actor(info),
        expected_revision=input.expected_revision,
        provenance=provenance(info),
        dry_run=input.dry_run,
    )
    return write_record(result, input.dry_run)


async def _create(info: Info, input: ProductCreateInput) -> Record:
    if refused := _publishing(info, input.status):
        return failed_record(input.dry_run, [refused])
    document = create_document(input)
    violations = await check_references(
        info.context.catalog,
        media=[m.public_id for m in input.media],
        products=_linked(document),
        categories=document["categories"],
    )
    if violations:
        return failed_record(input.dry_run, [validation_record(v) for v in violations])
    result = await product_writer(info).create(
        document, actor(info), provenance=provenance(info), dry_run=input.dry_run
    )
    return write_record(result, input.dry_run)


async def _update(info: Info, input: ProductUpdateInput) -> Record:
    if refused := _publishing(info, input.status):
        return failed_record(input.dry_run, [refused])
    patch: Document = {}
    if input.brand is not None:
        patch["brand"] = input.brand
    if input.status is not None:
        patch["status"] = input.status.value
    if input.name is not None:
        patch["name"] = localized(input.name)
    if input.description is not None:
        patch["description"] = localized(input.description)
    if input.attributes is not None:
        patch["attributes"] = attribute_values(input.attributes)
    if input.categories is not None:
        patch["categories"] = list(input.categories)
    for field, skus in (("accessories", input.accessories), ("related", input.related)):
        if skus is not None:
            patch[field] = list(skus)
    if input.bundle_items is not None:
        patch["bundle"] = bundle(input.bundle_items)
    errors: list[Record] = []
    if input.variants is not None or input.media is not None:
        # Variants and media change relative to what is stored: read it once.
        stored = await info.context.catalog.products.find_one({"sku": input.sku})
        if stored is None:
            return failed_record(input.dry_run, [not_found_record(input.sku)])
        current = upcast(stored)
        if input.variants is not None:
            errors += _variant_changes(current, input, patch)
        if input.media is not None:
            errors += _media_changes(current, input, patch)
    attached = [m.public_id for m in input.media.attach] if input.media else []
    violations = await check_references(
        info.context.catalog,
        media=attached,
        products=_linked(patch),
        categories=patch.get("categories") or [],
    )
    errors += [validation_record(v) for v in violations]
    if errors:
        return failed_record(input.dry_run, errors)
    result = await product_writer(info).update(
        input.sku,
        patch,
        actor(info),
        expected_revision=input.expected_revision,
        provenance=provenance(info),
        dry_run=input.dry_run,
    )
    return write_record(result, input.dry_run)


def _publishing(info: Info, status: ProductStatus | None) -> Record | None:
    """Editors write drafts; publishing is a lead's (catalog:publish), refused before any read."""
    if status != ProductStatus.PUBLISHED or info.context.principal.has(Scope.CATALOG_PUBLISH):
        return None
    return input_error_record(
        ["input", "status"],
        UserErrorCode.NOT_PERMITTED,
        f"publishing needs the {Scope.CATALOG_PUBLISH.value!r} scope",
    )


def _variant_changes(current: Document, input: ProductUpdateInput, patch: Document) -> list[Record]:
    assert input.variants is not None
    existing = {v.get("sku") for v in current.get("variants") or []}
    changes: dict[str, Any] = {}
    errors: list[Record] = []
    for variant in input.variants.add:
        if variant.sku in existing:
            errors.append(
                input_error_record(
                    ["input", "variants", "add", variant.sku],
                    UserErrorCode.ALREADY_EXISTS,
                    f"the product has a variant {variant.sku!r} already; update it instead",
                )
            )
        changes[variant.sku] = variant_document(variant)
    for change in input.variants.update:
        if change.sku not in existing:
            errors.append(_missing_variant("update", change.sku))
        changes[change.sku] = variant_patch(change)
    for sku in input.variants.remove:
        if sku not in existing:
            errors.append(_missing_variant("remove", sku))
        changes[sku] = None
    if changes:
        patch["variants"] = changes
    return errors


def _missing_variant(operation: str, sku: str) -> Record:
    return {
        "kind": "not_found",
        "code": UserErrorCode.NOT_FOUND.name,
        "path": ["input", "variants", operation, sku],
        "message": f"the product has no variant {sku!r}",
    }


def _media_changes(current: Document, input: ProductUpdateInput, patch: Document) -> list[Record]:
    assert input.media is not None
    media = current.get("media") or []
    attached = {m.get("publicId") for m in media}
    errors = [
        {
            "kind": "not_found",
            "code": UserErrorCode.NOT_FOUND.name,
            "path": ["input", "media", operation, public_id],
            "message": f"asset {public_id!r} is not attached to the product",
        }
        for operation, public_ids in (("detach", input.media.detach), ("order", input.media.order))
        for public_id in public_ids
        if public_id not in attached
        and not (operation == "order" and public_id in {m.public_id for m in input.media.attach})
    ]
    errors += [
        input_error_record(
            ["input", "media", "attach", m.public_id],
            UserErrorCode.ALREADY_EXISTS,
            f"asset {m.public_id!r} is attached already",
        )
        for m in input.media.attach
        if m.public_id in attached and m.public_id not in input.media.detach
    ]
    patch["media"] = changed_media(media, input.media)
    return errors


def _linked(document: Document) -> dict[str, list[str]]:
    linked = {f: list(document[f]) for f in ("accessories", "related") if document.get(f)}
    if document.get("bundle"):
        linked["bundle"] = [item["sku"] for item in document["bundle"]]
    return linked
