"""Errors a client can fix, returned as data in a mutation's payload.

Every mutation payload carries ``errors: [UserError!]!`` (Shopify's ``userErrors``, Saleor's
``errors``): an empty list when the mutation did what was asked, otherwise one entry per
problem with the path of the input at fault, a stable code and a message for people. Errors
the client cannot fix by changing its input (a missing scope, a malformed document, a failure
of ours) stay GraphQL errors with ``extensions.code``.

Mutations of later issues reuse this type: add a code to ``UserErrorCode`` when none of the
existing ones says what went wrong (an added enum value is not a breaking change of the
contract, but clients switching on the code must expect new values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

import strawberry

from resolvers.errors import BadUserInputError


@strawberry.enum(description="Why an input was refused; clients may switch on it.")
class UserErrorCode(Enum):
    INVALID = strawberry.enum_value(
        "INVALID",
        description="The value is not acceptable (unknown name, malformed, out of range); the "
        "message says what is accepted.",
    )
    REQUIRED = strawberry.enum_value(
        "REQUIRED", description="A value is needed here, given the other inputs."
    )
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="The object the input names does not exist (any longer)."
    )


@strawberry.type(
    description="A problem with a mutation's input that the client can fix: where, why, what."
)
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path of the input at fault, from the mutation's argument down (e.g. "
        '["input", "scopes", "1"]); null when no single input is at fault.'
    )
    code: UserErrorCode = strawberry.field(description="A stable, machine-readable reason.")
    message: str = strawberry.field(description="What went wrong, for people; may change.")


def user_error(
    error: BadUserInputError,
    argument: str,
    names: Mapping[str, str] | None = None,
    given: Any = None,
) -> UserError:
    """The payload form of a domain error about ``argument``.

    ``names`` spells the domain's field names as the input type does (``expires_in`` →
    ``expiresIn``); the path is the domain's ``field`` detail under ``argument``. A value the
    client left out is REQUIRED, anything else it gave is INVALID.
    """
    raw: Sequence[Any] = error.extensions.get("field") or ()
    path = [argument, *(str((names or {}).get(str(p), p)) for p in raw)]
    return UserError(field=path, code=_code(raw, given), message=error.message)


def _code(raw: Sequence[Any], given: Any) -> UserErrorCode:
    value = given
    for part in raw:
        if value is None:
            break
        value = value[part] if isinstance(part, int) else getattr(value, str(part), None)
    return UserErrorCode.REQUIRED if value is None else UserErrorCode.INVALID
