"""The console's operations: valid against the schema and in the repository's manifest."""

from __future__ import annotations

from graphql import parse, validate

from gateway.cli.operations import default_manifest, read_manifest
from gateway.console.operations import OPERATIONS
from resolvers.persisted_queries import query_hash
from schema.schema import build_schema


def test_every_console_operation_is_valid_and_in_the_manifest() -> None:
    schema = build_schema()._schema
    manifest = {op.name: op for op in read_manifest(default_manifest())}
    assert OPERATIONS
    for name, text in OPERATIONS.items():
        assert [e.message for e in validate(schema, parse(text))] == [], name
        assert name in manifest, f"{name}: add it to gateway/operations/manifest.json"
        assert manifest[name].body == text, f"{name}: the manifest's copy differs"
        assert manifest[name].id == query_hash(text)
