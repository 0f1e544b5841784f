"""``productRevert``: a product back to an earlier revision, as a new revision (catalog:write)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.access import Scope
from schema.mutations.write_payloads import (
    Info,
    Record,
    actor,
    answer,
    product_writer,
    provenance,
    write_record,
)
from schema.permissions import requires
from schema.types.product_inputs import ProductWritePayload


@strawberry.input(description="Which product to revert, to which revision.")
class ProductRevertInput:
    sku: strawberry.ID = strawberry.field(description="The SKU of the product to revert.")
    to_revision: int = strawberry.field(
        description="The revision whose fields the product gets back (see Product.history)."
    )
    expected_revision: int | None = strawberry.field(
        default=None,
        description="The revision the client saw; if the product was written since, nothing "
        "is reverted and a VersionConflictError names what changed (a revert would undo it).",
    )
    dry_run: bool = strawberry.field(
        default=False, description="Answer what would change, writing nothing."
    )


@strawberry.type(description="The result of productRevert.")
class ProductRevertPayload(ProductWritePayload):
    pass


@strawberry.type
class HistoryMutations:
    @strawberry.mutation(
        description="Give a product the fields it had at an earlier revision, as a new "
        "revision (history keeps everything in between). Needs catalog:write; validated and "
        "checked for field ownership like any write.",
        extensions=requires(Scope.CATALOG_WRITE),
    )
    async def product_revert(
        self,
        info: Info,
        input: Annotated[
            ProductRevertInput,
            strawberry.argument(description="The product and the revision to go back to."),
        ],
    ) -> ProductRevertPayload | None:
        async def run() -> Record:
            result = await product_writer(info).revert_to(
                str(input.sku),
                input.to_revision,
                actor(info),
                provenance=provenance(info),
                dry_run=input.dry_run,
                expected_revision=input.expected_revision,
            )
            return write_record(result, input.dry_run)

        return await answer(info, ProductRevertPayload, run)
