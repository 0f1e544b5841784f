"""Automatic persisted queries (Apollo's APQ protocol) and the operation safelist, over HTTP.

A client sends ``extensions.persistedQuery {version: 1, sha256Hash}`` instead of the query text;
an unknown hash answers ``PersistedQueryNotFound`` (``extensions.code``
``PERSISTED_QUERY_NOT_FOUND``, what Apollo Client's ``PersistedQueryLink`` looks for), and the
client sends the hash with the text, which is checked against the hash, registered in MongoDB
for every replica and run. Texts are also kept in a small per-process cache, so a hit costs no
MongoDB command.

Principals whose role is held to the safelist (``CATALOG_SAFELIST``, ``CATALOG_SAFELIST_ROLES``)
may only run the operations of the manifest (``catalog-gateway operations register``): ``log``
runs the others and logs them, ``enforce`` refuses them with ``QUERY_NOT_IN_SAFELIST``.
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from gateway.settings import Settings
from resolvers.access import Principal
from resolvers.persisted_queries import PersistedQueryStore, query_hash

log = logging.getLogger(__name__)

SafelistMode = Literal["off", "log", "enforce"]
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Bytes of query text one process keeps in memory (texts are at most max_query_bytes each).
CACHE_BYTES = 8 * 1024 * 1024


class PersistedQueryError(Exception):
    """A persisted-query request the gateway refuses; ``status`` is for clients of
    application/graphql-response+json (legacy application/json clients get 200 when it is
    ``not_found``, as for every other GraphQL request error)."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def not_found() -> PersistedQueryError:
    # The message and the code both: Apollo Client matches either.
    return PersistedQueryError(404, "PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")


def _bad(message: str) -> PersistedQueryError:
    return PersistedQueryError(400, message, "BAD_REQUEST")


@dataclass(frozen=True, slots=True)
class PersistedQueryOptions:
    enabled: bool = True
    max_query_bytes: int = 32_768
    ttl: timedelta = timedelta(days=30)
    safelist: SafelistMode = "off"
    safelist_roles: frozenset[str] = frozenset({"storefront"})
    safelist_refresh_s: float = 30.0


def requested_hash(extensions: dict[str, Any] | None) -> str | None:
    """The ``sha256Hash`` of ``extensions.persistedQuery``, checked; None without one."""
    if not extensions or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict):
        raise _bad("'extensions.persistedQuery' must be an object {version, sha256Hash}")
    if persisted.get("version") != 1:
        raise _bad("Unsupported persisted query version: send version 1")
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise _bad("'extensions.persistedQuery.sha256Hash' must be 64 lower-case hex digits")
    return sha256


class _TextCache:
    """Query texts by hash, least recently used first out, within a byte budget."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._texts: OrderedDict[str, str] = OrderedDict()

    def get(self, sha256: str) -> str | None:
        text = self._texts.get(sha256)
        if text is not None:
            self._texts.move_to_end(sha256)
        return text

    def put(self, sha256: str, text: str) -> None:
        if sha256 in self._texts:
            return
        self._texts[sha256] = text
        self.bytes += len(text)
        while self.bytes > self.max_bytes:
            _, dropped = self._texts.popitem(last=False)
            self.bytes -= len(dropped)


class PersistedQueries:
    """One per process: its text cache and its copy of the safelist."""

    def __init__(
        self,
        options: PersistedQueryOptions | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options or PersistedQueryOptions()
        self._texts = _TextCache(CACHE_BYTES)
        self._monotonic = monotonic
        self._safelist: frozenset[str] = frozenset()
        self._safelist_read_at: float | None = None

    def holds(self, principal: Principal) -> bool:
        """Whether ``principal`` is held to the safelist."""
        return self.options.safelist != "off" and principal.role.name in self.options.safelist_roles

    async def query_text(
        self,
        query: str,
        extensions: dict[str, Any] | None,
        principal: Principal,
        store: PersistedQueryStore,
        now: datetime,
    ) -> str:
        """The text to run: ``query``, or the one registered under the request's hash.

        ``query`` is empty when the client sent only a hash. Raises PersistedQueryError.
        """
        sha256 = requested_hash(extensions)
        if sha256 is None:
            if self.holds(principal):
                await self._check_safelist(query_hash(query), query, principal, store)
            return query
        if not self.options.enabled:
            raise PersistedQueryError(
                400, "PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED"
            )
        if not query:
            text = self._texts.get(sha256)
            if text is None:
                text = await store.query(sha256)
                if text is None:
                    raise not_found()
                self._texts.put(sha256, text)
            if self.holds(principal):
                await self._check_safelist(sha256, text, principal, store)
            return text
        if query_hash(query) != sha256:
            raise _bad("provided sha does not match query")
        if self.holds(principal):
            # Before registering: an operation a held key may not run is not stored for it.
            await self._check_safelist(sha256, query, principal, store)
        if self._texts.get(sha256) is None and len(query.encode()) <= self.options.max_query_bytes:
            await store.register(sha256, query, now, self.options.ttl)
            self._texts.put(sha256, query)
        return query

    async def _check_safelist(
        self, sha256: str, query: str, principal: Principal, store: PersistedQueryStore
    ) -> None:
        if sha256 in await self._safelisted(store):
            return
        name = _operation_label(query)
        if self.options.safelist == "log":
            log.warning(
                "operation not in the safelist run by %s (role %s): %s sha256 %s",
                principal.label,
                principal.role.name,
                name,
                sha256,
            )
            return
        raise PersistedQueryError(
            403,
            f"Role {principal.role.name!r} may only run the safelisted operations "
            f"(catalog-gateway operations register); {name} (sha256 {sha256}) is not one",
            "QUERY_NOT_IN_SAFELIST",
        )

    def forget_safelist(self) -> None:
        """The safelist changed in MongoDB: read it again on next use."""
        self._safelist_read_at = None

    async def _safelisted(self, store: PersistedQueryStore) -> frozenset[str]:
        """The safelist's hashes, reread from MongoDB when older than the refresh interval
        (an operation registered on one replica is known to the others that long after)."""
        now = self._monotonic()
        read_at = self._safelist_read_at
        if read_at is None or now - read_at >= self.options.safelist_refresh_s:
            self._safelist = await store.safelisted_ids()
            self._safelist_read_at = now
        return self._safelist


def _operation_label(query: str) -> str:
    from gateway.graphql_http import first_operation_name  # the HTTP layer imports this module

    name = first_operation_name(query)
    return f"operation {name!r}" if name else "an unnamed operation"


def persisted_query_options(settings: Settings) -> PersistedQueryOptions:
    return PersistedQueryOptions(
        enabled=settings.persisted_queries,
        max_query_bytes=settings.persisted_query_max_bytes,
        ttl=timedelta(days=settings.persisted_query_ttl_days),
        safelist=settings.safelist,
        safelist_roles=frozenset(settings.safelist_roles),
        safelist_refresh_s=settings.safelist_refresh_s,
    )
