"""Who is asking: ``Authorization: Bearer <key or JWT>`` to a Principal, or 401.

Key records are cached for a few seconds, so at steady state authenticating a request costs no
MongoDB command; a revocation takes effect within ``cache_seconds`` on every replica.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import anyio.to_thread

from gateway.auth.buckets import TokenBuckets
from gateway.auth.jwt_tokens import JwtVerifier
from resolvers.access import Principal, Roles
from resolvers.access.api_keys import LAST_USED_RESOLUTION, ApiKeys, parse_key
from resolvers.db import Document

log = logging.getLogger("gateway.auth")

CACHE_SECONDS = 5.0
CACHED_KEYS = 4096
# Failed authentications per client address: a burst of 20, then one every 3 seconds.
FAILURE_BURST = 20
FAILURES_PER_SECOND = 1 / 3


class AuthenticationError(Exception):
    """401: the request needs a valid key (missing, malformed, unknown, expired, revoked)."""

    def __init__(self, message: str, *, invalid_token: bool) -> None:
        super().__init__(message)
        self.message = message
        challenge = 'Bearer realm="catalog-gateway"'
        if invalid_token:  # RFC 6750: say the token was bad, never why
            challenge += ', error="invalid_token"'
        self.headers = {"WWW-Authenticate": challenge}


class TooManyFailuresError(Exception):
    """429: too many failed authentications from one client address."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("too many failed authentications from this address")
        self.retry_after = retry_after


@dataclass(slots=True)
class _Cached:
    record: Document | None
    fetched: float


class Authenticator:
    def __init__(
        self,
        keys: ApiKeys,
        roles: Roles,
        *,
        anonymous_role: str | None,
        jwt: JwtVerifier | None = None,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keys = keys
        self.roles = roles
        anonymous = roles.get(anonymous_role) if anonymous_role else None
        if anonymous_role and anonymous is None:
            raise ValueError(
                f"anonymous role {anonymous_role!r} is not in {roles.source}; "
                f"roles: {', '.join(roles.names())} (or 'none')"
            )
        self.anonymous = Principal.anonymous(anonymous) if anonymous else None
        self.jwt = jwt
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._touched: dict[str, float] = {}
        self.failures = TokenBuckets(clock=clock)
        self.lookups = 0  # MongoDB reads of key records, for tests and benchmarks

    async def authenticate(self, authorization: str | None, client: str) -> Principal:
        if authorization is None or not authorization.strip():
            if self.anonymous is None:
                raise AuthenticationError(
                    "this endpoint needs an API key: send 'Authorization: Bearer <key>'",
                    invalid_token=False,
                )
            return self.anonymous
        # A client that keeps guessing is refused before its guesses cost a lookup.
        retry = self.failures.empty(client, FAILURE_BURST, FAILURES_PER_SECOND)
        if retry is not None:
            raise TooManyFailuresError(retry)
        principal = await self._principal(authorization.strip())
        if principal is None:
            retry = self.failures.take(client, FAILURE_BURST, FAILURES_PER_SECOND)
            if retry is not None:
                raise TooManyFailuresError(retry)
            raise AuthenticationError(
                "the API key or token is malformed, unknown, expired or revoked",
                invalid_token=True,
            )
        return principal

    async def _principal(self, authorization: str) -> Principal | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        token = token.strip()
        parsed = parse_key(token)
        if parsed is not None:
            principal = self.keys.verify(await self._record(parsed.key_id), parsed)
            if principal is not None and principal.key_id is not None:
                await self._touch(principal.key_id)
            return principal
        if self.jwt is not None and JwtVerifier.looks_like_jwt(token):
            # A JWKS URL is fetched (then cached) by blocking I/O: keep it off the event loop.
            return await anyio.to_thread.run_sync(self.jwt.verify, token)
        return None

    def forget(self, key_id: str) -> None:
        """The key's record changed in MongoDB (revoked, rotated, its role or channels): read
        it again on its next use."""
        self._cache.pop(key_id, None)

    async def _record(self, key_id: str) -> Document | None:
        now = self._clock()
        cached = self._cache.get(key_id)
        if cached is not None and now - cached.fetched < self.cache_seconds:
            self._cache.move_to_end(key_id)
            return cached.record
        self.lookups += 1
        record = await self.keys.record(key_id)
        self._cache[key_id] = _Cached(record, now)
        self._cache.move_to_end(key_id)
        while len(self._cache) > CACHED_KEYS:
            self._cache.popitem(last=False)
        return record

    async def _touch(self, key_id: str) -> None:
        now = self._clock()
        last = self._touched.get(key_id)
        if last is not None and now - last < LAST_USED_RESOLUTION.total_seconds():
            return
        self._touched[key_id] = now
        try:
            await self.keys.touch(key_id)
        except Exception:  # last-used is a hint: never fail a request over it
            log.warning("could not record the last use of key %s", key_id, exc_info=True)
