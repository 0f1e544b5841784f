from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from gateway.auth import AuthenticationError, Authenticator, TooManyFailuresError
from gateway.auth.authenticator import FAILURE_BURST
from resolvers.access import load_roles
from resolvers.access.api_keys import ApiKeys, KeySpec
from tests.command_counter import CommandCounter

ROLES = load_roles(Path(__file__).parents[3] / "gateway" / "roles.toml")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def keys(db: AsyncDatabase[dict[str, Any]]) -> ApiKeys:
    return ApiKeys(db["api_keys"], pepper=b"pepper", roles=ROLES, env="test", channels=["web"])


@pytest.fixture
def clock() -> Clock:
    return Clock()


def authenticator(
    keys: ApiKeys, clock: Clock, anonymous: str | None = "storefront"
) -> Authenticator:
    return Authenticator(keys, ROLES, anonymous_role=anonymous, clock=clock)


async def test_no_header_is_the_anonymous_role_or_401_when_there_is_none(
    keys: ApiKeys, clock: Clock
) -> None:
    principal = await authenticator(keys, clock).authenticate(None, "10.0.0.1")
    assert principal.kind == "anonymous"
    assert principal.role.name == "storefront"
    with pytest.raises(AuthenticationError) as refused:
        await authenticator(keys, clock, anonymous=None).authenticate(None, "10.0.0.1")
    assert refused.value.headers == {"WWW-Authenticate": 'Bearer realm="catalog-gateway"'}


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer cgw_test_abc",
        "Bearer cgw_test_000000000000_" + "A" * 43,
    ],
)
async def test_a_bad_key_is_401_even_when_anonymous_reads_are_allowed(
    keys: ApiKeys, clock: Clock, header: str
) -> None:
    with pytest.raises(AuthenticationError) as refused:
        await authenticator(keys, clock).authenticate(header, "10.0.0.1")
    assert 'error="invalid_token"' in refused.value.headers["WWW-Authenticate"]


async def test_key_records_are_cached_and_a_revocation_lands_within_the_cache_time(
    keys: ApiKeys, clock: Clock
) -> None:
    issued = await keys.create(KeySpec("shop", "storefront"))
    auth = authenticator(keys, clock)
    header = f"Bearer {issued.secret}"
    for _ in range(10):
        principal = await auth.authenticate(header, "10.0.0.1")
        assert principal.key_id == issued.key.key_id
    assert auth.lookups == 1
    await keys.revoke(issued.key.key_id)
    await auth.authenticate(header, "10.0.0.1")  # still cached
    clock.now += auth.cache_seconds
    with pytest.raises(AuthenticationError):
        await auth.authenticate(header, "10.0.0.1")
    assert auth.lookups == 2


async def test_guessing_is_throttled_per_address_before_it_costs_a_lookup(
    keys: ApiKeys, clock: Clock
) -> None:
    auth = authenticator(keys, clock)
    guess = "Bearer cgw_test_000000000000_" + "A" * 43
    for _ in range(FAILURE_BURST):
        with pytest.raises(AuthenticationError):
            await auth.authenticate(guess, "10.0.0.1")
    lookups = auth.lookups
    with pytest.raises(TooManyFailuresError) as throttled:
        await auth.authenticate(guess, "10.0.0.1")
    assert throttled.value.retry_after > 0
    assert auth.lookups == lookups
    # Another address, and the throttled address's anonymous reads, are not affected.
    with pytest.raises(AuthenticationError):
        await auth.authenticate(guess, "10.0.0.2")
    assert (await auth.authenticate(None, "10.0.0.1")).kind == "anonymous"


async def test_at_steady_state_authenticating_costs_no_mongodb_command(
    keys: ApiKeys, clock: Clock, db: AsyncDatabase[dict[str, Any]], command_counter: CommandCounter
) -> None:
    issued = await keys.create(KeySpec("sync", "editor", expires_in=timedelta(days=1)))
    auth = authenticator(keys, clock)
    header = f"Bearer {issued.secret}"
    with command_counter.record(db.name) as first:
        await auth.authenticate(header, "10.0.0.1")
    # One read of the key record, one conditional write of its last use.
    assert [name for _, name, _ in first.commands] == ["find", "update"]
    with command_counter.record(db.name) as steady:
        for _ in range(50):
            clock.now += 0.05  # 2.5 s: inside the cache time and the last-use resolution
            await auth.authenticate(header, "10.0.0.1")
    assert steady.commands == []
    assert (await keys.get(issued.key.key_id)).last_used_at is not None


def test_an_unknown_anonymous_role_is_a_configuration_error(keys: ApiKeys, clock: Clock) -> None:
    with pytest.raises(ValueError, match="anonymous role 'guest' is not in"):
        authenticator(keys, clock, anonymous="guest")
