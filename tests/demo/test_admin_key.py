"""The demo's admin key: made once, at the first start, saved for its owner only."""

from __future__ import annotations

import logging
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from demo.admin_key import KEY_FILE, ensure_demo_admin_key
from gateway.auth import Authenticator
from gateway.settings import Settings
from resolvers.access import Scope, load_roles
from resolvers.access.api_keys import ApiKeys, KeySpec

ROLES = load_roles(Settings().roles_path)


@pytest.fixture
def keys(db: AsyncDatabase[dict[str, Any]]) -> ApiKeys:
    return ApiKeys(db["api_keys"], pepper=b"demo pepper", roles=ROLES, env="live", channels=())


async def test_the_first_start_makes_an_expiring_admin_key_shown_once(
    keys: ApiKeys, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    secret = await ensure_demo_admin_key(keys, tmp_path / "data")
    assert secret is not None
    saved = tmp_path / "data" / KEY_FILE
    assert saved.read_text() == secret + "\n"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    shown = [r.getMessage() for r in caplog.records if secret in r.getMessage()]
    assert len(shown) == 1
    assert shown[0].startswith(f"demo admin key (shown once, also saved to {saved}")
    principal = await Authenticator(keys, ROLES, anonymous_role=None).authenticate(
        f"Bearer {secret}", "127.0.0.1"
    )
    assert principal.role.name == "admin"
    assert principal.has(Scope.KEYS_MANAGE)
    # An admin key can write: it expires, in 30 days.
    assert principal.expires_at is not None
    left = principal.expires_at - datetime.now(UTC)
    assert timedelta(days=29) < left <= timedelta(days=30)
    # Later starts make no other key and show nothing.
    caplog.clear()
    assert await ensure_demo_admin_key(keys, tmp_path / "data") is None
    assert len(await keys.list()) == 1
    assert not [r for r in caplog.records if "demo admin key" in r.getMessage()]


async def test_no_demo_key_when_the_catalog_has_keys_already(keys: ApiKeys, tmp_path: Path) -> None:
    await keys.create(KeySpec("someone's", "viewer"))
    assert await ensure_demo_admin_key(keys, tmp_path) is None
    assert not (tmp_path / KEY_FILE).exists()
