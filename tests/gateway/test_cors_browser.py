"""CORS in a real browser (Debian's headless Chromium, tests/node/cors_browser.mjs): a page on
http://localhost:3000 calls a live gateway on 127.0.0.1.

The issue's failure: the preflight got 405 and no Access-Control-* header, so the page could
not call the API.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.app import create_app
from gateway.settings import Settings
from tests.live_server import live_server
from tests.node_tools import run_node_script

pytestmark = pytest.mark.indexed

APP = "http://localhost:3000"


def browse(settings: Settings) -> dict[str, Any]:
    with live_server(create_app(settings)) as live:
        report: dict[str, Any] = run_node_script(
            "cors_browser.mjs", APP, f"{live.url}/graphql", timeout=180
        )
    assert report["error"] is None, report
    return report


def test_an_allowed_origin_reads_the_answers(settings: Settings, db: Any) -> None:
    report = browse(settings.model_copy(update={"cors_allow_origins": [APP]}))
    assert report["plain"] == {
        "ok": True,
        "status": 200,
        "data": {"__typename": "Query"},
        "requestId": report["plain"]["requestId"],  # exposed: the page can read it
        "error": None,
    }
    assert report["plain"]["requestId"]
    assert report["preflighted"]["data"] == {"__typename": "Query"}
    assert report["preflighted"]["status"] == 200
    assert report["console"] == []


def test_without_configuration_the_browser_refuses(settings: Settings, db: Any) -> None:
    report = browse(settings)
    for call in (report["plain"], report["preflighted"]):
        assert call["ok"] is False
        assert "Failed to fetch" in call["error"]
    refusals = [m for m in report["console"] if "blocked by CORS policy" in m]
    assert len(refusals) == 2
    assert all("No 'Access-Control-Allow-Origin' header" in m for m in refusals)
