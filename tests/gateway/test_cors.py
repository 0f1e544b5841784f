"""CORS: a browser on an allowed origin may call the API; preflights are answered and cached."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.cors import DEMO_ORIGIN_REGEX, cors_policy
from gateway.settings import Settings, SettingsError, load_settings
from tests.http_helpers import serve

pytestmark = pytest.mark.indexed

APP = "http://localhost:3000"
QUERY = {"query": "{ __typename }"}


@asynccontextmanager
async def gateway(settings: Settings, **update: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(settings.model_copy(update=update))) as client:
        yield client


def preflight(origin: str, method: str = "POST", headers: str = "content-type") -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": method,
        "access-control-request-headers": headers,
    }


async def test_no_origin_is_allowed_by_default(settings: Settings) -> None:
    """As the issue found it: without configuration, a preflight is refused (405) and no
    response carries Access-Control-* headers."""
    async with gateway(settings) as client:
        response = await client.options("/graphql", headers=preflight(APP))
        assert response.status_code == 405
        answer = await client.post("/graphql", json=QUERY, headers={"origin": APP})
    assert not [h for h in answer.headers if h.startswith("access-control-")]


async def test_preflight_from_an_allowed_origin(settings: Settings) -> None:
    async with gateway(settings, cors_allow_origins=[APP], cors_max_age_s=900) as client:
        response = await client.options(
            "/graphql", headers=preflight(APP, headers="authorization, content-type, x-channel")
        )
        assert response.status_code == 204
        assert response.content == b""
        assert response.headers["access-control-allow-origin"] == APP
        assert "POST" in response.headers["access-control-allow-methods"]
        assert "X-Channel" in response.headers["access-control-allow-headers"]
        assert response.headers["access-control-max-age"] == "900"
        assert "access-control-allow-credentials" not in response.headers
        assert "Origin" in response.headers["vary"]

        answer = await client.post("/graphql", json=QUERY, headers={"origin": APP})
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == APP
        assert "ETag" in answer.headers["access-control-expose-headers"]
        # Origin once, though both the handler and the CORS middleware vary on it.
        vary = [v.strip().lower() for v in answer.headers["vary"].split(",")]
        assert vary.count("origin") == 1

        # Errors a browser must be able to read carry the headers too.
        unauthorized = await client.post(
            "/graphql", json=QUERY, headers={"origin": APP, "authorization": "Bearer nope"}
        )
        assert unauthorized.status_code == 401
        assert unauthorized.headers["access-control-allow-origin"] == APP


async def test_other_origins_and_headers_are_refused(settings: Settings) -> None:
    async with gateway(settings, cors_allow_origins=[APP]) as client:
        other = await client.options("/graphql", headers=preflight("https://evil.example"))
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers
        header = await client.options("/graphql", headers=preflight(APP, headers="x-secret"))
        assert header.status_code == 400
        answer = await client.post(
            "/graphql", json=QUERY, headers={"origin": "https://evil.example"}
        )
    assert answer.status_code == 200  # the browser, not the server, withholds it from the page
    assert "access-control-allow-origin" not in answer.headers


async def test_credentials_echo_the_origin(settings: Settings) -> None:
    async with gateway(settings, cors_allow_origins=[APP], cors_allow_credentials=True) as client:
        response = await client.options("/graphql", headers=preflight(APP))
        answer = await client.get(
            "/graphql", params=QUERY, headers={"origin": APP, "accept": "application/json"}
        )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == APP
    assert response.headers["access-control-allow-credentials"] == "true"
    assert answer.headers["access-control-allow-origin"] == APP
    assert answer.headers["access-control-allow-credentials"] == "true"


def test_credentials_with_any_origin_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="CATALOG_CORS_ALLOW_CREDENTIALS cannot be used"):
        load_settings(cors_allow_origins="*", cors_allow_credentials="true")


def test_origins_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_CORS_ALLOW_ORIGINS", "https://shop.example, http://localhost:3000")
    assert load_settings().cors_allow_origins == ["https://shop.example", "http://localhost:3000"]


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:3000", True),
        ("http://127.0.0.1:5173", True),
        ("http://localhost", True),
        ("https://localhost:8443", True),
        ("http://localhost.evil.example", False),
        ("https://shop.example", False),
    ],
)
def test_the_demo_allows_localhost_only(origin: str, allowed: bool) -> None:
    policy = cors_policy(Settings(demo=True))
    assert policy.allow_origin_regex == DEMO_ORIGIN_REGEX
    assert bool(re.fullmatch(DEMO_ORIGIN_REGEX, origin)) is allowed
    assert not cors_policy(Settings()).enabled
    configured = cors_policy(Settings(demo=True, cors_allow_origins=["https://shop.example"]))
    assert configured.allow_origin_regex is None
