"""Publishing per channel as GraphQL: states, gate checks and the workflow's typed errors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import strawberry

from resolvers.db import Document
from resolvers.workflow.gates import GateFailure
from resolvers.workflow.service import Outcome, WorkflowError
from resolvers.workflow.states import State, entry
from schema.types.enums import PublishingState
from schema.types.product import Product
from schema.types.user_errors import NotFoundError, UserError, UserErrorCode


@strawberry.type(description="One failed check of a publish gate, with how to fix it.")
class GateCheck:
    check: str = strawberry.field(
        description="status, validation, readiness.<rule>, asset or contract.<kind>."
    )
    channel: str = strawberry.field(description="The channel the check failed for.")
    message: str = strawberry.field(description="What failed, for people.")
    hint: str = strawberry.field(description="How to fix it.")
    path: list[str] | None = strawberry.field(
        default=None,
        description='Where in the product (e.g. ["media", "0", "publicId"]); null when '
        "no single field is at fault.",
    )

    @classmethod
    def of(cls, failure: GateFailure | Mapping[str, Any]) -> GateCheck:
        if isinstance(failure, GateFailure):
            failure = failure.to_document()
        return cls(
            check=str(failure["check"]),
            channel=str(failure["channel"]),
            message=str(failure["message"]),
            hint=str(failure.get("hint") or ""),
            path=[str(p) for p in failure.get("path") or []] or None,
        )


@strawberry.type(description="A product's publishing state on one channel.")
class ChannelPublishing:
    channel: str = strawberry.field(description="The channel (channels.toml).")
    state: PublishingState = strawberry.field(description="Where the product stands on it.")
    revision: int | None = strawberry.field(
        description="The working-copy revision the state is about (submitted, approved, "
        "scheduled or published)."
    )
    published_revision: int | None = strawberry.field(
        description="The revision storefronts of the channel read; null when unpublished."
    )
    note: str | None = strawberry.field(
        description="The note of the last transition (a rejection's reason, for one)."
    )
    submitted_by: str | None = strawberry.field(description="Who submitted it (a key's label).")
    submitted_at: datetime | None = strawberry.field(description="When it was submitted.")
    approved_by: str | None = strawberry.field(description="Who approved it (a key's label).")
    approved_at: datetime | None = strawberry.field(description="When it was approved.")
    published_by: str | None = strawberry.field(
        description="Who published it (a key's label; `system` for a schedule that fired)."
    )
    published_at: datetime | None = strawberry.field(description="When it was published.")
    scheduled_at: datetime | None = strawberry.field(
        description="When a SCHEDULED publication goes live."
    )
    reasons: list[GateCheck] = strawberry.field(
        description="Why a schedule failed (SCHEDULE_FAILED); empty otherwise."
    )

    @classmethod
    def of(cls, product: Document, channel: str) -> ChannelPublishing:
        found = entry(product, channel)
        return cls(
            channel=channel,
            state=PublishingState[found.get("state") or State.DRAFT.value],
            revision=found.get("revision"),
            published_revision=found.get("publishedRevision"),
            note=found.get("note"),
            submitted_by=found.get("submittedBy"),
            submitted_at=found.get("submittedAt"),
            approved_by=found.get("approvedBy"),
            approved_at=found.get("approvedAt"),
            published_by=found.get("publishedBy"),
            published_at=found.get("publishedAt"),
            scheduled_at=found.get("scheduledAt"),
            reasons=[GateCheck.of(r) for r in found.get("reasons") or []],
        )


@strawberry.type(
    description="A publish gate failed on a channel: nothing moved. Each check says what "
    "failed and how to fix it."
)
class PublishGateError(UserError):
    # Nullable like PublishingStateError's, so one selection may ask both for it.
    channel: str | None = strawberry.field(description="The channel whose gate failed.")
    checks: list[GateCheck] = strawberry.field(description="Every check that failed.")


@strawberry.type(
    description="The product is not in a state this transition starts from, was edited since "
    "it was submitted or approved, or the four-eyes rule applies; the message says which."
)
class PublishingStateError(UserError):
    channel: str | None = strawberry.field(
        default=None, description="The channel concerned; null when it is not one channel's."
    )


WORKFLOW_ERROR_TYPES: tuple[type[UserError], ...] = (PublishGateError, PublishingStateError)


@strawberry.type(description="What happened to one product of a workflow mutation.")
class PublishingResult:
    sku: strawberry.ID = strawberry.field(description="The SKU as given.")
    product: Product | None = strawberry.field(
        description="The working copy after the transition; null when it failed."
    )
    publishing: list[ChannelPublishing] = strawberry.field(
        description="The product's state on the channels the mutation named."
    )
    errors: list[UserError] = strawberry.field(
        description="Why the product did not move; empty when it did."
    )


@strawberry.type(
    description="The result of a workflow mutation: one entry per SKU, in order. A product "
    "moves on all the named channels or on none."
)
class PublishingPayload:
    results: list[PublishingResult] = strawberry.field(
        description="One per SKU, in the order given."
    )

    @strawberry.field(description="How many products moved.")
    def succeeded(self) -> int:
        return sum(1 for r in self.results if not r.errors)


def _error(error: WorkflowError) -> UserError:
    path = ["input", "skus", error.sku]
    if error.code == "NOT_FOUND":
        return NotFoundError(code=UserErrorCode.NOT_FOUND, path=path, message=error.message)
    if error.code == "PUBLISH_GATE":
        return PublishGateError(
            code=UserErrorCode.PUBLISH_GATE,
            path=path,
            message=error.message,
            channel=error.channel,
            checks=[GateCheck.of(f) for f in error.failures],
        )
    return PublishingStateError(
        code=UserErrorCode[error.code], path=path, message=error.message, channel=error.channel
    )


def payload(outcomes: list[Outcome], channels: list[str]) -> PublishingPayload:
    return PublishingPayload(
        results=[
            PublishingResult(
                sku=strawberry.ID(o.sku),
                product=Product.from_document(o.product) if o.product else None,
                publishing=[ChannelPublishing.of(o.product, c) for c in channels]
                if o.product
                else [],
                errors=[_error(e) for e in o.errors],
            )
            for o in outcomes
        ]
    )
