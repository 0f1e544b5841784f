"""Publishing per channel as GraphQL: states, gate checks and the workflow's typed errors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from resolvers.db import Document
from resolvers.workflow.gates import GateFailure
from resolvers.workflow.service import Outcome, WorkflowError
from resolvers.workflow.states import State, entry
from schema.types.product import Product
from schema.types.user_errors import NotFoundError, UserError, UserErrorCode


@strawberry.enum(
    description="Where a product stands on one channel: DRAFT → IN_REVIEW → APPROVED → "
    "(SCHEDULED) → PUBLISHED, UNPUBLISHED, SCHEDULE_FAILED (a schedule whose gates failed)."
)
class PublishingState(Enum):
    DRAFT = State.DRAFT.value
    IN_REVIEW = State.IN_REVIEW.value
    APPROVED = State.APPROVED.value
    SCHEDULED = State.SCHEDULED.value
    PUBLISHED = State.PUBLISHED.value
    UNPUBLISHED = State.UNPUBLISHED.value
    SCHEDULE_FAILED = State.SCHEDULE_FAILED.value


@strawberry.type(description="One failed check of a publish gate, with how to fix it.")
class GateCheck:
    check: str = strawberry.field(description="status, validation, readiness.<rule> or asset.")
    channel: str
    message: str
    hint: str
    path: list[str] | None = None

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
    channel: str
    state: PublishingState
    revision: int | None = strawberry.field(
        description="The working-copy revision the state is about (submitted, approved, "
        "scheduled or published)."
    )
    published_revision: int | None = strawberry.field(
        description="The revision storefronts of the channel read; null when unpublished."
    )
    note: str | None
    submitted_by: str | None
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    published_by: str | None
    published_at: datetime | None
    scheduled_at: datetime | None
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
    channel: str | None
    checks: list[GateCheck]


@strawberry.type(
    description="The product is not in a state this transition starts from, was edited since "
    "it was submitted or approved, or the four-eyes rule applies; the message says which."
)
class PublishingStateError(UserError):
    channel: str | None = None


WORKFLOW_ERROR_TYPES: tuple[type[UserError], ...] = (PublishGateError, PublishingStateError)


@strawberry.type(description="What happened to one product of a workflow mutation.")
class PublishingResult:
    sku: strawberry.ID
    product: Product | None = strawberry.field(
        description="The working copy after the transition; null when it failed."
    )
    publishing: list[ChannelPublishing] = strawberry.field(
        description="The product's state on the channels the mutation named."
    )
    errors: list[UserError]


@strawberry.type(
    description="The result of a workflow mutation: one entry per SKU, in order. A product "
    "moves on all the named channels or on none."
)
class PublishingPayload:
    results: list[PublishingResult]

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
