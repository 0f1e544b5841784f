"""The API key mutations (keys:manage): create, rotate, revoke."""

from __future__ import annotations

import logging
from typing import Annotated

import strawberry

from resolvers.access import Scope
from resolvers.access.api_keys import KeyNotFoundError, KeySpec, parse_duration
from resolvers.errors import BadUserInputError
from schema.permissions import requires
from schema.types.access import (
    ApiKeyCreateInput,
    ApiKeyCreatePayload,
    ApiKeyRevokePayload,
    ApiKeyRotatePayload,
    ApiKeyType,
    Info,
    key_store,
)
from schema.types.user_errors import InputError, NotFoundError, UserErrorCode, user_error

# Who changed which key, for whoever reviews access later; never a secret.
audit = logging.getLogger("gateway.audit")

# The input's spelling of KeySpec's fields.
_INPUT_NAMES = {"expires_in": "expiresIn"}
# resolvers.access.api_keys.DEFAULT_OVERLAP, as the argument's default shows it.
DEFAULT_OVERLAP = "24h"


def _not_found(error: KeyNotFoundError) -> NotFoundError:
    return NotFoundError(path=["id"], code=UserErrorCode.NOT_FOUND, message=error.message)


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(
        description="Create an API key (needs keys:manage). The payload's secret is the only "
        "time the key can be read: store it at once.",
        extensions=requires(Scope.KEYS_MANAGE),
    )
    async def api_key_create(
        self,
        info: Info,
        input: Annotated[ApiKeyCreateInput, strawberry.argument(description="The key to create.")],
    ) -> ApiKeyCreatePayload | None:
        keys = key_store(info)
        try:
            expires_in = parse_duration(input.expires_in) if input.expires_in else None
        except BadUserInputError as error:
            return ApiKeyCreatePayload(
                api_key=None,
                secret=None,
                errors=[
                    InputError(
                        path=["input", "expiresIn"],
                        code=UserErrorCode.INVALID,
                        message=error.message,
                    )
                ],
            )
        spec = KeySpec(
            name=input.name,
            role=input.role,
            scopes=input.scopes or (),
            channels=input.channels,
            source=input.source,
            expires_in=expires_in,
        )
        by = info.context.principal.label
        try:
            issued = await keys.create(spec, created_by=by)
        except BadUserInputError as error:
            return ApiKeyCreatePayload(
                api_key=None, secret=None, errors=[user_error(error, "input", _INPUT_NAMES, spec)]
            )
        key = issued.key
        audit.info(
            "api key %s created by %s: role %s, request %s",
            key.key_id,
            by,
            key.role,
            info.context.request_id,
        )
        return ApiKeyCreatePayload(
            api_key=ApiKeyType.of(key, info.context.now), secret=issued.secret, errors=[]
        )

    @strawberry.mutation(
        description="Give an API key a new secret (needs keys:manage); the previous one keeps "
        "working for 'overlap' (e.g. 24h, at most until the key expires) so a job can switch "
        "without downtime. The payload's secret is shown this once.",
        extensions=requires(Scope.KEYS_MANAGE),
    )
    async def api_key_rotate(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The key's id.")],
        overlap: Annotated[
            str, strawberry.argument(description="How long the old secret keeps working, e.g. 24h.")
        ] = DEFAULT_OVERLAP,
    ) -> ApiKeyRotatePayload | None:
        keys = key_store(info)
        try:
            issued = await keys.rotate(str(id), parse_duration(overlap))
        except BadUserInputError as error:
            return ApiKeyRotatePayload(
                api_key=None,
                secret=None,
                errors=[
                    InputError(path=["overlap"], code=UserErrorCode.INVALID, message=error.message)
                ],
            )
        except KeyNotFoundError as error:
            return ApiKeyRotatePayload(api_key=None, secret=None, errors=[_not_found(error)])
        audit.info(
            "api key %s rotated by %s: previous secret valid for %s more, request %s",
            id,
            info.context.principal.label,
            overlap,
            info.context.request_id,
        )
        return ApiKeyRotatePayload(
            api_key=ApiKeyType.of(issued.key, info.context.now), secret=issued.secret, errors=[]
        )

    @strawberry.mutation(
        description="Revoke an API key at once (needs keys:manage). Serving processes may "
        "accept it for the few seconds they cache key records (CATALOG_KEY_CACHE_S).",
        extensions=requires(Scope.KEYS_MANAGE),
    )
    async def api_key_revoke(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The key's id.")],
    ) -> ApiKeyRevokePayload | None:
        try:
            key = await key_store(info).revoke(str(id))
        except KeyNotFoundError as error:
            return ApiKeyRevokePayload(api_key=None, errors=[_not_found(error)])
        audit.info(
            "api key %s revoked by %s, request %s",
            id,
            info.context.principal.label,
            info.context.request_id,
        )
        return ApiKeyRevokePayload(api_key=ApiKeyType.of(key, info.context.now), errors=[])
