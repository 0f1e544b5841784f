"""Serve an app's lifespan and requests on the test's event loop, as an ASGI server would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from gateway.settings import Settings
from resolvers.access import load_roles
from resolvers.access.api_keys import ApiKeys, KeySpec
from tests.conftest import TEST_KEY_PEPPER


@asynccontextmanager
async def serve_with_state(
    app: Starlette,
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    """A client for ``app`` with its lifespan running, and the lifespan's state (its
    ``services``); the state reaches requests as in uvicorn."""
    async with app.router.lifespan_context(app) as state:
        lifespan_state: dict[str, Any] = dict(state or {})

        async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
            scope["state"] = dict(lifespan_state)
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client, lifespan_state


@asynccontextmanager
async def serve(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client for ``app`` with its lifespan running."""
    async with serve_with_state(app) as (client, _):
        yield client


def key_store(
    db: AsyncDatabase[dict[str, Any]],
    settings: Settings | None = None,
    channels: Sequence[str] = (),
) -> ApiKeys:
    """The key store of a gateway over ``db`` whose settings are ``settings`` (default: the
    ``settings`` fixture's pepper, key environment and roles); keys may be limited to
    ``channels``."""
    settings = settings or Settings(key_pepper=TEST_KEY_PEPPER)
    assert settings.key_pepper is not None
    return ApiKeys(
        db["api_keys"],
        pepper=settings.key_pepper.get_secret_value().encode(),
        roles=load_roles(settings.roles_path),
        env=settings.key_env,
        channels=channels,
    )


async def api_key(
    db: AsyncDatabase[dict[str, Any]], role: str = "viewer", settings: Settings | None = None
) -> dict[str, str]:
    """The ``Authorization`` header of a new key of ``role``, valid for a gateway over ``db``
    whose settings are the ``settings`` fixture's (its pepper, key environment and roles)."""
    keys = key_store(db, settings)
    # Every role's keys may expire; those that can write must.
    issued = await keys.create(KeySpec(f"test {role}", role, expires_in=timedelta(days=1)))
    return {"Authorization": f"Bearer {issued.secret}"}


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Waits (up to 30 s) for ``check`` to hold: for work another process or task does on
    its own schedule (a replica's change stream, a follower), which no event of ours tells."""
    async with asyncio.timeout(30):
        while True:
            if await check():
                return
            await asyncio.sleep(0.05)
