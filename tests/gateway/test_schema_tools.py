"""The schema as client tools load it from a live gateway: GraphQL Code Generator (graphql-js 16)
and graphql-core 3.2 (what gql 3 runs on), which both reject what they do not know."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from graphql import DirectiveLocation, build_client_schema, get_introspection_query

from gateway.app import create_app
from gateway.settings import Settings
from tests.graphql_helpers import shared_schema
from tests.live_server import live_server
from tests.node_tools import run_node_script

pytestmark = pytest.mark.indexed

LEGACY = Path(__file__).resolve().parents[1] / "legacy_graphql"


def load_with_graphql_core_3_2(url: str) -> dict[str, Any]:
    site = Path(sys.prefix) / "graphql-core-3.2"  # beside the venv's own packages
    assert (site / "graphql").is_dir(), f"run `make test` (it installs graphql-core 3.2 in {site})"
    completed = subprocess.run(  # our own script
        [sys.executable, str(LEGACY / "load_schema.py"), url],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def test_codegen_typescript_reads_the_live_introspection(settings: Settings, db: Any) -> None:
    with live_server(create_app(settings)) as live:
        result = run_node_script("codegen.mjs", f"{live.url}/graphql")
    typescript = result["typescript"]
    assert "export type Product = Node & {" in typescript
    assert "export type MediaAsset = {" in typescript


def test_graphql_core_3_2_reads_the_live_introspection(settings: Settings, db: Any) -> None:
    with live_server(create_app(settings)) as live:
        result = load_with_graphql_core_3_2(f"{live.url}/graphql")
    assert result["version"] == "3.2.6"
    assert "type Product implements Node {" in result["sdl"]
    assert result["types"] > 100


def test_graphql_core_3_3_reads_the_introspection_and_deprecations_stay() -> None:
    query = get_introspection_query(descriptions=True, input_value_deprecation=True)
    result = shared_schema().execute_sync(query)
    assert result.errors is None
    assert result.data is not None
    schema = build_client_schema(result.data)  # type: ignore[arg-type]
    deprecated = schema.get_directive("deprecated")
    assert deprecated is not None
    assert DirectiveLocation.FIELD_DEFINITION in deprecated.locations
    assert DirectiveLocation.DIRECTIVE_DEFINITION not in deprecated.locations
