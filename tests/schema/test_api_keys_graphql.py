"""``viewer``, ``apiKeys`` and the key mutations, run in-process as a given principal."""

from __future__ import annotations

import json
import logging
import re
import shlex
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from strawberry.types import ExecutionResult

from gateway.settings import Settings
from resolvers.access import Principal, Roles, load_roles
from resolvers.access.api_keys import DEFAULT_OVERLAP, ApiKeys, KeySpec, parse_duration, parse_key
from resolvers.db import Catalog
from resolvers.services import Services
from schema.context import Context
from schema.mutations.api_keys import DEFAULT_OVERLAP as DEFAULT_OVERLAP_ARGUMENT
from tests.command_counter import CommandCounter
from tests.conftest import TEST_KEY_PEPPER
from tests.graphql_helpers import services_for, shared_schema

Db = AsyncDatabase[dict[str, Any]]

CREATE = """mutation($input: ApiKeyCreateInput!) {
  apiKeyCreate(input: $input) {
    apiKey { id name role scopes channels source expiresAt state createdBy }
    secret
    errors { path code message }
  }
}"""
ROTATE = """mutation($id: ID!, $overlap: String! = "24h") {
  apiKeyRotate(id: $id, overlap: $overlap) {
    apiKey { id rotatedAt state }
    secret
    errors { path code message }
  }
}"""
REVOKE = """mutation($id: ID!) {
  apiKeyRevoke(id: $id) { apiKey { id revokedAt state } errors { path code message } }
}"""
LIST = """{ apiKeys {
  id name role scopes channels source createdAt expiresAt lastUsedAt revokedAt rotatedAt
  state createdBy
} }"""
VIEWER = "{ viewer { kind name role scopes channels source keyId expiresAt } }"

# A key a job could use: read-only roles need no expiry, write roles must have one.
EDITOR = {
    "name": "nightly PIM sync",
    "role": "editor",
    "scopes": ["catalog:read", "catalog:write"],
    "channels": ["web"],
    "source": "pim",
    "expiresIn": "90d",
}


@pytest.fixture
def roles() -> Roles:
    return load_roles(Settings().roles_path)


@pytest.fixture
def keys(db: Db, roles: Roles) -> ApiKeys:
    return ApiKeys(
        Catalog(db).api_keys,
        pepper=TEST_KEY_PEPPER.encode(),
        roles=roles,
        env="test",
        channels=["web", "mobile", "email", "marketplace"],
    )


@pytest.fixture
def services(db: Db, keys: ApiKeys) -> Services:
    return services_for(Catalog(db), api_keys=keys)


async def principal_of(keys: ApiKeys, secret: str) -> Principal | None:
    """What the edge would make of ``Authorization: Bearer <secret>``."""
    parsed = parse_key(secret)
    assert parsed is not None
    return keys.verify(await keys.record(parsed.key_id), parsed)


async def key_principal(keys: ApiKeys, spec: KeySpec) -> Principal:
    issued = await keys.create(spec, created_by="cli")
    principal = await principal_of(keys, issued.secret)
    assert principal is not None
    return principal


@pytest.fixture
async def admin(keys: ApiKeys) -> Principal:
    return await key_principal(keys, KeySpec("ops", "admin", expires_in=timedelta(days=30)))


async def run(
    services: Services, principal: Principal, query: str, variables: dict[str, Any] | None = None
) -> ExecutionResult:
    context = Context.for_request(services, "test", principal)
    return await shared_schema().execute(query, variable_values=variables, context_value=context)


