from __future__ import annotations

from enum import Enum
from typing import TypeVar, cast

import strawberry

from resolvers.workflow.states import State

T = TypeVar("T")


def described(value: T, description: str) -> T:
    """An enum member's value with a GraphQL description.

    Strawberry unwraps ``enum_value`` when it processes the enum, so ``Member.value`` is the
    plain value at run time; the cast tells mypy so.
    """
    return cast(T, strawberry.enum_value(value, description=description))


@strawberry.enum(
    description="The working copy's lifecycle status. What storefronts see is decided per "
    "channel by publishing (Product.publishing): a snapshot they read is always PUBLISHED."
)
class ProductStatus(Enum):
    DRAFT = described("draft", "Being prepared; publishing makes it PUBLISHED on a channel.")
    PUBLISHED = described(
        "published", "Meant to be live; storefronts see the revision published on their channel."
    )
    ARCHIVED = described(
        "archived", "Withdrawn; kept for history, and refused by the publish gates."
    )


@strawberry.enum(description="The kind of value an attribute holds.")
class AttributeType(Enum):
    TEXT = described("text", "Free text, localized or not.")
    NUMBER = described("number", "A number, with the definition's unit if it has one.")
    BOOLEAN = described("boolean", "True or false.")
    ENUM = described("enum", "One of the definition's allowed values.")
    LIST = described("list", "Several of the definition's allowed values.")


@strawberry.enum(description="What a product listing is ordered by.")
class ProductSortField(Enum):
    NAME = described("name", "The name shown in the sort's locale, collated in its language.")
    SKU = described("sku", "The SKU, in code point order.")
    CREATED_AT = described("createdAt", "When the product was created.")
    UPDATED_AT = described("updatedAt", "When the product last changed.")
    READINESS = described("readiness", "The stored readiness score in the sort's channel.")


@strawberry.enum(description="Ascending or descending order.")
class SortDirection(Enum):
    ASC = described("asc", "Smallest (or earliest, or A) first.")
    DESC = described("desc", "Largest (or latest, or Z) first.")


@strawberry.enum(
    description="Where a product stands on one channel: DRAFT → IN_REVIEW → APPROVED → "
    "(SCHEDULED) → PUBLISHED, UNPUBLISHED, SCHEDULE_FAILED (a schedule whose gates failed)."
)
class PublishingState(Enum):
    DRAFT = described(
        State.DRAFT.value, "Not in review; what editors change next goes nowhere yet."
    )
    IN_REVIEW = described(
        State.IN_REVIEW.value, "Submitted for review at `revision`; a lead approves or rejects."
    )
    APPROVED = described(
        State.APPROVED.value, "Approved at `revision` after its gates passed; ready to publish."
    )
    SCHEDULED = described(
        State.SCHEDULED.value,
        "The approved `revision` goes live at `scheduledAt`, if its gates pass again then.",
    )
    PUBLISHED = described(
        State.PUBLISHED.value, "Live: the channel's storefronts read `publishedRevision`."
    )
    UNPUBLISHED = described(
        State.UNPUBLISHED.value, "Taken off the channel: its storefronts do not see it."
    )
    SCHEDULE_FAILED = described(
        State.SCHEDULE_FAILED.value,
        "A schedule whose gates failed when it was due: nothing was published; see `reasons`.",
    )
