"""Errors a client can act on. Each carries ``extensions`` that GraphQL responses show as-is."""

from __future__ import annotations

from typing import Any, ClassVar


class CatalogError(Exception):
    """Base of user-facing errors; graphql-core copies ``extensions`` into the response."""

    code: ClassVar[str] = "BAD_REQUEST"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **details}


class BadUserInputError(CatalogError):
    code = "BAD_USER_INPUT"


class ForbiddenError(CatalogError):
    """The principal is known but lacks what the field or operation needs."""

    code = "FORBIDDEN"
