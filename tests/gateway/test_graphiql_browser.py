"""GraphiQL in a real browser that cannot reach the internet: Debian's headless Chromium, driven
by playwright-core (tests/node/graphiql_browser.mjs), against a live gateway on 127.0.0.1.

Chromium is a requirement, not an option: `make test` installs Debian's package when
/usr/bin/chromium is missing, and this test fails without it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from gateway.app import create_app
from gateway.graphiql import DEFAULT_QUERY
from gateway.settings import Settings
from resolvers.services import Services
from tests.live_server import live_server
from tests.node_tools import run_node_script

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


def test_graphiql_runs_the_default_query_without_internet(
    settings: Settings, fresh_demo: Services, tmp_path: Path
) -> None:
    assert CHROMIUM.is_file(), (
        f"{CHROMIUM} is missing: install Debian's chromium package "
        "(apt-get install --no-install-recommends chromium; `make test` does it)"
    )
    screenshot = tmp_path / "graphiql.png"
    # The demo in the test's own database: the gateway's start writes to the one it serves.
    with live_server(create_app(settings)) as live:
        report: dict[str, Any] = run_node_script(
            "graphiql_browser.mjs", f"{live.url}/graphql", str(screenshot), timeout=240
        )
        origin = live.url
    details = json.dumps(report, indent=1)[:4000]
    assert report["blocked"] == [], details
    assert report["error"] is None, details
    assert report["pageErrors"] == [], details
    assert report["console"] == [], details  # CSP violations and React errors land here
    assert report["failed"] == [], details
    assert report["status"] == 200
    assert "GraphiQL" in report["title"]
    web = [url for url in report["requests"] if url.split(":", 1)[0] in ("http", "https")]
    assert web, details
    assert [url for url in web if not url.startswith(f"{origin}/")] == []
    assert f"{origin}/graphiql/assets/graphiql-3.8.3/graphiql.min.js" in web
    # GraphiQL opened on our default query and ran it.
    assert report["editorQuery"] == DEFAULT_QUERY
    result = json.loads(report["resultText"])
    assert "errors" not in result, result
    nodes = [edge["node"] for edge in result["data"]["products"]["edges"]]
    assert len(nodes) == 5
    assert all(node["heroImage"]["url"].startswith("http://127.0.0.1:") for node in nodes)
    assert all(node["mediaManifest"]["slots"] for node in nodes)
    assert all(isinstance(node["readiness"]["ready"], bool) for node in nodes)
    assert screenshot.stat().st_size > 10_000
