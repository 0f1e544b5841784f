"""The console's pages through the gateway's own app, as a browser without JavaScript uses
them: sign-in, readiness, a product, the review queue, imports and the audit."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from gateway.app import create_app
from gateway.settings import Settings
from resolvers.services import Services
from tests.http_helpers import api_key, serve

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    form = await client.get("/console/sign-in")
    return await client.post(
        "/console/sign-in",
        data={"key": key, "csrf": csrf_of(form), "next": "/console/readiness"},
    )


async def key_of(db: AsyncDatabase[dict[str, Any]], role: str) -> str:
    return (await api_key(db, role))["Authorization"].removeprefix("Bearer ")


async def test_sign_in_readiness_and_sign_out(
    settings: Settings, fresh_demo: Services, db: AsyncDatabase[dict[str, Any]]
) -> None:
    viewer = await key_of(db, "viewer")
    async with serve(create_app(settings)) as client:
        assert (await client.get("/console/readiness")).headers["location"].startswith(
            "/console/sign-in?next="
        )
        refused = await sign_in(client, "cgw_test_nonsense")
        assert refused.status_code == 401
        assert "not accepted" in refused.text

        signed = await sign_in(client, viewer)
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
        assert viewer not in cookie

        page = await client.get("/console/readiness", params={"ready": "no", "sort": "score"})
        assert page.status_code == 200, page.text
        assert "Score bands" in page.text and "Most-failing checks" in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        scores = [int(s) for s in re.findall(r'<td class="num score">(\d+)</td>', page.text)]
        assert scores and scores == sorted(scores)
        assert "ready</span>" not in page.text.replace("not ready</span>", "")
        # A viewer may read, not write or publish: no Imports or Review in the menu.
        assert "/console/imports" not in page.text and "/console/review" not in page.text

        out = await client.post("/console/sign-out", data={"csrf": csrf_of(page)})
        assert out.status_code == 303
        assert (await client.get("/console/readiness")).status_code == 303
