"""Who is asking (``viewer``) and the API keys admins manage (``apiKeys``, ``apiKeyCreate``, …).

Secrets appear in exactly one place: the ``secret`` of a create or rotate payload. No type
here can read a stored secret or its hash (the store never returns them).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from resolvers.access import Principal
from resolvers.access.api_keys import ApiKey as KeyRecord
from resolvers.access.api_keys import ApiKeys
from resolvers.errors import CatalogError
from schema.context import Context
from schema.types.user_errors import UserError

Info = strawberry.Info[Context, None]


@strawberry.enum(description="How the viewer was recognised.")
class PrincipalKind(Enum):
    ANONYMOUS = strawberry.enum_value(
        "anonymous", description="No credentials: the anonymous role (CATALOG_ANONYMOUS_ROLE)."
    )
    KEY = strawberry.enum_value("key", description="An API key (Authorization: Bearer cgw_…).")
    JWT = strawberry.enum_value("jwt", description="A JWT from the configured identity provider.")
    SYSTEM = strawberry.enum_value(
        "system", description="An in-process caller (a command or a background job)."
    )


@strawberry.type(
    description="The principal this request runs as: what it may see and do, and until when. "
    "An unattended job can read expiresAt to warn before its key expires."
)
class Viewer:
    kind: PrincipalKind = strawberry.field(description="How the viewer was recognised.")
    name: str = strawberry.field(description="The key's name, the JWT's subject, or 'anonymous'.")
    role: str = strawberry.field(description="The role (roles.toml) the viewer acts in.")
    scopes: list[str] = strawberry.field(
        description="The scopes granted, e.g. 'catalog:read' (a key may narrow its role's)."
    )
    channels: list[str] | None = strawberry.field(
        description="The channels the viewer may read; null: every channel."
    )
    source: str | None = strawberry.field(
        description="The source system (pim, erp, …) the key belongs to, if any."
    )
    key_id: strawberry.ID | None = strawberry.field(
        description="The API key's id (the part after cgw_<env>_); null without a key."
    )
    expires_at: datetime | None = strawberry.field(
        description="When the credentials stop working; null: they do not expire."
    )

    @classmethod
    def of(cls, principal: Principal) -> Viewer:
        channels = principal.channels
        return cls(
            kind=PrincipalKind(principal.kind),
            name=principal.name,
            role=principal.role.name,
            scopes=sorted(scope.value for scope in principal.granted),
            channels=sorted(channels) if channels is not None else None,
            source=principal.source,
            key_id=strawberry.ID(principal.key_id) if principal.key_id else None,
            expires_at=principal.expires_at,
        )


@strawberry.enum(description="Whether an API key authenticates requests now.")
class ApiKeyState(Enum):
    ACTIVE = strawberry.enum_value("active", description="It authenticates requests.")
    EXPIRED = strawberry.enum_value("expired", description="Its expiry has passed.")
    REVOKED = strawberry.enum_value("revoked", description="An admin revoked it.")


@strawberry.type(
    name="ApiKey",
    description="An API key as admins see it: never its secret, which is shown once only, by "
    "apiKeyCreate and apiKeyRotate.",
)
class ApiKeyType:
    id: strawberry.ID = strawberry.field(
        description="The key's id, as in cgw_<env>_<id>_<secret> and `catalog-gateway keys`."
    )
    name: str = strawberry.field(description="Who or what uses the key.")
    role: str = strawberry.field(description="The role (roles.toml) the key acts in.")
    scopes: list[str] = strawberry.field(description="The scopes the key grants.")
    channels: list[str] | None = strawberry.field(
        description="The channels the key may read; null: every channel."
    )
    source: str | None = strawberry.field(
        description="The source system (pim, erp, …) the key belongs to, if any."
    )
    created_at: datetime = strawberry.field(description="When the key was created.")
    expires_at: datetime | None = strawberry.field(
        description="When the key stops working; null: never (read-only roles only)."
    )
    last_used_at: datetime | None = strawberry.field(
        description="Last authenticated use, to the minute (written at most once a minute)."
    )
    revoked_at: datetime | None = strawberry.field(description="When the key was revoked.")
    rotated_at: datetime | None = strawberry.field(
        description="When the key last got a new secret."
    )
    state: ApiKeyState = strawberry.field(description="Whether it authenticates requests now.")
    created_by: str | None = strawberry.field(
        description="Who created it: an API key id, 'jwt:<subject>', or 'cli'."
    )

    @classmethod
    def of(cls, key: KeyRecord, now: datetime) -> ApiKeyType:
        return cls(
            id=strawberry.ID(key.key_id),
            name=key.name,
            role=key.role,
            scopes=[scope.value for scope in key.scopes],
            channels=list(key.channels) if key.channels is not None else None,
            source=key.source,
            created_at=key.created_at,
            expires_at=key.expires_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
            rotated_at=key.rotated_at,
            state=ApiKeyState(key.state(now)),
            created_by=key.created_by,
        )


@strawberry.input(description="A new API key. The secret is returned once, in the payload.")
class ApiKeyCreateInput:
    name: str = strawberry.field(description="Who or what uses the key (1 to 100 characters).")
    role: str = strawberry.field(description="A role of roles.toml, e.g. storefront or editor.")
    scopes: list[str] | None = strawberry.field(
        default=None,
        description="Narrow the role to these of its scopes; null or empty: all of the role's.",
    )
    channels: list[str] | None = strawberry.field(
        default=None,
        description="Channels the key may read (at least one); null: every channel.",
    )
    source: str | None = strawberry.field(
        default=None, description="The source system (roles.toml `sources`) the key belongs to."
    )
    expires_in: str | None = strawberry.field(
        default=None,
        description="Lifetime such as 90d, 12h, 30m or 45s; required for roles that can write.",
    )


@strawberry.type(description="The result of apiKeyCreate.")
class ApiKeyCreatePayload:
    api_key: ApiKeyType | None = strawberry.field(
        description="The key created; null when errors is not empty."
    )
    secret: str | None = strawberry.field(
        description="The whole key to send as 'Authorization: Bearer <secret>'. Shown this once: "
        "store it now, it cannot be read again."
    )
    errors: list[UserError] = strawberry.field(
        description="Why nothing was created; empty on success."
    )


@strawberry.type(description="The result of apiKeyRotate.")
class ApiKeyRotatePayload:
    api_key: ApiKeyType | None = strawberry.field(
        description="The key rotated; null when errors is not empty."
    )
    secret: str | None = strawberry.field(
        description="The key with its new secret. Shown this once: store it now. The previous "
        "secret keeps working for the overlap asked for."
    )
    errors: list[UserError] = strawberry.field(
        description="Why nothing was rotated; empty on success."
    )


@strawberry.type(description="The result of apiKeyRevoke.")
class ApiKeyRevokePayload:
    api_key: ApiKeyType | None = strawberry.field(
        description="The key revoked (revoking twice keeps the first revokedAt); null when "
        "errors is not empty."
    )
    errors: list[UserError] = strawberry.field(
        description="Why nothing was revoked; empty on success."
    )


def key_store(info: Info) -> ApiKeys:
    """The process's key store; every serving process has one (gateway.services)."""
    keys = info.context.services.api_keys
    if keys is None:
        # In-process services built without a pepper (commands, tests); never a serving one.
        raise CatalogError("this process does not manage API keys (it has no key store)")
    return keys


async def resolve_api_keys(info: Info) -> list[ApiKeyType]:
    now = info.context.now
    return [ApiKeyType.of(key, now) for key in await key_store(info).list()]
