"""``catalog-gateway operations register``: the repository's manifest onto the safelist."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from gateway.cli import main
from gateway.cli.operations import default_manifest
from resolvers.persisted_queries import query_hash

# Each command works on the test's own database.
pytestmark = pytest.mark.usefixtures("cli_env")


def register(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["operations", "register", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_register_the_repository_manifest(
    capsys: pytest.CaptureFixture[str], mongodb_uri: str, db_name: str
) -> None:
    operations = json.loads(default_manifest().read_text())["operations"]
    assert register(capsys) == (
        0,
        f"safelisted {len(operations)} new operations, 0 changed, 0 already registered\n",
        "",
    )
    assert register(capsys)[1] == (
        f"safelisted 0 new operations, 0 changed, {len(operations)} already registered\n"
    )
    with MongoClient[dict[str, Any]](mongodb_uri) as client:
        stored = list(client[db_name]["persisted_queries"].find({"safelisted": True}))
    assert {doc["_id"] for doc in stored} == {op["id"] for op in operations}
    assert all("expiresAt" not in doc for doc in stored)


def manifest(tmp_path: Path, *operations: dict[str, Any]) -> str:
    path = tmp_path / "manifest.json"
    path.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
        )
    )
    return str(path)


def op(body: str, **fields: Any) -> dict[str, Any]:
    return {"id": query_hash(body), "name": "Op", "type": "query", "body": body, **fields}


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (op("{ nope }"), "Cannot query field 'nope' on type 'Query'."),
        (op("query A { __typename"), "Syntax Error"),
        (op("query A { __typename }", id="0" * 64), "is not the SHA-256 of its body"),
        (op("query A { __typename }", type="mutation"), "type 'mutation', but the body is a query"),
        (op("query A { __typename } query B { __typename }"), "exactly one operation"),
    ],
)
def test_a_bad_operation_writes_nothing(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    operation: dict[str, Any],
    message: str,
) -> None:
    good = op("query Good { __typename }")
    status, out, err = register(capsys, manifest(tmp_path, good, operation))
    assert status == 1
    assert out == ""
    assert err.startswith(f"catalog-gateway: error: {tmp_path / 'manifest.json'}: operation 2 (Op)")
    assert message in err
    assert len(err.splitlines()) == 1


def test_not_a_manifest(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"operations": []}')
    status, _, err = register(capsys, str(path))
    assert status == 1
    assert "not an Apollo persisted query manifest" in err
    status, _, err = register(capsys, str(tmp_path / "missing.json"))
    assert (status, err.strip()) == (
        1,
        f"catalog-gateway: error: {tmp_path / 'missing.json'}: No such file or directory",
    )
