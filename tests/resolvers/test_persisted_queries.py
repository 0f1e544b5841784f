"""The persisted query store: APQ registrations expire, safelisted operations stay."""

from datetime import UTC, datetime, timedelta
from typing import Any

from resolvers.db import Catalog, persisted_query_indexes
from resolvers.persisted_queries import ManifestOperation, PersistedQueryStore, query_hash
from tests.command_counter import CommandCounter

NOW = datetime(2026, 12, 1, tzinfo=UTC)
TTL = timedelta(days=30)
QUERY = "query Q { __typename }"


def operation(body: str, name: str = "Q") -> ManifestOperation:
    return ManifestOperation(id=query_hash(body), name=name, type="query", body=body)


async def store(db: Any) -> PersistedQueryStore:
    catalog = Catalog(db)
    await catalog.persisted_queries.create_indexes(persisted_query_indexes())
    return PersistedQueryStore(catalog.persisted_queries)


def test_hash_is_sha256_hex_of_the_utf8_text() -> None:
    # As `printf '{ __typename }' | sha256sum` and `printf 'Grüße' | sha256sum` print them.
    assert query_hash("{ __typename }") == (
        "7f56e67dd21ab3f30d1ff8b7bed08893f0a0db86449836189b361dd1e56ddb4b"
    )
    assert query_hash("Grüße") == "f83e039796c6453a10f5519e39fd113901572316a1a8ea07cb525d2801dfd074"


async def test_register_once_then_read(
    db: Any, db_name: str, command_counter: CommandCounter
) -> None:
    persisted = await store(db)
    sha = query_hash(QUERY)
    with command_counter.record(db_name) as recorded:
        assert await persisted.query(sha) is None
        await persisted.register(sha, QUERY, NOW, TTL)
        await persisted.register(sha, "query Other { __typename }", NOW, TTL)  # first wins
        assert await persisted.query(sha) == QUERY
    assert recorded.names() == {"find:persisted_queries": 2, "update:persisted_queries": 2}
    stored = await db["persisted_queries"].find_one({"_id": sha})
    assert stored["expiresAt"] == NOW + TTL
    assert stored["source"] == "apq"


async def test_manifest_safelists_and_stops_expiry(
    db: Any, db_name: str, command_counter: CommandCounter
) -> None:
    persisted = await store(db)
    other = "query Other { __typename }"
    await persisted.register(query_hash(QUERY), QUERY, NOW, TTL)  # an APQ entry first
    with command_counter.record(db_name) as recorded:
        first = await persisted.register_manifest([operation(QUERY), operation(other)], NOW)
    assert (first.added, first.changed, first.unchanged) == (1, 1, 0)
    # One read of what is known, one update command for both upserts.
    assert recorded.names() == {"find:persisted_queries": 1, "update:persisted_queries": 1}
    assert await persisted.safelisted_ids() == {query_hash(QUERY), query_hash(other)}
    entry = await db["persisted_queries"].find_one({"_id": query_hash(QUERY)})
    assert entry["safelisted"] is True
    assert "expiresAt" not in entry

    with command_counter.record(db_name) as again:
        second = await persisted.register_manifest([operation(QUERY), operation(other)], NOW)
    assert (second.added, second.changed, second.unchanged) == (0, 0, 2)
    assert again.names() == {"find:persisted_queries": 1}  # nothing to write

    # An APQ registration cannot rewrite a safelisted operation.
    await persisted.register(query_hash(QUERY), "query Evil { __typename }", NOW, TTL)
    assert await persisted.query(query_hash(QUERY)) == QUERY


async def test_ttl_index_expires_apq_entries_only(db: Any) -> None:
    await store(db)
    indexes = {i["name"]: i async for i in await db["persisted_queries"].list_indexes()}
    assert indexes["expires_at_ttl"]["expireAfterSeconds"] == 0
    assert indexes["safelisted"]["partialFilterExpression"] == {"safelisted": True}
