"""The GraphQL-over-HTTP audit of graphql-http (the spec's reference suite) on a live server."""

from typing import Any

import pytest

from gateway.app import create_app
from gateway.settings import Settings
from tests.live_server import live_server
from tests.node_tools import run_node_script

pytestmark = pytest.mark.indexed


def test_every_audit_passes(settings: Settings, db: Any) -> None:
    with live_server(create_app(settings)) as live:
        results = run_node_script("audit.mjs", f"{live.url}/graphql")
    assert len(results) >= 60  # MUST, SHOULD and MAY audits alike
    assert [r for r in results if r["status"] != "ok"] == []
