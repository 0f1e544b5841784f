"""JWTs from an identity provider or a federation router, as an alternative to API keys.

Verified against a JWKS (a file or a URL) with RS256 or ES256 only: ``none`` and HMAC
algorithms are refused, so a token cannot be forged with a public key as the HMAC secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt

from resolvers.access import Principal, Roles, Scope

ALGORITHMS = ["RS256", "ES256"]


class JwtConfigError(ValueError):
    """The JWT settings cannot work (unreadable JWKS, unknown roles in the mapping)."""


@dataclass(frozen=True, slots=True)
class JwtSettings:
    jwks: str
    """A JWKS file path, or an https:// URL (fetched and cached by PyJWT)."""
    issuer: str | None = None
    audience: str | None = None
    role_claim: str = "role"
    scopes_claim: str = "scope"


class JwtVerifier:
    def __init__(self, settings: JwtSettings, roles: Roles) -> None:
        self.settings = settings
        self.roles = roles
        self._client: jwt.PyJWKClient | None = None
        self._keys: jwt.PyJWKSet | None = None
        if settings.jwks.startswith(("https://", "http://")):
            self._client = jwt.PyJWKClient(settings.jwks, cache_keys=True, lifespan=300)
        else:
            try:
                raw = json.loads(Path(settings.jwks).read_text(encoding="utf-8"))
                self._keys = jwt.PyJWKSet.from_dict(raw)
            except (OSError, ValueError, jwt.PyJWTError) as exc:
                raise JwtConfigError(f"{settings.jwks}: not a readable JWKS: {exc}") from exc

    @staticmethod
    def looks_like_jwt(token: str) -> bool:
        return token.count(".") == 2 and token.startswith("eyJ")

    def _signing_key(self, token: str) -> Any:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        assert self._keys is not None
        kid = jwt.get_unverified_header(token).get("kid")
        candidates = [k for k in self._keys.keys if kid is None or k.key_id == kid]
        if not candidates:
            raise jwt.InvalidTokenError("no key in the JWKS matches the token's kid")
        return candidates[0].key

    def verify(self, token: str) -> Principal | None:
        """The principal a valid token stands for, or None (expired, forged, unknown role)."""
        try:
            claims = jwt.decode(
                token,
                self._signing_key(token),
                algorithms=ALGORITHMS,
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": self.settings.audience is not None,
                },
            )
        except (jwt.PyJWTError, ValueError):
            return None
        role = self.roles.get(str(claims.get(self.settings.role_claim, "")))
        if role is None:
            return None
        raw_scopes = claims.get(self.settings.scopes_claim)
        scopes: frozenset[Scope] | None = None
        if raw_scopes is not None:
            names = raw_scopes.split() if isinstance(raw_scopes, str) else list(raw_scopes)
            # A token narrows its role, like a key; unknown names are ignored.
            scopes = frozenset(s for s in Scope if s.value in names) & role.scopes
        return Principal(
            "jwt",
            role,
            str(claims["sub"]),
            scopes=scopes,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
