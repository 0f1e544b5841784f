"""productImport over HTTP (a multipart request per the GraphQL multipart request spec): the
job it starts, read through node(id:) by polling, its counts and paged row errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gateway.settings import Settings
from resolvers.db import Catalog
from resolvers.imports import checksum
from resolvers.imports.store import COLLECTION, INTERRUPTED
from schema.global_ids import to_global_id
from tests.http_helpers import api_key
from tests.import_helpers import Db, finished, import_client, read_job, upload
from tests.resolvers.imports.fixtures import PROFILES, counts, jsonl, prepared, product

pytestmark = pytest.mark.indexed

BAD = product(
    "P-3", attributes={"color": {"value": "plaid"}, "weight": {"value": 300, "unit": "g"}}
)
BAD["media"] = [{"publicId": "catalog/gone", "role": "hero", "position": 0}]
FILE = jsonl([product("P-1"), product("P-2"), BAD, product("P-4")])


@pytest.fixture
async def client(settings: Settings, db: Db) -> AsyncIterator[httpx.AsyncClient]:
    await prepared(Catalog(db))
    async with import_client(settings, db) as http:
        yield http


def started(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()["data"]["productImport"]
    assert payload["errors"] == []
    job: dict[str, Any] = payload["job"]
    return job


async def test_a_dry_run_job_succeeds_with_the_reports_counts_and_paged_row_errors(
    client: httpx.AsyncClient, db: Db, settings: Settings
) -> None:
    editor = await api_key(db, "editor", settings)
    job = started(await upload(client, editor, FILE))
    assert job["status"] in ("QUEUED", "RUNNING", "SUCCEEDED")
    assert (job["dryRun"], job["errorPolicy"], job["format"]) == (True, "REJECT_ALL", "JSONL")
    assert (job["filename"], job["checksum"]) == ("products.jsonl", checksum(FILE))

    done = await finished(client, editor, job["id"])
    assert done["status"] == "SUCCEEDED"
    assert done["counts"] == {
        "rows": 4,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "failed": 1,
        "written": 0,
    }
    assert done["failure"] is None
    key = await db["api_keys"].find_one({"name": "test editor"})
    assert key is not None
    assert done["actor"] == key["_id"]
    assert done["finishedAt"] is not None
    channels = sorted(PROFILES.channels.names())
    assert sorted(r["channel"] for r in done["readiness"]) == channels
    assert {r["products"] for r in done["readiness"]} == {3}
    assert await counts(Catalog(db)) == (0, 0)

    first = await read_job(client, editor, job["id"], first=1)
    page = first["rowErrors"]
    assert page["totalCount"] == 2
    assert page["pageInfo"]["hasNextPage"] is True
    [edge] = page["edges"]
    second = await read_job(client, editor, job["id"], first=1, after=page["pageInfo"]["endCursor"])
    rest = second["rowErrors"]
    assert rest["pageInfo"]["hasNextPage"] is False
    errors = [e["node"] for e in (edge, *rest["edges"])]
    assert [(e["line"], e["sku"], e["path"], e["code"]) for e in errors] == [
        (3, "P-3", ["attributes", "color"], "ENUM"),
        (3, "P-3", ["media", "0"], "DELETED_ASSET"),
    ]


async def test_reject_all_with_a_bad_row_writes_nothing_and_reject_failed_rows_the_rest(
    client: httpx.AsyncClient, db: Db, settings: Settings
) -> None:
    editor = await api_key(db, "editor", settings)
    job = started(await upload(client, editor, FILE, dryRun=False))
    done = await finished(client, editor, job["id"])
    assert (done["status"], done["dryRun"]) == ("SUCCEEDED", False)
    assert done["counts"]["failed"] == 1
    assert done["counts"]["written"] == 0
    assert await counts(Catalog(db)) == (0, 0)

    job = started(
        await upload(client, editor, FILE, dryRun=False, errorPolicy="REJECT_FAILED_ROWS")
    )
    done = await finished(client, editor, job["id"])
    assert done["counts"] == {
        "rows": 4,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "failed": 1,
        "written": 3,
    }
    assert await counts(Catalog(db)) == (3, 3)
    job_id = done["id"]
    events = await Catalog(db).change_events.find().to_list()
    # The history names the job the client polls.
    assert {to_global_id("ImportJob", e["importJob"]) for e in events} == {job_id}


async def test_an_apply_of_another_file_than_the_dry_run_checked_starts_no_job(
    client: httpx.AsyncClient, db: Db, settings: Settings
) -> None:
    editor = await api_key(db, "editor", settings)
    response = await upload(client, editor, FILE, dryRun=False, expectChecksum="0" * 64)
    payload = response.json()["data"]["productImport"]
    assert payload["job"] is None
    [error] = payload["errors"]
    assert (error["__typename"], error["code"], error["path"]) == (
        "InputError",
        "INVALID",
        ["input", "expectChecksum"],
    )
    response = await upload(client, editor, FILE, filename="products.txt")
    [error] = response.json()["data"]["productImport"]["errors"]
    assert (error["code"], error["path"]) == ("REQUIRED", ["input", "format"])
    assert await db[COLLECTION].count_documents({}) == 0


async def test_a_file_that_cannot_be_parsed_fails_the_job_naming_line_and_column(
    client: httpx.AsyncClient, db: Db, settings: Settings
) -> None:
    editor = await api_key(db, "editor", settings)
    job = started(await upload(client, editor, jsonl([product("P-1")]) + b'{"sku": \n'))
    done = await finished(client, editor, job["id"])
    assert done["status"] == "FAILED"
    assert done["failure"].startswith("line 2, column ")
    assert done["counts"] is None


async def test_a_storefront_key_is_forbidden_and_nothing_is_stored(
    client: httpx.AsyncClient, db: Db, settings: Settings
) -> None:
    storefront = await api_key(db, "storefront", settings)
    response = await upload(client, storefront, FILE)
    body = response.json()
    assert body["data"] == {"productImport": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await db[COLLECTION].count_documents({}) == 0
    assert await counts(Catalog(db)) == (0, 0)


async def test_a_job_whose_process_stopped_reads_as_failed_interrupted(
    client: httpx.AsyncClient, db: Db, settings: Settings
) -> None:
    editor = await api_key(db, "editor", settings)
    job = started(await upload(client, editor, FILE))
    await finished(client, editor, job["id"])
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    # As a process that died mid-job leaves it: RUNNING, its heartbeat long stopped.
    await db[COLLECTION].update_one(
        {}, {"$set": {"status": "RUNNING", "updatedAt": long_ago, "finishedAt": None}}
    )
    stale = await read_job(client, editor, job["id"])
    assert (stale["status"], stale["failure"]) == ("FAILED", INTERRUPTED)
    viewer = await api_key(db, "viewer", settings)
    response = await client.post(
        "/graphql",
        json={"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": job["id"]}},
        headers=viewer,
    )
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["FORBIDDEN"]


async def test_a_replay_with_the_same_idempotency_key_answers_the_first_job_and_runs_none(
    client: httpx.AsyncClient, db: Db, settings: Settings
) -> None:
    editor = await api_key(db, "editor", settings)
    keyed = {**editor, "Idempotency-Key": "import-1"}
    clean = jsonl([product("P-1"), product("P-2")])
    first = started(await upload(client, keyed, clean, dryRun=False))
    done = await finished(client, editor, first["id"])
    assert (done["status"], done["counts"]["written"]) == ("SUCCEEDED", 2)

    again = started(await upload(client, keyed, clean, dryRun=False))
    # The same job, as it is now; no second job, no second write.
    assert (again["id"], again["status"]) == (first["id"], "SUCCEEDED")
    assert await db[COLLECTION].count_documents({}) == 1
    assert await counts(Catalog(db)) == (2, 2)

    for body, dry_run in ((FILE, False), (clean, True)):
        response = await upload(client, keyed, body, dryRun=dry_run)
        payload = response.json()["data"]["productImport"]
        assert payload["job"] is None
        assert [(e["__typename"], e["code"], e["path"]) for e in payload["errors"]] == [
            ("InputError", "IDEMPOTENCY_KEY_REUSED", None)
        ]
    assert await db[COLLECTION].count_documents({}) == 1
    # Without the key the same file is a new job.
    other = started(await upload(client, editor, clean))
    assert other["id"] != first["id"]
