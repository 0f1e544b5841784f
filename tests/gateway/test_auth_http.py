"""Authentication and request budgets at /graphql: 401, 429, who a request runs as, what is
logged, and what authenticating costs MongoDB."""

from __future__ import annotations

import logging
import re
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from starlette.applications import Starlette
from starlette.routing import Route

from gateway.app import create_app
from gateway.auth.authenticator import FAILURE_BURST
from gateway.auth.setup import authenticator
from gateway.embedded_mongo import free_port
from gateway.graphql_http import GraphQLHTTPHandler
from gateway.logs import logging_config
from gateway.settings import Settings
from resolvers.access import Principal, load_roles
from resolvers.access.api_keys import ApiKeys, IssuedKey, KeySpec, hash_secret, parse_key
from resolvers.db import Catalog
from schema import build_schema
from schema.context import Context
from tests.command_counter import CommandCounter
from tests.conftest import TEST_KEY_PEPPER
from tests.fixtures.small_catalog import load_small_catalog
from tests.graphql_helpers import services_for
from tests.http_helpers import serve

pytestmark = pytest.mark.indexed

GQL = "application/graphql-response+json"
JSON = "application/json"
QUERY = '{ product(sku: "NW-RUN-001") { sku } }'
BAD_GUESS = "Bearer cgw_live_000000000000_" + "A" * 43
Db = AsyncDatabase[dict[str, Any]]


def keys_of(settings: Settings, db: Db, clock: datetime | None = None) -> ApiKeys:
    """The key store of a gateway with ``settings`` (same pepper, environment and roles)."""
    assert settings.key_pepper is not None
    keys = ApiKeys(
        db["api_keys"],
        pepper=settings.key_pepper.get_secret_value().encode(),
        roles=load_roles(settings.roles_path),
        env=settings.key_env,
        channels=(),
    )
    if clock is not None:
        keys.clock = lambda: clock
    return keys


def secret_of(issued: IssuedKey) -> str:
    """The secret part of a key (what is hashed and stored)."""
    parsed = parse_key(issued.secret)
    assert parsed is not None
    return parsed.secret


def bearer(issued: IssuedKey) -> dict[str, str]:
    return {"Authorization": f"Bearer {issued.secret}"}


def tiny_storefront_budget(tmp_path: Path, settings: Settings) -> Path:
    """The shipped roles with a storefront budget of 2 requests, refilled once a minute."""
    text = settings.roles_path.read_text(encoding="utf-8")
    head, section, rest = text.partition("[roles.storefront]")
    rest, replaced = re.subn(
        r"rate = \{[^}]*\}", "rate = { burst = 2, per_minute = 1 }", rest, count=1
    )
    assert section
    assert replaced == 1
    text = head + section + rest
    path = tmp_path / "roles.toml"
    path.write_text(text, encoding="utf-8")
    return path


@asynccontextmanager
async def gateway(settings: Settings, db: Db) -> AsyncIterator[httpx.AsyncClient]:
    await load_small_catalog(Catalog(db))
    async with serve(create_app(settings)) as client:
        yield client


async def post(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, accept: str = GQL
) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": QUERY}, headers={"accept": accept, **(headers or {})}
    )


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]


@pytest.mark.parametrize("accept", [GQL, JSON])
async def test_without_an_anonymous_role_a_request_without_a_key_is_401(
    settings: Settings, db: Db, accept: str
) -> None:
    async with gateway(settings.model_copy(update={"anonymous_role": "none"}), db) as client:
        response = await post(client, accept=accept)
        assert_refused(response, 401, "UNAUTHENTICATED")
        # No error="invalid_token": nothing was presented (RFC 6750, section 3.1).
        assert response.headers["www-authenticate"] == 'Bearer realm="catalog-gateway"'
        got = await client.get("/graphql", params={"query": QUERY}, headers={"accept": accept})
        assert_refused(got, 401, "UNAUTHENTICATED")
        # GraphiQL's page stays open: it is how a user gets to send a key at all.
        page = await client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        issued = await keys_of(settings, db).create(KeySpec("shop", "storefront"))
        allowed = await post(client, bearer(issued), accept=accept)
        assert allowed.status_code == 200
        assert allowed.json()["data"] == {"product": {"sku": "NW-RUN-001"}}


async def test_anonymous_requests_run_as_the_storefront_role_by_default(
    settings: Settings, db: Db
) -> None:
    async with gateway(settings, db) as client:
        response = await post(client)
    assert response.status_code == 200
    assert response.json()["data"] == {"product": {"sku": "NW-RUN-001"}}


