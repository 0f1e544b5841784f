"""Publishing states per channel, and which transition may start from which state.

A product's ``workflow`` field holds one entry per channel it ever entered the workflow on::

    workflow: {<channel>: {state, revision, note, reasons,
                           submittedBy, submittedAt, approvedBy, approvedAt,
                           scheduledAt, scheduledBy,
                           publishedRevision, publishedBy, publishedAt, updatedAt}}

``revision`` is the working-copy revision the state is about (submitted, approved, scheduled
or published); ``publishedRevision`` the one storefronts of the channel read, kept while a newer
revision goes through review. A channel without an entry is ``DRAFT``. The field is
bookkeeping: writes to it change no revision and are not content changes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from resolvers.db import Document


class State(StrEnum):
    DRAFT = "DRAFT"
    IN_REVIEW = "IN_REVIEW"
    APPROVED = "APPROVED"
    SCHEDULED = "SCHEDULED"
    PUBLISHED = "PUBLISHED"
    UNPUBLISHED = "UNPUBLISHED"
    SCHEDULE_FAILED = "SCHEDULE_FAILED"


class Transition(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    PUBLISH = "publish"
    SCHEDULE = "schedule"
    UNPUBLISH = "unpublish"
    SCHEDULE_FAIL = "schedule_failed"

    @property
    def operation(self) -> str:
        """The change event's ``operation``."""
        return f"workflow.{self.value}"


# Where each transition may start. Submitting again after an edit is allowed from every state
# but SCHEDULED (unpublish cancels a schedule first); reviewing needs IN_REVIEW; publishing an
# approval (now or later) needs APPROVED.
ALLOWED_FROM: dict[Transition, frozenset[State]] = {
    Transition.SUBMIT: frozenset(State) - {State.SCHEDULED},
    Transition.APPROVE: frozenset({State.IN_REVIEW}),
    Transition.REJECT: frozenset({State.IN_REVIEW, State.APPROVED}),
    Transition.PUBLISH: frozenset({State.APPROVED, State.SCHEDULED}),
    Transition.SCHEDULE: frozenset({State.APPROVED}),
    Transition.UNPUBLISH: frozenset(State),
    Transition.SCHEDULE_FAIL: frozenset({State.SCHEDULED}),
}


def entry(product: Document, channel: str) -> dict[str, Any]:
    """The product's workflow entry for ``channel`` (empty for one never in the workflow)."""
    entries = product.get("workflow") or {}
    found = entries.get(channel)
    return dict(found) if isinstance(found, dict) else {}


def state_of(product: Document, channel: str) -> State:
    value = entry(product, channel).get("state")
    return State(value) if isinstance(value, str) and value in State.__members__ else State.DRAFT
