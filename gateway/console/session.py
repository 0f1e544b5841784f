"""The console's session: the signed-in API key, sealed into an HTTP-only cookie.

The cookie is the only state: any replica opens it with the same server secret (derived from
the key pepper), so nothing is stored per session. It is sealed with AES-GCM (authenticated
encryption): the key inside can be neither read nor altered by the browser or anyone who sees
the cookie. CSRF tokens are an HMAC of the session's random id, so a form posted from another
site (which cannot read the page) cannot carry one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

COOKIE = "console_session"
# Before sign-in: a random value the sign-in form's token is tied to (login CSRF).
PRE_COOKIE = "console_pre"
LIFETIME_S = 8 * 3600
_AAD = b"catalog-console-session-v1"


@dataclass(frozen=True, slots=True)
class Session:
    key: str  # the API key, sent as Bearer on every API call of the console
    sid: str  # random per sign-in: what CSRF tokens are tied to
    expires: int  # Unix time
    # The channels the key may read (viewer.channels at sign-in); empty: every channel. Only
    # a default for the pages: the API decides what the key may read on every call.
    channels: tuple[str, ...] = ()


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return hmac.new(secret, b"console:" + purpose, hashlib.sha256).digest()


class Sealer:
    """Seals sessions into cookie values and makes CSRF tokens, with keys from ``secret``."""

    def __init__(self, secret: bytes) -> None:
        self._aead = AESGCM(_derive(secret, b"seal"))
        self._mac = _derive(secret, b"csrf")

    def new_session(
        self, key: str, now: float | None = None, channels: tuple[str, ...] = ()
    ) -> Session:
        issued = time.time() if now is None else now
        return Session(key, secrets.token_urlsafe(16), int(issued) + LIFETIME_S, channels)

    def seal(self, session: Session) -> str:
        nonce = os.urandom(12)
        fields = {"k": session.key, "s": session.sid, "e": session.expires, "c": session.channels}
        body = json.dumps(fields).encode()
        sealed = nonce + self._aead.encrypt(nonce, body, _AAD)
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, value: str | None, now: float | None = None) -> Session | None:
        """The session in a cookie value; None when absent, tampered with or expired."""
        if not value:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            body = json.loads(self._aead.decrypt(raw[:12], raw[12:], _AAD))
            channels = tuple(str(c) for c in body.get("c") or ())
            session = Session(str(body["k"]), str(body["s"]), int(body["e"]), channels)
        except (binascii.Error, ValueError, InvalidTag, KeyError, TypeError):
            return None
        if session.expires <= (time.time() if now is None else now):
            return None
        return session

    def csrf(self, sid: str) -> str:
        return hmac.new(self._mac, sid.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, sid: str | None, token: str | None) -> bool:
        return bool(sid and token) and hmac.compare_digest(self.csrf(sid or ""), token or "")
