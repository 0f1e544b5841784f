"""API keys: ``cgw_<env>_<keyId>_<secret>``, stored as HMAC-SHA256(pepper, secret).

The id gives a direct lookup; the secret is never stored, logged or shown again after creation
or rotation. A rotation keeps the previous secret valid for an overlap so that an unattended
job can be switched to the new one without downtime.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pymongo
from pymongo import ReturnDocument

from resolvers.access.principal import Principal
from resolvers.access.roles import Role, Roles
from resolvers.access.scopes import Scope
from resolvers.db import Collection, Document, as_utc
from resolvers.errors import BadUserInputError, CatalogError

PREFIX = "cgw"
_ENV = re.compile(r"^[a-z0-9]{1,16}$")
_KEY_ID = re.compile(r"^[a-z0-9]{12}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{43}$")
# last-used is coarse: one write per key per minute at most, never one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
TOUCH_TIMEOUT_S = 1.0
DEFAULT_OVERLAP = timedelta(hours=24)
MAX_NAME = 100


class KeyNotFoundError(CatalogError):
    code = "NOT_FOUND"


@dataclass(frozen=True, slots=True)
class ParsedKey:
    env: str
    key_id: str
    secret: str


def parse_key(presented: str) -> ParsedKey | None:
    """The parts of a well-formed key, or None (the caller answers 401 without saying why)."""
    parts = presented.split("_", 3)
    if len(parts) != 4 or parts[0] != PREFIX:
        return None
    _, env, key_id, secret = parts
    if not (_ENV.match(env) and _KEY_ID.match(key_id) and _SECRET.match(secret)):
        return None
    return ParsedKey(env, key_id, secret)


def format_key(env: str, key_id: str, secret: str) -> str:
    return f"{PREFIX}_{env}_{key_id}_{secret}"


def hash_secret(pepper: bytes, secret: str) -> str:
    """What is stored instead of the secret: without the pepper a leaked hash is worthless."""
    return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


def _new_key_id() -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key's record as admins see it (never the secret, never the hash)."""

    key_id: str
    name: str
    role: str
    scopes: tuple[Scope, ...]
    channels: tuple[str, ...] | None
    source: str | None
    env: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    rotated_at: datetime | None
    created_by: str | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    @classmethod
    def of(cls, document: Document) -> ApiKey:
        channels = document.get("channels")
        return cls(
            key_id=document["_id"],
            name=document["name"],
            role=document["role"],
            scopes=tuple(Scope(s) for s in document["scopes"]),
            channels=tuple(channels) if channels is not None else None,
            source=document.get("source"),
            env=document["env"],
            created_at=as_utc(document["createdAt"]),
            expires_at=_maybe_aware(document.get("expiresAt")),
            last_used_at=_maybe_aware(document.get("lastUsedAt")),
            revoked_at=_maybe_aware(document.get("revokedAt")),
            rotated_at=_maybe_aware(document.get("rotatedAt")),
            created_by=document.get("createdBy"),
        )


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key with its secret: shown once, at creation or rotation."""

    key: ApiKey
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class KeySpec:
    name: str
    role: str
    scopes: Sequence[str] = ()
    channels: Sequence[str] | None = None
    source: str | None = None
    expires_in: timedelta | None = None


class ApiKeys:
    """The ``api_keys`` collection: create, list, rotate, revoke and verify keys."""

    def __init__(
        self,
        collection: Collection,
        *,
        pepper: bytes,
        roles: Roles,
        env: str,
        channels: Sequence[str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        reads: Collection | None = None,
    ) -> None:
        if not _ENV.match(env):
            raise ValueError(f"key environment {env!r}: 1 to 16 lowercase letters or digits")
        self.collection = collection
        # Verification reads (``record``), with the gateway's read preference: a replica keeps
        # authenticating through an election. Management reads what it just wrote: primary.
        self.reads = reads if reads is not None else collection
        self._pepper = pepper
        self.roles = roles
        self.env = env
        self.channels = tuple(channels)
        self.clock = clock

    def validate(self, spec: KeySpec) -> tuple[Role, tuple[Scope, ...]]:
        """The role and scopes of a key about to be created, or BAD_USER_INPUT saying why.

        Each error's ``field`` detail is its path in the KeySpec (``["scopes", 1]``), so that
        the GraphQL payload can point at the input that was wrong.
        """
        name = spec.name.strip()
        if not name or len(name) > MAX_NAME:
            raise BadUserInputError(f"a key name has 1 to {MAX_NAME} characters", field=["name"])
        role = self.roles.get(spec.role)
        if role is None:
            raise BadUserInputError(
                f"unknown role {spec.role!r}; roles: {', '.join(self.roles.names())}",
                field=["role"],
            )
        scopes: list[Scope] = []
        for index, raw in enumerate(spec.scopes):
            try:
                scope = Scope(raw)
            except ValueError:
                raise BadUserInputError(
                    f"unknown scope {raw!r}; scopes: {', '.join(s.value for s in Scope)}",
                    field=["scopes", index],
                ) from None
            if scope not in role.scopes:
                raise BadUserInputError(
                    f"scope {scope.value!r} is not part of role {role.name!r} "
                    f"({', '.join(sorted(role.scopes))}); a key narrows its role, never widens it",
                    field=["scopes", index],
                )
            scopes.append(scope)
        if spec.channels is not None and not spec.channels:
            # An empty list must not silently mean "every channel" (what None means).
            raise BadUserInputError(
                "give at least one channel, or none at all for every channel", field=["channels"]
            )
        for index, channel in enumerate(spec.channels or ()):
            if channel not in self.channels:
                raise BadUserInputError(
                    f"unknown channel {channel!r}; channels: {', '.join(self.channels)}",
                    field=["channels", index],
                )
        if spec.source is not None and spec.source not in self.roles.sources:
            raise BadUserInputError(
                f"unknown source system {spec.source!r}; sources: {', '.join(self.roles.sources)}",
                field=["source"],
            )
        if spec.expires_in is not None and spec.expires_in <= timedelta(0):
            raise BadUserInputError("a key's expiry must be in the future", field=["expires_in"])
        if role.can_write and spec.expires_in is None:
            raise BadUserInputError(
                f"keys of role {role.name!r} can change the catalog and must expire "
                "(give an expiry, e.g. 90d)",
                field=["expires_in"],
            )
        effective = tuple(scopes) if scopes else tuple(sorted(role.scopes))
        return role, effective

    async def create(self, spec: KeySpec, *, created_by: str | None = None) -> IssuedKey:
        _, scopes = self.validate(spec)
        now = self.clock()
        secret = secrets.token_urlsafe(32)
        document: Document = {
            "_id": _new_key_id(),
            "name": spec.name.strip(),
            "role": spec.role,
            "scopes": [s.value for s in scopes],
            "channels": list(spec.channels) if spec.channels else None,
            "source": spec.source,
            "env": self.env,
            "createdAt": now,
            "expiresAt": now + spec.expires_in if spec.expires_in else None,
            "createdBy": created_by,
            "secrets": [{"hash": hash_secret(self._pepper, secret), "createdAt": now}],
        }
        await self.collection.insert_one(document)
        key = ApiKey.of(document)
        return IssuedKey(key, format_key(self.env, key.key_id, secret))

    async def list(self) -> list[ApiKey]:
        cursor = self.collection.find({}, {"secrets": 0}).sort("createdAt", 1)
        return [ApiKey.of(document) async for document in cursor]

    async def get(self, key_id: str) -> ApiKey:
        document = await self.collection.find_one({"_id": key_id}, {"secrets": 0})
        if document is None:
            raise KeyNotFoundError(f"no API key {key_id!r}")
        return ApiKey.of(document)

    async def rotate(self, key_id: str, overlap: timedelta = DEFAULT_OVERLAP) -> IssuedKey:
        """A new secret; the current ones stay valid for ``overlap`` (at most their own end)."""
        if overlap < timedelta(0):
            raise BadUserInputError("the overlap cannot be negative", field=["overlap"])
        now = self.clock()
        secret = secrets.token_urlsafe(32)
        current = await self.collection.find_one({"_id": key_id, "revokedAt": None})
        if current is None:
            raise KeyNotFoundError(f"no active API key {key_id!r}")
        until = now + overlap
        kept = [
            {**stored, "validUntil": _overlap_end(stored, until)}
            for stored in current["secrets"]
            if stored.get("validUntil") is None or as_utc(stored["validUntil"]) > now
        ]
        fresh = {"hash": hash_secret(self._pepper, secret), "createdAt": now}
        updated = await self.collection.find_one_and_update(
            # Compare-and-set on the secrets: two concurrent rotations do not lose one.
            {"_id": key_id, "revokedAt": None, "secrets": current["secrets"]},
            {"$set": {"secrets": [*kept, fresh], "rotatedAt": now}},
            projection={"secrets": 0},
            return_document=ReturnDocument.AFTER,
        )
        if updated is None:
            raise CatalogError(f"API key {key_id!r} changed during rotation; rotate again")
        return IssuedKey(ApiKey.of(updated), format_key(self.env, key_id, secret))

    async def revoke(self, key_id: str) -> ApiKey:
        now = self.clock()
        updated = await self.collection.find_one_and_update(
            {"_id": key_id},
            [{"$set": {"revokedAt": {"$ifNull": ["$revokedAt", now]}}}],
            projection={"secrets": 0},
            return_document=ReturnDocument.AFTER,
        )
        if updated is None:
            raise KeyNotFoundError(f"no API key {key_id!r}")
        return ApiKey.of(updated)

    async def record(self, key_id: str) -> Document | None:
        """The stored record with its secret hashes, for verification (cache it)."""
        return await self.reads.find_one({"_id": key_id})

    def verify(self, record: Document | None, parsed: ParsedKey) -> Principal | None:
        """The principal of a presented key, or None when it is unknown, expired or revoked.

        Every stored hash is compared in constant time, so timing tells nothing about which
        part of the secret was right.
        """
        if record is None or parsed.env != record["env"] or record.get("revokedAt") is not None:
            return None
        now = self.clock()
        expires = record.get("expiresAt")
        if expires is not None and as_utc(expires) <= now:
            return None
        presented = hash_secret(self._pepper, parsed.secret)
        matched = False
        for stored in record["secrets"]:
            valid_until = stored.get("validUntil")
            live = valid_until is None or as_utc(valid_until) > now
            matched |= hmac.compare_digest(presented, stored["hash"]) and live
        if not matched:
            return None
        role = self.roles.get(record["role"])
        if role is None:  # the role was removed from roles.toml after the key was made
            return None
        key = ApiKey.of(record)
        return Principal(
            "key",
            role,
            key.name,
            key_id=key.key_id,
            scopes=frozenset(key.scopes) & role.scopes,
            channels=frozenset(key.channels) if key.channels is not None else None,
            source=key.source,
            expires_at=key.expires_at,
        )

    async def touch(self, key_id: str) -> None:
        """Note a use; a conditional write so replicas together write at most once a minute."""
        now = self.clock()
        # A hint, not worth holding a request through an election for.
        with pymongo.timeout(TOUCH_TIMEOUT_S):
            await self.collection.update_one(
                {
                    "_id": key_id,
                    "$or": [
                        {"lastUsedAt": None},
                        {"lastUsedAt": {"$lt": now - LAST_USED_RESOLUTION}},
                    ],
                },
                {"$set": {"lastUsedAt": now}},
            )


def _overlap_end(stored: Document, until: datetime) -> datetime:
    """A secret being replaced stays valid until ``until``, or its own earlier end."""
    own = stored.get("validUntil")
    return until if own is None else min(until, as_utc(own))


def _maybe_aware(moment: Any) -> datetime | None:
    return as_utc(moment) if isinstance(moment, datetime) else None


def parse_duration(text: str) -> timedelta:
    """``90d``, ``24h``, ``30m`` or ``45s``; BAD_USER_INPUT for anything else."""
    match = re.fullmatch(r"\s*(\d{1,6})\s*([dhms])\s*", text)
    if match is None:
        raise BadUserInputError(f"{text!r} is not a duration like 90d, 24h, 30m or 45s")
    amount, unit = int(match[1]), match[2]
    return timedelta(**{{"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}[unit]: amount})
