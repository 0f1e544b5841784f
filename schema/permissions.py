"""Permissions declared next to the fields they guard (one field extension, no hand checks).

``requires(Scope.AUDIT_READ)`` on a field: a principal without the scope gets FORBIDDEN at the
field's path (null when the field is nullable) and the resolver never runs, so a denied root
field costs no MongoDB command.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from resolvers.access import Scope
from resolvers.errors import ForbiddenError


class HasScope(BasePermission):
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.message = f"this needs the {scope.value!r} scope"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return bool(info.context.principal.has(self.scope))

    def on_unauthorized(self) -> None:
        raise ForbiddenError(f"this needs the {self.scope.value!r} scope", scope=self.scope.value)


def requires(*scopes: Scope) -> list[FieldExtension]:
    """Field extensions that refuse principals lacking any of ``scopes``."""
    # No directives: permissions are this subgraph's business, not part of its contract.
    return [PermissionExtension([HasScope(scope) for scope in scopes], use_directives=False)]
