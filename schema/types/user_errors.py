"""Errors a client can fix, returned as data in a mutation's payload.

Every mutation payload carries ``errors: [UserError!]!`` (Shopify's ``userErrors``, Saleor's
``errors``): an empty list when the mutation did what was asked, otherwise one entry per
problem with the path of the input at fault, a stable code and a message for people. Errors
the client cannot fix by changing its input (a missing scope, a malformed document, a failure
of ours) stay GraphQL errors with ``extensions.code``.

``UserError`` is an interface; each concrete type carries what a client needs to act on its
kind of problem (a validation rule and its limit, the current values behind a version
conflict, the owner of a field). Add a code to ``UserErrorCode`` when none of the existing
ones says what went wrong (an added enum value is not a breaking change of the contract, but
clients switching on the code must expect new values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from resolvers.errors import BadUserInputError


def _value(name: str, description: str) -> Any:
    return strawberry.enum_value(name, description=description)


@strawberry.enum(description="Why an input was refused; clients may switch on it.")
class UserErrorCode(Enum):
    INVALID = _value(
        "INVALID",
        "The value is not acceptable (unknown name, malformed, out of range); the message "
        "says what is accepted.",
    )
    REQUIRED = _value("REQUIRED", "A value is needed here, given the other inputs.")
    NOT_FOUND = _value("NOT_FOUND", "The object the input names does not exist (any longer).")
    ALREADY_EXISTS = _value("ALREADY_EXISTS", "An object with this identifier exists already.")
    TOO_LONG = _value("TOO_LONG", "A text longer than the rule's limit.")
    TOO_SHORT = _value("TOO_SHORT", "A text shorter than the rule's limit.")
    PATTERN = _value("PATTERN", "The value does not match the rule's pattern.")
    RANGE = _value("RANGE", "A number outside the rule's minimum and maximum.")
    UNIT = _value("UNIT", "A missing or unaccepted unit.")
    ENUM = _value("ENUM", "A value that is not one of the rule's values.")
    TYPE = _value("TYPE", "A value of the wrong shape for its attribute.")
    UNKNOWN_ATTRIBUTE = _value("UNKNOWN_ATTRIBUTE", "An attribute code no rule defines.")
    DUPLICATE = _value("DUPLICATE", "The value is taken (a variant SKU of another product).")
    READ_ONLY = _value("READ_ONLY", "A field no write may set (identity, bookkeeping).")
    UNKNOWN_REFERENCE = _value(
        "UNKNOWN_REFERENCE",
        "A reference to something that does not exist: a product SKU in a relation, a media "
        "public id the asset mirror does not know, a category slug.",
    )
    REJECTED_ASSET = _value(
        "REJECTED_ASSET", "A media reference to an asset that ingest rejected or that was deleted."
    )
    VERSION_CONFLICT = _value(
        "VERSION_CONFLICT",
        "Fields this write changes were changed since expectedRevision; the error carries "
        "their current values.",
    )
    FIELD_OWNED = _value(
        "FIELD_OWNED", "The field belongs to another source system; the error names it."
    )
    CYCLE = _value("CYCLE", "A category cannot move under itself or one of its descendants.")
    NOT_PERMITTED = _value(
        "NOT_PERMITTED",
        "The input needs a scope the key lacks (publishing needs catalog:publish); the message "
        "names it.",
    )
    PUBLISH_GATE = _value(
        "PUBLISH_GATE",
        "A publish gate failed (validation, readiness blocker, asset not live); the "
        "PublishGateError lists each check with its fix.",
    )
    INVALID_TRANSITION = _value(
        "INVALID_TRANSITION", "The product's publishing state on the channel does not allow this."
    )
    STALE_REVISION = _value(
        "STALE_REVISION", "The product was edited since it was submitted; submit it again."
    )
    FOUR_EYES = _value(
        "FOUR_EYES", "The approver edited or submitted the product; another lead must approve."
    )
    CONFLICT = _value(
        "CONFLICT", "The product changed while the mutation ran; read it again and retry."
    )
    HISTORY_GAP = _value(
        "HISTORY_GAP", "History cannot rebuild the approved revision; submit the current one."
    )
    IDEMPOTENCY_KEY_REUSED = _value(
        "IDEMPOTENCY_KEY_REUSED",
        "The Idempotency-Key was sent before with another request body; use a new key.",
    )
    IDEMPOTENCY_KEY_IN_USE = _value(
        "IDEMPOTENCY_KEY_IN_USE",
        "A request with this Idempotency-Key is still running; retry once it has answered.",
    )


PATH_DESCRIPTION = (
    "Path of the input at fault, from the mutation's argument down (e.g. "
    '["input", "name", "de-DE"], ["input", "variants", "P-1-RED", "attributes", "weight"]); '
    "locales, variant SKUs and attribute codes are path elements. Null when no single input "
    "is at fault."
)


@strawberry.interface(
    description="A problem with a mutation's input that the client can fix: where, why, what."
)
class UserError:
    code: UserErrorCode = strawberry.field(description="A stable, machine-readable reason.")
    path: list[str] | None = strawberry.field(default=None, description=PATH_DESCRIPTION)
    message: str = strawberry.field(description="What went wrong, for people; may change.")


@strawberry.type(description="An input that is malformed, missing or not accepted as given.")
class InputError(UserError):
    pass


@strawberry.type(description="The object the input names does not exist (any longer).")
class NotFoundError(UserError):
    pass


@strawberry.type(description="A value that breaks a validation rule (gateway/validation.toml).")
class ValidationError(UserError):
    rule: str = strawberry.field(
        description="The configuration key that decided, e.g. 'attributes.weight.max'."
    )
    limit: JSON | None = strawberry.field(
        default=None, description="The rule's limit (a length, a bound, the accepted values)."
    )


@strawberry.type(description="A field path and its current value (null: absent).")
class FieldValue:
    path: list[str] = strawberry.field(description='The field, e.g. ["name", "de-DE"].')
    value: JSON | None = strawberry.field(default=None, description="Its current value.")


@strawberry.type(
    description="Fields this write changes were changed by someone else since "
    "expectedRevision. Retry with currentRevision once the values below are taken into "
    "account; no second read is needed."
)
class VersionConflictError(UserError):
    current_revision: int = strawberry.field(description="The product's revision now.")
    current_values: list[FieldValue] = strawberry.field(
        description="The current values of the conflicting fields."
    )


@strawberry.type(
    description="The field belongs to another source system (gateway/ownership.toml): only "
    "its owner, or an editor where allowed, writes it."
)
class FieldOwnershipError(UserError):
    owner: str = strawberry.field(description="The source system that owns the field.")


USER_ERROR_TYPES: tuple[type[UserError], ...] = (
    InputError,
    NotFoundError,
    ValidationError,
    VersionConflictError,
    FieldOwnershipError,
)


def user_error(
    error: BadUserInputError,
    argument: str,
    names: Mapping[str, str] | None = None,
    given: Any = None,
) -> InputError:
    """The payload form of a domain error about ``argument``.

    ``names`` spells the domain's field names as the input type does (``expires_in`` →
    ``expiresIn``); the path is the domain's ``field`` detail under ``argument``. A value the
    client left out is REQUIRED, anything else it gave is INVALID.
    """
    raw: Sequence[Any] = error.extensions.get("field") or ()
    path = [argument, *(str((names or {}).get(str(p), p)) for p in raw)]
    return InputError(path=path, code=_code(raw, given), message=error.message)


def _code(raw: Sequence[Any], given: Any) -> UserErrorCode:
    value = given
    for part in raw:
        if value is None:
            break
        value = value[part] if isinstance(part, int) else getattr(value, str(part), None)
    return UserErrorCode.REQUIRED if value is None else UserErrorCode.INVALID
