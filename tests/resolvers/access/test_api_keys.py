from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from resolvers.access import Scope, load_roles
from resolvers.access.api_keys import (
    ApiKeys,
    KeyNotFoundError,
    KeySpec,
    hash_secret,
    parse_duration,
    parse_key,
)
from resolvers.errors import BadUserInputError

ROLES = load_roles(Path(__file__).parents[3] / "gateway" / "roles.toml")
PEPPER = b"test pepper, not a secret"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keys(db: AsyncDatabase[dict[str, Any]], clock: Clock) -> ApiKeys:
    return ApiKeys(
        db["api_keys"],
        pepper=PEPPER,
        roles=ROLES,
        env="test",
        channels=["web", "email"],
        clock=clock,
    )


async def principal_of(keys: ApiKeys, presented: str) -> Any:
    parsed = parse_key(presented)
    assert parsed is not None
    return keys.verify(await keys.record(parsed.key_id), parsed)


async def test_a_created_key_authenticates_and_is_stored_only_as_a_peppered_hash(
    keys: ApiKeys, db: AsyncDatabase[dict[str, Any]]
) -> None:
    issued = await keys.create(KeySpec("nightly export", "viewer", channels=["email"]))
    assert issued.secret.startswith(f"cgw_test_{issued.key.key_id}_")
    principal = await principal_of(keys, issued.secret)
    assert principal.name == "nightly export"
    assert principal.channels == {"email"}
    assert principal.sees_drafts
    stored = await db["api_keys"].find_one({})
    assert stored is not None
    secret = issued.secret.split("_", 3)[3]
    assert secret not in repr(stored)
    assert stored["secrets"][0]["hash"] == hash_secret(PEPPER, secret)
    assert secret not in repr(issued)  # a logged IssuedKey does not leak it


async def test_wrong_secret_other_env_and_garbage_are_refused(keys: ApiKeys) -> None:
    issued = await keys.create(KeySpec("shop", "storefront"))
    prefix, env, key_id, secret = issued.secret.split("_", 3)
    wrong = f"{prefix}_{env}_{key_id}_{'A' * 43}"
    assert await principal_of(keys, wrong) is None
    assert await principal_of(keys, f"{prefix}_prod_{key_id}_{secret}") is None
    for garbage in ["", "Bearer x", "cgw_test_short_x", issued.secret + "x", "cgw__abc_def"]:
        assert parse_key(garbage) is None


async def test_a_key_narrows_its_role_and_never_widens_it(keys: ApiKeys) -> None:
    issued = await keys.create(KeySpec("reader", "viewer", scopes=["catalog:read"]))
    principal = await principal_of(keys, issued.secret)
    assert principal.has(Scope.CATALOG_READ)
    assert not principal.sees_drafts
    with pytest.raises(BadUserInputError, match="not part of role 'storefront'"):
        await keys.create(KeySpec("sneaky", "storefront", scopes=["catalog:read-drafts"]))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (KeySpec("", "viewer"), "1 to 100 characters"),
        (KeySpec("x", "owner"), "unknown role 'owner'; roles: storefront, viewer"),
        (KeySpec("x", "viewer", scopes=["catalog:everything"]), "unknown scope"),
        (KeySpec("x", "viewer", channels=["fax"]), "unknown channel 'fax'"),
        (KeySpec("x", "integration", source="sap"), "unknown source system 'sap'"),
        (KeySpec("x", "editor"), "must expire"),
        (KeySpec("x", "viewer", expires_in=timedelta(0)), "in the future"),
    ],
)
async def test_invalid_keys_are_refused_with_the_reason(
    keys: ApiKeys, db: AsyncDatabase[dict[str, Any]], spec: KeySpec, message: str
) -> None:
    with pytest.raises(BadUserInputError, match=message):
        await keys.create(spec)
    assert await db["api_keys"].count_documents({}) == 0


async def test_expired_and_revoked_keys_stop_working(keys: ApiKeys, clock: Clock) -> None:
    expiring = await keys.create(KeySpec("sync", "editor", expires_in=timedelta(days=90)))
    assert await principal_of(keys, expiring.secret) is not None
    clock.now += timedelta(days=90)
    assert await principal_of(keys, expiring.secret) is None
    assert (await keys.get(expiring.key.key_id)).state(clock.now) == "expired"

    revoked = await keys.create(KeySpec("shop", "storefront"))
    first = await keys.revoke(revoked.key.key_id)
    again = await keys.revoke(revoked.key.key_id)
    assert first.revoked_at == again.revoked_at  # revoking twice keeps the first moment
    assert await principal_of(keys, revoked.secret) is None
    with pytest.raises(KeyNotFoundError):
        await keys.revoke("nosuchkey123")


async def test_rotation_keeps_the_old_secret_for_the_overlap_only(
    keys: ApiKeys, clock: Clock
) -> None:
    old = await keys.create(KeySpec("nightly", "integration", expires_in=parse_duration("90d")))
    new = await keys.rotate(old.key.key_id, overlap=timedelta(hours=24))
    assert new.secret != old.secret
    assert await principal_of(keys, old.secret) is not None
    assert await principal_of(keys, new.secret) is not None
    clock.now += timedelta(hours=24)
    assert await principal_of(keys, old.secret) is None
    assert await principal_of(keys, new.secret) is not None
    # A second rotation does not bring back the expired secret.
    newest = await keys.rotate(old.key.key_id, overlap=timedelta(0))
    assert await principal_of(keys, new.secret) is None
    assert await principal_of(keys, newest.secret) is not None


async def test_last_use_is_written_at_most_once_a_minute(keys: ApiKeys, clock: Clock) -> None:
    issued = await keys.create(KeySpec("shop", "storefront"))
    key_id = issued.key.key_id
    await keys.touch(key_id)
    first = clock.now
    clock.now += timedelta(seconds=59)
    await keys.touch(key_id)
    assert (await keys.get(key_id)).last_used_at == first
    clock.now += timedelta(seconds=2)
    await keys.touch(key_id)
    assert (await keys.get(key_id)).last_used_at == clock.now


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90d", timedelta(days=90)), ("24h", timedelta(hours=24)), (" 30m ", timedelta(minutes=30))],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "90", "1w", "-1d", "1.5h"])
def test_bad_durations_say_what_is_expected(text: str) -> None:
    with pytest.raises(BadUserInputError, match="like 90d, 24h"):
        parse_duration(text)
