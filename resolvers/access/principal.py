"""Who is asking: the role, scopes and channels one request runs with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from resolvers.access.roles import RateLimit, Role
from resolvers.access.scopes import Scope
from resolvers.documents import PUBLISHED

PrincipalKind = Literal["anonymous", "key", "jwt", "system"]


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    role: Role
    name: str
    key_id: str | None = None
    scopes: frozenset[Scope] | None = None
    """A key narrows its role's scopes; None: the role's."""
    channels: frozenset[str] | None = None
    """The channels this principal may read; None: every channel."""
    source: str | None = None
    expires_at: datetime | None = None

    @classmethod
    def anonymous(cls, role: Role) -> Principal:
        return cls("anonymous", role, "anonymous")

    @classmethod
    def system(cls) -> Principal:
        """In-process callers that are not requests (commands, background jobs, tests)."""
        return SYSTEM

    @property
    def label(self) -> str:
        """Who asked, for logs, history and createdBy: a key id, ``jwt:<subject>``, or the kind
        (``anonymous``, ``system``); never a secret."""
        if self.kind == "key" and self.key_id is not None:
            return self.key_id
        if self.kind == "jwt":
            return f"jwt:{self.name}"
        return self.kind

    @property
    def granted(self) -> frozenset[Scope]:
        return self.role.scopes if self.scopes is None else self.scopes

    def has(self, scope: Scope) -> bool:
        return scope in self.granted

    @property
    def sees_drafts(self) -> bool:
        return self.has(Scope.CATALOG_READ_DRAFTS)

    def may_read_channel(self, channel: str) -> bool:
        return self.channels is None or channel in self.channels

    def product_visible(self, document: Mapping[str, Any]) -> bool:
        """Whether a loaded product document may reach this principal at all."""
        return self.sees_drafts or document.get("status") == PUBLISHED

    def product_clause(self) -> dict[str, Any] | None:
        """The MongoDB condition listings add for this principal (None: no restriction)."""
        return None if self.sees_drafts else {"status": PUBLISHED}


SYSTEM = Principal(
    "system",
    Role(
        "system",
        "in-process callers: commands, background jobs, tests",
        frozenset(Scope),
        RateLimit(burst=1_000_000, per_minute=60_000_000),
    ),
    "system",
)