async def data_as(
    services: Services, principal: Principal, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    result = await run(services, principal, query, variables)
    assert result.errors is None, [e.formatted for e in result.errors]
    assert result.data is not None
    return result.data


async def test_an_admin_creates_lists_rotates_and_revokes_keys(
    services: Services, keys: ApiKeys, admin: Principal, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.audit")
    created = (await data_as(services, admin, CREATE, {"input": EDITOR}))["apiKeyCreate"]
    assert created["errors"] == []
    key = created["apiKey"]
    assert {k: v for k, v in key.items() if k not in ("id", "expiresAt")} == {
        "name": "nightly PIM sync",
        "role": "editor",
        "scopes": ["catalog:read", "catalog:write"],
        "channels": ["web"],
        "source": "pim",
        "state": "ACTIVE",
        "createdBy": admin.key_id,
    }
    secret = created["secret"]
    assert secret.startswith(f"cgw_test_{key['id']}_")
    job = await principal_of(keys, secret)
    assert job is not None
    assert (job.role.name, job.key_id, job.channels) == ("editor", key["id"], frozenset({"web"}))

    listed = (await data_as(services, admin, LIST))["apiKeys"]
    assert [k["name"] for k in listed] == ["ops", "nightly PIM sync"]
    assert listed[1]["createdBy"] == admin.key_id
    assert listed[1]["lastUsedAt"] is None
    assert listed[1]["revokedAt"] is None
    assert parse_key(secret).secret not in json.dumps(listed)  # type: ignore[union-attr]

    rotated = await data_as(services, admin, ROTATE, {"id": key["id"], "overlap": "1h"})
    rotation = rotated["apiKeyRotate"]
    assert rotation["errors"] == []
    assert rotation["apiKey"]["rotatedAt"] is not None
    assert rotation["secret"] != secret
    # Both work during the overlap: the job switches without downtime.
    assert await principal_of(keys, rotation["secret"]) is not None
    assert await principal_of(keys, secret) is not None

    revoked = (await data_as(services, admin, REVOKE, {"id": key["id"]}))["apiKeyRevoke"]
    assert revoked["errors"] == []
    assert revoked["apiKey"]["state"] == "REVOKED"
    assert revoked["apiKey"]["revokedAt"]
    assert await principal_of(keys, rotation["secret"]) is None
    assert await principal_of(keys, secret) is None

    audit = [r for r in caplog.records if r.name == "gateway.audit"]
    assert [r.levelno for r in audit] == [logging.INFO] * 3
    for record, verb in zip(audit, ("created", "rotated", "revoked"), strict=True):
        message = record.getMessage()
        assert f"api key {key['id']} {verb} by {admin.key_id}" in message
    logged = caplog.text
    for presented in (secret, rotation["secret"]):
        assert parse_key(presented).secret not in logged  # type: ignore[union-attr]


async def test_the_viewer_of_a_key_sees_its_own_expiry_and_never_a_secret(
    services: Services, keys: ApiKeys, roles: Roles
) -> None:
    spec = KeySpec("shop", "storefront", channels=["web"], expires_in=timedelta(days=7))
    issued = await keys.create(spec)
    principal = await principal_of(keys, issued.secret)
    assert principal is not None
    viewer = (await data_as(services, principal, VIEWER))["viewer"]
    stored = await keys.get(issued.key.key_id)
    assert viewer == {
        "kind": "KEY",
        "name": "shop",
        "role": "storefront",
        "scopes": ["catalog:read"],
        "channels": ["web"],
        "source": None,
        "keyId": issued.key.key_id,
        # As stored: MongoDB keeps milliseconds.
        "expiresAt": stored.expires_at.isoformat(),  # type: ignore[union-attr]
    }
    storefront = roles.get("storefront")
    assert storefront is not None
    anonymous = (await data_as(services, Principal.anonymous(storefront), VIEWER))["viewer"]
    assert anonymous == {
        "kind": "ANONYMOUS",
        "name": "anonymous",
        "role": "storefront",
        "scopes": ["catalog:read"],
        "channels": None,
        "source": None,
        "keyId": None,
        "expiresAt": None,
    }


OPERATIONS = [
    ("apiKeys", LIST, None),
    ("apiKeyCreate", CREATE, {"input": EDITOR}),
    ("apiKeyRotate", ROTATE, {"id": "aaaaaaaaaaaa"}),
    ("apiKeyRevoke", REVOKE, {"id": "aaaaaaaaaaaa"}),
]


@pytest.mark.parametrize("role", ["storefront", "viewer", "anonymous"])
@pytest.mark.parametrize(("field", "operation", "variables"), OPERATIONS)
async def test_without_keys_manage_every_key_field_is_forbidden_before_mongodb(
    services: Services,
    keys: ApiKeys,
    roles: Roles,
    db: Db,
    command_counter: CommandCounter,
    role: str,
    field: str,
    operation: str,
    variables: dict[str, Any] | None,
) -> None:
    if role == "anonymous":
        storefront = roles.get("storefront")
        assert storefront is not None
        principal = Principal.anonymous(storefront)
    else:
        principal = await key_principal(keys, KeySpec(role, role))
    with command_counter.record(db.name) as recorded:
        result = await run(services, principal, operation, variables)
    assert len(recorded) == 0, recorded.commands
    assert result.data == {field: None}
    assert result.errors is not None
    assert [(e.path, e.extensions) for e in result.errors] == [
        ([field], {"code": "FORBIDDEN", "scope": "keys:manage"})
    ]
    assert "keys:manage" in result.errors[0].message


BAD_INPUTS = [
    ({"role": "owner"}, ["input", "role"], "INVALID", "unknown role 'owner'"),
    ({"scopes": ["catalog:read", "keys:nope"]}, ["input", "scopes", "1"], "INVALID", "keys:nope"),
    (
        {"role": "viewer", "scopes": ["catalog:write"], "expiresIn": None},
        ["input", "scopes", "0"],
        "INVALID",
        "never widens",
    ),
    ({"channels": ["web", "mars"]}, ["input", "channels", "1"], "INVALID", "unknown channel"),
    ({"channels": []}, ["input", "channels"], "INVALID", "at least one channel"),
    ({"source": "crm"}, ["input", "source"], "INVALID", "unknown source system 'crm'"),
    ({"expiresIn": None}, ["input", "expiresIn"], "REQUIRED", "must expire"),
    ({"expiresIn": "3 weeks"}, ["input", "expiresIn"], "INVALID", "not a duration"),
    ({"name": "  "}, ["input", "name"], "INVALID", "1 to 100 characters"),
]


@pytest.mark.parametrize(("change", "path", "code", "message"), BAD_INPUTS)
async def test_bad_input_is_a_user_error_at_its_path_and_writes_nothing(
    services: Services,
    admin: Principal,
    db: Db,
    command_counter: CommandCounter,
    change: dict[str, Any],
    path: list[str],
    code: str,
    message: str,
) -> None:
    with command_counter.record(db.name) as recorded:
        data = await data_as(services, admin, CREATE, {"input": {**EDITOR, **change}})
    assert recorded.names() == {}
    payload = data["apiKeyCreate"]
    assert (payload["apiKey"], payload["secret"]) == (None, None)
    [error] = payload["errors"]
    assert (error["path"], error["code"]) == (path, code)
    assert message in error["message"]


async def test_rotating_or_revoking_an_unknown_key_or_with_a_bad_overlap(
    services: Services, keys: ApiKeys, admin: Principal
) -> None:
    assert admin.key_id is not None
    unknown = {"id": "zzzzzzzzzzzz"}
    rotate = (await data_as(services, admin, ROTATE, unknown))["apiKeyRotate"]
    revoke = (await data_as(services, admin, REVOKE, unknown))["apiKeyRevoke"]
    for payload in (rotate, revoke):
        assert payload["apiKey"] is None
        assert [(e["path"], e["code"]) for e in payload["errors"]] == [(["id"], "NOT_FOUND")]
    bad = {"id": admin.key_id, "overlap": "a while"}
    rotate = (await data_as(services, admin, ROTATE, bad))["apiKeyRotate"]
    assert (rotate["apiKey"], rotate["secret"]) == (None, None)
    assert [(e["path"], e["code"]) for e in rotate["errors"]] == [(["overlap"], "INVALID")]
    assert (await keys.get(admin.key_id)).rotated_at is None


def test_the_default_overlap_argument_is_the_stores_default() -> None:
    assert parse_duration(DEFAULT_OVERLAP_ARGUMENT) == DEFAULT_OVERLAP


async def test_a_process_without_a_key_store_says_so(db: Db) -> None:
    result = await run(services_for(Catalog(db)), Principal.system(), LIST)
    assert result.errors is not None
    assert [(e.message, e.extensions) for e in result.errors] == [
        ("this process does not manage API keys (it has no key store)", {"code": "BAD_REQUEST"})
    ]


API_DOCS = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")


async def test_the_create_example_of_the_api_docs_works(
    services: Services, admin: Principal
) -> None:
    [command] = [c for c in re.findall(r"```sh\n(.*?)```", API_DOCS, re.S) if "apiKeyCreate" in c]
    words = shlex.split(command.replace("\\\n", " "))
    body = json.loads(words[words.index("-d") + 1])
    data = await data_as(services, admin, body["query"], body["variables"])
    assert data["apiKeyCreate"]["errors"] == []
    assert data["apiKeyCreate"]["secret"].startswith("cgw_test_")
