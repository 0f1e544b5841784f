"""The key store and the authenticator, built from settings (the lifespan and ``keys`` CLI)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from gateway.auth.authenticator import Authenticator
from gateway.auth.jwt_tokens import JwtSettings, JwtVerifier
from gateway.settings import Settings, SettingsError
from resolvers.access import Roles
from resolvers.access.api_keys import ApiKeys
from resolvers.channels import Channels
from resolvers.db import Catalog

PEPPER_FILE = "key-pepper"
NO_ANONYMOUS = "none"


def key_pepper(settings: Settings) -> bytes:
    """CATALOG_KEY_PEPPER; in the demo, a random one kept in the data directory."""
    check_key_pepper(settings)
    if settings.key_pepper is not None:
        return settings.key_pepper.get_secret_value().encode()
    return _demo_pepper(settings.data_dir / PEPPER_FILE)


def check_key_pepper(settings: Settings) -> None:
    """SettingsError, before anything starts, when a pepper is needed and missing."""
    if settings.key_pepper is None and not settings.demo:
        raise SettingsError(
            "CATALOG_KEY_PEPPER is required (at least 32 characters, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`): API keys are "
            "stored as HMACs with it. Only the demo (CATALOG_DEMO=true) makes one up."
        )


def _demo_pepper(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once agree on one pepper.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as file:
        file.write(secrets.token_urlsafe(32).encode())
    return path.read_bytes().strip()


def api_keys(
    settings: Settings,
    catalog: Catalog,
    roles: Roles,
    channels: Channels,
    reads: Catalog | None = None,
) -> ApiKeys:
    """The key store; ``reads`` (the catalog with the read preference) verifies keys."""
    return ApiKeys(
        catalog.api_keys,
        reads=reads.api_keys if reads is not None else None,
        pepper=key_pepper(settings),
        roles=roles,
        env=settings.key_env,
        channels=channels.names(),
    )


def authenticator(settings: Settings, keys: ApiKeys, roles: Roles) -> Authenticator:
    anonymous = None if settings.anonymous_role == NO_ANONYMOUS else settings.anonymous_role
    jwt = None
    if settings.jwt_jwks:
        jwt = JwtVerifier(
            JwtSettings(
                settings.jwt_jwks,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                role_claim=settings.jwt_role_claim,
                scopes_claim=settings.jwt_scopes_claim,
            ),
            roles,
        )
    try:
        return Authenticator(
            keys, roles, anonymous_role=anonymous, jwt=jwt, cache_seconds=settings.key_cache_s
        )
    except ValueError as exc:
        raise SettingsError(f"CATALOG_ANONYMOUS_ROLE: {exc}") from exc
