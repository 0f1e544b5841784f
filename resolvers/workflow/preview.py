"""Preview tokens: a short-lived, signed permission to read the working copy.

A principal with ``catalog:read-drafts`` asks for one (``previewToken``) and shares it, e.g. in
a storefront's preview URL; the storefront sends it as ``X-Preview-Token`` and reads the working
copy instead of its channel's publications until the token expires. The token is
``v1.<expires, unix seconds>.<issuer label, base64url>.<HMAC-SHA256, base64url>`` under the
server secret ``CATALOG_PREVIEW_SECRET`` (every replica needs the same one; rotating it voids
the tokens out). It grants reading only, never writing, and no longer than ``MAX_TTL``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

VERSION = "v1"
MAX_TTL = timedelta(hours=24)
DEFAULT_TTL = timedelta(minutes=30)


class PreviewTokenError(ValueError):
    """A token that is malformed, forged or expired (the message says which)."""


@dataclass(frozen=True, slots=True)
class PreviewGrant:
    issuer: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest())


def issue(secret: bytes, issuer: str, now: datetime, ttl: timedelta = DEFAULT_TTL) -> str:
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError(f"a preview token lives between 1 second and {MAX_TTL}")
    expires = int((now + ttl).timestamp())
    payload = f"{VERSION}.{expires}.{_b64(issuer.encode('utf-8'))}"
    return f"{payload}.{_signature(secret, payload)}"


def verify(secret: bytes, token: str, now: datetime) -> PreviewGrant:
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != VERSION or not parts[1].isdigit():
        raise PreviewTokenError("malformed preview token")
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(parts[3], _signature(secret, payload)):
        raise PreviewTokenError("invalid preview token")
    expires_at = datetime.fromtimestamp(int(parts[1]), UTC)
    if expires_at <= now:
        raise PreviewTokenError("expired preview token")
    try:
        issuer = _unb64(parts[2]).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise PreviewTokenError("malformed preview token") from None
    return PreviewGrant(issuer, expires_at)
