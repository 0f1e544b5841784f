"""Publishing mutations: submit for review (catalog:write); approve, reject, publish and
unpublish (catalog:publish); preview tokens (catalog:read-drafts). Domain: resolvers/workflow.

Each takes many SKUs and answers per product (``PublishingPayload``); a product moves on every
named channel or on none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated

import strawberry

from resolvers.access import Scope
from resolvers.errors import BadUserInputError
from resolvers.workflow.preview import DEFAULT_TTL, MAX_TTL, issue
from resolvers.workflow.service import Outcome, Workflow
from resolvers.writes import Actor, Provenance
from schema.mutations.write_payloads import Info, actor, provenance
from schema.permissions import requires
from schema.types.workflow import PublishingPayload, payload

MAX_SKUS = 500
INPUT = "The products, the channels and what the transition needs."
DEFAULT_TTL_S = int(DEFAULT_TTL.total_seconds())
CHANNELS_DESCRIPTION = (
    "The channels to move the products on; every channel the key may read when omitted."
)


@strawberry.input(description="Products and channels of a workflow transition.")
class PublishingInput:
    skus: list[strawberry.ID] = strawberry.field(description=f"At most {MAX_SKUS}.")
    channels: list[str] | None = strawberry.field(default=None, description=CHANNELS_DESCRIPTION)
    note: str | None = strawberry.field(default=None, description="Recorded with the event.")


@strawberry.input(description="Products to send back to DRAFT, and why.")
class RejectInput:
    skus: list[strawberry.ID] = strawberry.field(description=f"At most {MAX_SKUS}.")
    note: str = strawberry.field(description="Why: shown to the editors, kept in history.")
    channels: list[str] | None = strawberry.field(default=None, description=CHANNELS_DESCRIPTION)


@strawberry.input(description="Approved products to publish, now or at a time.")
class PublishInput:
    skus: list[strawberry.ID] = strawberry.field(description=f"At most {MAX_SKUS}.")
    channels: list[str] | None = strawberry.field(default=None, description=CHANNELS_DESCRIPTION)
    at: datetime | None = strawberry.field(
        default=None,
        description="When to publish (ISO 8601 with an offset); later than now: SCHEDULED, "
        "and the gates run again when it fires. Omitted: now.",
    )


@strawberry.type(description="A signed token that lets a storefront read the working copy.")
class PreviewToken:
    token: str = strawberry.field(description="Send it as the X-Preview-Token header.")
    expires_at: datetime = strawberry.field(description="When the token stops working.")
    header: str = strawberry.field(
        default="X-Preview-Token", description="The request header to send it in."
    )


Run = Callable[[Workflow, list[str], list[str], Actor, Provenance], Awaitable[list[Outcome]]]


def _workflow(info: Info) -> Workflow:
    workflow = info.context.services.workflow
    if workflow is None:
        raise RuntimeError("this process was started without the publishing workflow")
    return workflow


def _channels(info: Info, names: Sequence[str] | None) -> list[str]:
    if names is None:
        return info.context.readable_channels()
    if not names:
        raise BadUserInputError("'channels' is empty", argumentName="input")
    return list(dict.fromkeys(info.context.channel_name(n) for n in names))


def _skus(skus: Sequence[strawberry.ID]) -> list[str]:
    if not skus or len(skus) > MAX_SKUS:
        raise BadUserInputError(f"give 1 to {MAX_SKUS} SKUs", argumentName="input")
    return [str(s) for s in skus]


async def _transition(
    info: Info, skus: Sequence[strawberry.ID], names: Sequence[str] | None, run: Run
) -> PublishingPayload:
    channels = _channels(info, names)
    outcomes = await run(_workflow(info), _skus(skus), channels, actor(info), provenance(info))
    return payload(outcomes, channels)


@strawberry.type
class WorkflowMutations:
    @strawberry.mutation(
        description="Ask for review of the current revision on channels (→ IN_REVIEW). Needs "
        "catalog:write.",
        extensions=requires(Scope.CATALOG_WRITE),
    )
    async def product_submit_for_review(
        self, info: Info, input: Annotated[PublishingInput, strawberry.argument(description=INPUT)]
    ) -> PublishingPayload | None:
        return await _transition(
            info,
            input.skus,
            input.channels,
            lambda w, s, c, a, p: w.submit(s, c, a, p, note=input.note),
        )

    @strawberry.mutation(
        description="Approve the submitted revision (→ APPROVED) after its gates pass: "
        "validation, readiness blockers, live assets. Needs catalog:publish; with "
        "CATALOG_FOUR_EYES the approver must not be its last editor or submitter.",
        extensions=requires(Scope.CATALOG_PUBLISH),
    )
    async def product_approve(
        self, info: Info, input: Annotated[PublishingInput, strawberry.argument(description=INPUT)]
    ) -> PublishingPayload | None:
        return await _transition(
            info,
            input.skus,
            input.channels,
            lambda w, s, c, a, p: w.approve(s, c, a, p, note=input.note),
        )

    @strawberry.mutation(
        description="Send a submitted or approved product back to DRAFT with a note. Needs "
        "catalog:publish.",
        extensions=requires(Scope.CATALOG_PUBLISH),
    )
    async def product_reject(
        self, info: Info, input: Annotated[RejectInput, strawberry.argument(description=INPUT)]
    ) -> PublishingPayload | None:
        if not input.note.strip():
            raise BadUserInputError("'note' must say why", argumentName="input")
        return await _transition(
            info,
            input.skus,
            input.channels,
            lambda w, s, c, a, p: w.reject(s, c, a, p, note=input.note),
        )

    @strawberry.mutation(
        description="Publish the approved revision on channels (→ PUBLISHED), or schedule it "
        "with 'at' (→ SCHEDULED). The gates run again; later edits stay invisible to "
        "storefronts until published. Needs catalog:publish.",
        extensions=requires(Scope.CATALOG_PUBLISH),
    )
    async def product_publish(
        self, info: Info, input: Annotated[PublishInput, strawberry.argument(description=INPUT)]
    ) -> PublishingPayload | None:
        at = input.at
        if at is not None and at.tzinfo is None:
            raise BadUserInputError("'at' needs a UTC offset", argumentName="input")
        return await _transition(
            info,
            input.skus,
            input.channels,
            lambda w, s, c, a, p: w.publish(s, c, a, p, at=at.astimezone(UTC) if at else None),
        )

    @strawberry.mutation(
        description="Take products off channels (→ UNPUBLISHED; a schedule is cancelled): "
        "their storefronts stop seeing them at once. Needs catalog:publish.",
        extensions=requires(Scope.CATALOG_PUBLISH),
    )
    async def product_unpublish(
        self, info: Info, input: Annotated[PublishingInput, strawberry.argument(description=INPUT)]
    ) -> PublishingPayload | None:
        return await _transition(
            info,
            input.skus,
            input.channels,
            lambda w, s, c, a, p: w.unpublish(s, c, a, p, note=input.note),
        )

    @strawberry.mutation(
        description="A short-lived signed token (X-Preview-Token) with which any caller, a "
        "storefront included, reads the working copy: for preview links. Needs "
        "catalog:read-drafts and CATALOG_PREVIEW_SECRET.",
        extensions=requires(Scope.CATALOG_READ_DRAFTS),
    )
    def preview_token(
        self,
        info: Info,
        ttl_seconds: Annotated[
            int,
            strawberry.argument(
                description="How long the token works, in seconds (at most "
                f"{int(MAX_TTL.total_seconds())})."
            ),
        ] = DEFAULT_TTL_S,
    ) -> PreviewToken | None:
        secret = info.context.services.preview_secret
        if secret is None:
            raise BadUserInputError("previews by token are off: set CATALOG_PREVIEW_SECRET")
        ttl = timedelta(seconds=ttl_seconds)
        if not timedelta(0) < ttl <= MAX_TTL:
            raise BadUserInputError(
                f"'ttlSeconds' must be 1 to {int(MAX_TTL.total_seconds())}",
                argumentName="ttlSeconds",
            )
        now = info.context.now
        token = issue(secret, info.context.principal.label, now, ttl)
        return PreviewToken(token=token, expires_at=now + ttl)
