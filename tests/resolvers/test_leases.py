import asyncio
from datetime import UTC, datetime, timedelta

from resolvers import leases
from resolvers.db import Database

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


async def test_one_holder_at_a_time_until_the_lease_expires(db: Database) -> None:
    collection = leases.leases(db)
    first = await leases.claim(collection, "job", "a", TTL, now=T0)
    assert first is not None
    assert first.owner == "a"
    assert first.token == 1
    assert first.expires_at == T0 + TTL

    assert await leases.claim(collection, "job", "b", TTL, now=T0 + TTL / 2) is None
    # The holder claiming again extends its own lease and keeps its token.
    again = await leases.claim(collection, "job", "a", TTL, now=T0 + TTL / 2)
    assert again is not None
    assert again.token == 1
    assert again.expires_at == T0 + TTL * 1.5

    # "a" stopped renewing (it died): once expired, "b" takes over with a newer token.
    taken = await leases.claim(collection, "job", "b", TTL, now=T0 + TTL * 2)
    assert taken is not None
    assert taken.owner == "b"
    assert taken.token == 2
    # And "a"'s old lease can no longer be renewed or released.
    assert await leases.renew(collection, first, TTL, now=T0 + TTL * 2) is None
    assert not await leases.release(collection, first)
    holder = await leases.holder(collection, "job", now=T0 + TTL * 2)
    assert holder == taken


async def test_renew_and_release(db: Database) -> None:
    collection = leases.leases(db)
    lease = await leases.claim(collection, "job", "a", TTL, now=T0)
    assert lease is not None
    renewed = await leases.renew(collection, lease, TTL, now=T0 + TTL * 0.9)
    assert renewed is not None
    assert renewed.expires_at == T0 + TTL * 1.9
    # Still held past the first expiry thanks to the renewal.
    assert await leases.claim(collection, "job", "b", TTL, now=T0 + TTL * 1.5) is None

    assert await leases.release(collection, renewed)
    assert await leases.holder(collection, "job", now=T0 + TTL) is None
    # Released: the next claim need not wait, and gets a new token.
    after = await leases.claim(collection, "job", "b", TTL, now=T0 + TTL)
    assert after is not None
    assert after.owner == "b"
    assert after.token == 2


async def test_names_are_independent(db: Database) -> None:
    collection = leases.leases(db)
    assert await leases.claim(collection, "one", "a", TTL, now=T0) is not None
    assert await leases.claim(collection, "two", "b", TTL, now=T0) is not None
    assert await leases.claim(collection, "two", "a", TTL, now=T0) is None


async def test_owner_names_are_literal(db: Database) -> None:
    # An owner that looks like a field path is stored as given, not evaluated.
    collection = leases.leases(db)
    lease = await leases.claim(collection, "job", "$expiresAt", TTL, now=T0)
    assert lease is not None
    assert lease.owner == "$expiresAt"
    assert await leases.claim(collection, "job", "$owner", TTL, now=T0) is None


async def test_racing_claims_have_one_winner(db: Database) -> None:
    collection = leases.leases(db)
    owners = [leases.new_owner(f"r{i}:") for i in range(8)]
    assert len(set(owners)) == len(owners)
    for round_ in range(5):
        now = T0 + TTL * 2 * round_  # every round starts with the previous lease expired
        won = await asyncio.gather(
            *(leases.claim(collection, "job", owner, TTL, now=now) for owner in owners)
        )
        winners = [lease for lease in won if lease is not None]
        assert len(winners) == 1
        assert await leases.holder(collection, "job", now=now) == winners[0]
