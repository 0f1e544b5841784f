"""X-Channel and X-Preview-Token over HTTP: which channel's publications a request reads, and
a preview token that lets a storefront read the working copy until it expires."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from gateway.app import create_app
from gateway.settings import Settings
from resolvers.access import load_roles
from resolvers.access.api_keys import ApiKeys, KeySpec
from resolvers.db import Catalog
from resolvers.workflow.preview import issue
from tests.conftest import TEST_KEY_PEPPER
from tests.fixtures.small_catalog import load_small_catalog
from tests.http_helpers import api_key, serve

pytestmark = pytest.mark.indexed

SECRET = "s" * 40
DRAFT = "AC-RUN-003"  # a draft of the small catalog
QUERY = f'{{ draft: product(sku: "{DRAFT}") {{ sku }} live: product(sku: "NW-RUN-001") {{ sku }} }}'


@pytest.fixture
async def client(
    db: AsyncDatabase[dict[str, Any]], settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    catalog = Catalog(db)
    await load_small_catalog(catalog)
    # NW-RUN-001 is taken off the mobile channel.
    await catalog.publications("mobile").delete_one({"sku": "NW-RUN-001"})
    configured = settings.model_copy(update={"preview_secret": SecretStr(SECRET)})
    async with serve(create_app(configured)) as client:
        yield client


async def ask(client: httpx.AsyncClient, **headers: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": QUERY}, headers=headers)


async def test_a_storefront_reads_the_channel_it_names(client: httpx.AsyncClient) -> None:
    web = await ask(client)  # anonymous: the default channel, web
    assert web.json()["data"] == {"draft": None, "live": {"sku": "NW-RUN-001"}}
    mobile = await ask(client, **{"X-Channel": "Mobile"})
    assert mobile.json()["data"] == {"draft": None, "live": None}
    unknown = await ask(client, **{"X-Channel": "moon"})
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["message"].startswith("X-Channel: unknown channel 'moon'")


async def test_a_key_bound_to_channels_may_not_name_another(
    client: httpx.AsyncClient, db: AsyncDatabase[dict[str, Any]], settings: Settings
) -> None:
    viewer = await api_key(db, "viewer", settings)
    # An editor or viewer sees the working copy, or exactly a channel's publications.
    assert (await ask(client, **viewer)).json()["data"]["draft"] == {"sku": DRAFT}
    named = await ask(client, **viewer, **{"X-Channel": "mobile"})
    assert named.json()["data"] == {"draft": None, "live": None}


async def test_a_preview_token_shows_the_working_copy_until_it_expires(
    client: httpx.AsyncClient,
) -> None:
    now = datetime.now(UTC)
    token = issue(SECRET.encode(), "ed-key", now, timedelta(minutes=5))
    previewed = await ask(client, **{"X-Preview-Token": token})
    assert previewed.json()["data"]["draft"] == {"sku": DRAFT}
    expired = issue(SECRET.encode(), "ed-key", now - timedelta(hours=2), timedelta(hours=1))
    for bad, reason in (
        (expired, "expired"),
        (token[:-2] + "xx", "invalid"),
        ("v1.x", "malformed"),
    ):
        refused = await ask(client, **{"X-Preview-Token": bad})
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["message"] == f"X-Preview-Token: {reason} preview token"


async def test_preview_tokens_come_from_a_mutation_for_readers_of_drafts(
    client: httpx.AsyncClient, db: AsyncDatabase[dict[str, Any]], settings: Settings
) -> None:
    mutation = {"query": "mutation { previewToken(ttlSeconds: 60) { token expiresAt header } }"}
    refused = await client.post("/graphql", json=mutation)
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    viewer = await api_key(db, "viewer", settings)
    made = (await client.post("/graphql", json=mutation, headers=viewer)).json()["data"]
    assert made["previewToken"]["header"] == "X-Preview-Token"
    shown = await ask(client, **{"X-Preview-Token": made["previewToken"]["token"]})
    assert shown.json()["data"]["draft"] == {"sku": DRAFT}


async def test_a_key_bound_only_to_channels_no_longer_configured_is_refused(
    client: httpx.AsyncClient, db: AsyncDatabase[dict[str, Any]], settings: Settings
) -> None:
    keys = ApiKeys(
        db["api_keys"],
        pepper=TEST_KEY_PEPPER.encode(),
        roles=load_roles(settings.roles_path),
        env=settings.key_env,
        channels=("kiosk",),  # a channel the gateway's channels.toml has since dropped
    )
    issued = await keys.create(KeySpec("old shop", "storefront", channels=("kiosk",)))
    refused = await ask(client, Authorization=f"Bearer {issued.secret}")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["message"] == (
        "this key may read none of the configured channels"
    )