@pytest.mark.parametrize(
    "key",
    ["malformed", "unknown", "wrong secret", "other environment", "expired", "revoked", "basic"],
)
@pytest.mark.parametrize("accept", [GQL, JSON])
async def test_a_bad_key_is_401_even_when_anonymous_reads_are_allowed(
    settings: Settings, db: Db, key: str, accept: str
) -> None:
    keys = keys_of(settings, db)
    issued = await keys.create(KeySpec("shop", "storefront"))
    key_id = issued.key.key_id
    secret = secret_of(issued)
    if key == "expired":
        made_long_ago = keys_of(settings, db, datetime.now(UTC) - timedelta(days=2))
        issued = await made_long_ago.create(KeySpec("old", "storefront", expires_in=timedelta(1)))
    elif key == "revoked":
        await keys.revoke(key_id)
    header = {
        "malformed": "Bearer cgw_live_short",
        "unknown": BAD_GUESS,
        "wrong secret": f"Bearer cgw_live_{key_id}_{'B' * 43}",
        "other environment": f"Bearer cgw_test_{key_id}_{secret}",
        "expired": f"Bearer {issued.secret}",
        "revoked": f"Bearer {issued.secret}",
        "basic": "Basic dXNlcjpwYXNz",
    }[key]
    async with gateway(settings, db) as client:
        response = await post(client, {"Authorization": header}, accept=accept)
    assert_refused(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == (
        'Bearer realm="catalog-gateway", error="invalid_token"'
    )
    # The answer never says which part was wrong, nor repeats what was sent.
    assert key_id not in response.text
    assert secret not in response.text


async def test_failed_guesses_from_one_address_are_throttled(settings: Settings, db: Db) -> None:
    async with gateway(settings, db) as client:
        for _ in range(FAILURE_BURST):
            assert_refused(await post(client, {"Authorization": BAD_GUESS}), 401, "UNAUTHENTICATED")
        throttled = await post(client, {"Authorization": BAD_GUESS}, accept=JSON)
        assert_refused(throttled, 429, "THROTTLED")
        assert int(throttled.headers["retry-after"]) >= 1
        # The address's anonymous reads go on.
        assert (await post(client)).status_code == 200


async def test_over_its_roles_budget_a_client_gets_429_with_retry_after(
    settings: Settings, db: Db, tmp_path: Path
) -> None:
    tiny = settings.model_copy(update={"roles": tiny_storefront_budget(tmp_path, settings)})
    keys = keys_of(tiny, db)
    shop, viewer = (
        await keys.create(KeySpec("shop", "storefront")),
        await keys.create(KeySpec("reader", "viewer")),
    )
    async with gateway(tiny, db) as client:
        for accept in (GQL, JSON):  # the burst of 2
            assert (await post(client, bearer(shop), accept=accept)).status_code == 200
        for accept in (GQL, JSON):
            throttled = await post(client, bearer(shop), accept=accept)
            assert_refused(throttled, 429, "THROTTLED")
            # 1 a minute: the next token is a minute away.
            assert 1 <= int(throttled.headers["retry-after"]) <= 60
        # A budget is per key, and anonymous requests have one per address.
        assert (await post(client, bearer(viewer))).status_code == 200
        assert (await post(client)).status_code == 200
        assert (await post(client)).status_code == 200
        assert_refused(await post(client), 429, "THROTTLED")


class PrincipalSpy:
    """Records the principal of every operation the schema executes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.schema = build_schema()
        self.seen: list[Principal] = []
        execute = self.schema.execute

        async def spy(*args: Any, **kwargs: Any) -> Any:
            context: Context = kwargs["context_value"]
            self.seen.append(context.principal)
            return await execute(*args, **kwargs)

        monkeypatch.setattr(self.schema, "execute", spy)


async def test_an_http_request_never_runs_as_the_system_principal(
    settings: Settings, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = PrincipalSpy(monkeypatch)
    issued = await keys_of(settings, db).create(KeySpec("reader", "viewer"))
    await load_small_catalog(Catalog(db))
    async with serve(create_app(settings, spy.schema)) as client:
        assert (await post(client)).status_code == 200
        got = await client.get("/graphql", params={"query": QUERY}, headers=bearer(issued))
        assert got.status_code == 200
    anonymous, keyed = spy.seen
    assert (anonymous.kind, anonymous.role.name) == ("anonymous", "storefront")
    assert (keyed.kind, keyed.role.name, keyed.key_id) == ("key", "viewer", issued.key.key_id)
    assert Principal.system() not in spy.seen


def secrets_in(text: str, forbidden: dict[str, str]) -> list[str]:
    return [name for name, value in forbidden.items() if value in text]


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger at DEBUG (CATALOG_LOG_LEVEL=debug), but for the levels the gateway's
    logging configuration pins (the driver's command lines, which carry key hashes)."""
    caplog.set_level(logging.DEBUG)
    for name, logger in logging_config("debug")["loggers"].items():
        if "level" in logger:
            caplog.set_level(logger["level"], logger=name)
    return caplog


async def test_no_secret_pepper_or_hash_reaches_a_log_or_a_response(
    settings: Settings, db: Db, tmp_path: Path, all_logs: pytest.LogCaptureFixture
) -> None:
    roles = tiny_storefront_budget(tmp_path, settings)
    # No cache: the rotation is seen at once.
    tiny = settings.model_copy(update={"roles": roles, "key_cache_s": 0})
    keys = keys_of(tiny, db)
    issued = await keys.create(KeySpec("shop", "storefront"))
    key_id = issued.key.key_id
    responses: list[httpx.Response] = []
    async with gateway(tiny, db) as client:
        responses.append(await post(client, bearer(issued)))  # succeeds
        wrong = f"Bearer cgw_live_{key_id}_{'B' * 43}"
        responses.append(await post(client, {"Authorization": wrong}))  # 401
        rotated = await keys.rotate(key_id, overlap=timedelta(hours=1))
        responses.append(await post(client, bearer(rotated)))  # the new secret: ok
        responses.append(await post(client, bearer(issued)))  # the old one, over budget
    assert [r.status_code for r in responses] == [200, 401, 200, 429]
    record = await db["api_keys"].find_one({"_id": key_id})
    assert record is not None
    forbidden = {
        "pepper": TEST_KEY_PEPPER,
        **{f"secret {n}": secret_of(k) for n, k in enumerate((issued, rotated))},
        **{f"hash {n}": stored["hash"] for n, stored in enumerate(record["secrets"])},
    }
    assert hash_secret(TEST_KEY_PEPPER.encode(), secret_of(issued)) in (forbidden.values())
    for response in responses:
        assert secrets_in(response.text, forbidden) == []
        assert secrets_in(str(response.headers), forbidden) == []
    for logged in all_logs.records:
        text = f"{logged.getMessage()} {logged.__dict__} {logged.exc_text or ''}"
        assert secrets_in(text, forbidden) == [], logged
    # Every request is logged with the key's id instead.
    access = [r.getMessage() for r in all_logs.records if r.name == "gateway.access"]
    assert len(access) == 4
    assert [line.endswith(f" key={key_id}") for line in access] == [True, False, True, True], access


@asynccontextmanager
async def counted_gateway(
    settings: Settings, db: Db
) -> AsyncIterator[tuple[httpx.AsyncClient, ApiKeys]]:
    """The /graphql handler over the tests' client, whose commands the CommandCounter sees
    (the app's lifespan opens a client of its own)."""
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    keys = keys_of(settings, db)
    services = services_for(catalog, settings, api_keys=keys)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {
            "services": services,
            "authenticator": authenticator(settings, keys, keys.roles),
        }

    handler = GraphQLHTTPHandler(build_schema(), settings.max_body_bytes)
    app = Starlette(
        routes=[Route("/graphql", handler.handle, methods=["GET", "POST"])], lifespan=lifespan
    )
    try:
        async with serve(app) as client:
            yield client, keys
    finally:
        await services.background.aclose()


async def test_at_steady_state_a_key_costs_no_mongodb_command(
    settings: Settings, db: Db, command_counter: CommandCounter
) -> None:
    async with counted_gateway(settings, db) as (client, keys):
        issued = await keys.create(KeySpec("shop", "storefront"))
        with command_counter.record(db.name) as first:
            assert (await post(client, bearer(issued))).status_code == 200
        # The key's record, read once and cached; its last use, written once a minute at most.
        key_commands = [(name, coll) for _, name, coll in first.commands if coll == "api_keys"]
        assert key_commands == [("find", "api_keys"), ("update", "api_keys")]
        with command_counter.record(db.name) as anonymous:
            assert (await post(client)).status_code == 200
        with command_counter.record(db.name) as steady:
            for _ in range(20):
                assert (await post(client, bearer(issued))).status_code == 200
    assert steady.names()["find:api_keys"] == 0
    assert steady.names()["update:api_keys"] == 0
    # A request with a key costs exactly what an anonymous one costs.
    assert len(steady) == 20 * len(anonymous)


async def test_the_demo_starts_with_an_admin_key_shown_once_and_graphiql_open(
    mongodb_uri: str, db: Db, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    demo = Settings(
        mongodb_uri=mongodb_uri,
        db=db.name,
        data_dir=tmp_path,
        demo=True,
        demo_products=50,
        port=free_port(),  # where the emulator's upload notifications go: nowhere
    )
    caplog.set_level(logging.INFO)
    viewer = "{ viewer { kind role expiresAt } products { totalCount } }"
    async with serve(create_app(demo)) as client:
        secret = (tmp_path / "demo-admin-key").read_text().strip()
        assert stat.S_IMODE((tmp_path / "demo-admin-key").stat().st_mode) == 0o600
        shown = [r for r in caplog.records if secret in r.getMessage()]
        assert [r.levelno for r in shown] == [logging.WARNING]
        admin = await client.post(
            "/graphql", json={"query": viewer}, headers={"Authorization": f"Bearer {secret}"}
        )
        anonymous = await client.post("/graphql", json={"query": viewer})
        page = await client.get("/graphql", headers={"accept": "text/html"})
    assert admin.json()["data"]["viewer"]["role"] == "admin"
    assert anonymous.json()["data"]["viewer"] == {
        "kind": "ANONYMOUS",
        "role": "storefront",
        "expiresAt": None,
    }
    # The admin key sees the drafts the storefront does not.
    counts = [r.json()["data"]["products"]["totalCount"] for r in (admin, anonymous)]
    assert counts[0] > counts[1] > 0
    assert page.status_code == 200  # GraphiQL needs no key
