"""Outbound events from the running app: its lifespan starts the delivery worker when a
subscription is enabled, and a bad subscriptions file stops start-up with file and line."""

from __future__ import annotations

import asyncio
import base64
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from gateway.app import create_app
from gateway.events import event_subscriptions, start_event_worker
from gateway.services import load_profiles
from gateway.settings import Settings
from resolvers.outbox import SubscriptionConfigError
from resolvers.outbox.signing import verify
from tests.http_helpers import api_key, serve
from tests.resolvers.outbox.receiver import receiver

SECRET = "whsec_" + "c2VjcmV0" * 4
CREATE = """mutation($input: ProductCreateInput!) {
  productCreate(input: $input) { product { sku } errors { code message } }
}"""
SHOE = {
    "sku": "EV-1",
    "brand": "Acme",
    "name": [{"locale": "en-US", "value": "Trail Shoe"}],
    "description": [{"locale": "en-US", "value": "A light trail shoe for long runs."}],
}


def subscriptions_file(tmp_path: Path, url: str, **extra: str) -> Path:
    path = tmp_path / "subscriptions.toml"
    lines = [
        "[subscriptions.shop]",
        f'url = "{url}"',
        'events = ["product.*"]',
        'secrets = ["TEST_SHOP_SECRET"]',
        *(f"{key} = {value}" for key, value in extra.items()),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


async def test_the_app_delivers_a_write_to_an_enabled_subscription(
    settings: Settings,
    db: AsyncDatabase[dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_SHOP_SECRET", SECRET)
    async with receiver() as hook:
        configured = settings.model_copy(
            update={
                "event_subscriptions": subscriptions_file(tmp_path, hook.url),
                "events_poll_s": 0.05,
            }
        )
        editor = await api_key(db, "editor", configured)
        async with serve(create_app(configured)) as client:
            answer = await client.post(
                "/graphql",
                json={
                    "query": CREATE,
                    "variables": {"input": SHOE},
                },
                headers=editor,
            )
            assert answer.json()["data"]["productCreate"]["errors"] == []
            await asyncio.wait_for(hook.wait_for(1), timeout=30)
    [request] = hook.received
    assert verify(base64.b64decode(SECRET.removeprefix("whsec_")), request.headers, request.body)
    assert (request.json["type"], request.json["data"]["sku"]) == ("product.create", "EV-1")
    assert request.json["data"]["actor"]["name"] == "test editor"


async def test_no_worker_without_subscriptions_or_when_switched_off(
    settings: Settings, db: AsyncDatabase[dict[str, Any]], tmp_path: Path
) -> None:
    profiles = load_profiles(settings)
    shipped = event_subscriptions(settings, profiles, environ={})
    assert shipped == ()
    async with AsyncExitStack() as stack:
        assert await start_event_worker(stack, settings, shipped, db) is None
        enabled = event_subscriptions(
            settings.model_copy(
                update={"event_subscriptions": subscriptions_file(tmp_path, "http://127.0.0.1:9/")}
            ),
            profiles,
            environ={"TEST_SHOP_SECRET": SECRET},
        )
        off = settings.model_copy(update={"events_worker": False})
        assert await start_event_worker(stack, off, enabled, db) is None


def test_a_bad_subscriptions_file_stops_start_up_with_file_and_line(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_SHOP_SECRET", raising=False)
    path = subscriptions_file(tmp_path, "https://shop.example.com/hook", source='"crm"')
    with pytest.raises(SubscriptionConfigError) as raised:
        create_app(settings.model_copy(update={"event_subscriptions": path}))
    assert str(raised.value) == (
        f"{path}:5: subscriptions.shop.source: unknown source system 'crm' (roles.toml sources)"
    )
    path = subscriptions_file(tmp_path, "https://shop.example.com/hook")
    with pytest.raises(SubscriptionConfigError, match=r":4: subscriptions.shop.secrets: the "):
        create_app(settings.model_copy(update={"event_subscriptions": path}))
