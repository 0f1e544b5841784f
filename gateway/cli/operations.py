"""``catalog-gateway operations register [FILE]``: put an operation manifest on the safelist.

The manifest is Apollo's persisted query manifest (``apollo-persisted-query-manifest``, version
1), as ``@apollo/generate-persisted-query-manifest`` writes it; the repository's own is
``gateway/operations/manifest.json``. Every operation is checked before anything is written:
its id must be the SHA-256 of its body (what APQ clients send), and its body must be one valid
operation of this gateway's schema.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, parse, validate
from pymongo.errors import PyMongoError

from gateway.cli.common import CLIError, print_mongo_error
from gateway.services import load_profiles, open_catalog
from gateway.settings import Settings
from resolvers.persisted_queries import (
    ManifestOperation,
    PersistedQueryStore,
    Registered,
    query_hash,
)

NAME = "operations"
FORMAT = "apollo-persisted-query-manifest"


def default_manifest() -> Path:
    return Path(str(files("gateway").joinpath("operations/manifest.json")))


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="the operation safelist: register a manifest",
        description="Safelisted operations are the only ones the roles of "
        "CATALOG_SAFELIST_ROLES may run when CATALOG_SAFELIST is 'enforce' (with 'log', others "
        "run and are logged). They are stored in MongoDB for every replica and never expire.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    register = actions.add_parser(
        "register",
        help="safelist the operations of a manifest",
        description="Check every operation of FILE (id = SHA-256 of its body, a valid operation "
        "of the schema), then safelist them all; operations already registered are left as "
        "they are. Operations missing from FILE stay safelisted (older clients may send them).",
    )
    register.add_argument(
        "file",
        nargs="?",
        type=Path,
        metavar="FILE",
        help="an Apollo persisted query manifest (default: gateway/operations/manifest.json)",
    )
    return parser


def run(args: argparse.Namespace, settings: Settings) -> int:
    operations = read_manifest(args.file or default_manifest())
    return asyncio.run(_register(operations, settings))


async def _register(operations: list[ManifestOperation], settings: Settings) -> int:
    profiles = load_profiles(settings)
    try:
        async with open_catalog(settings, profiles, role="command") as connection:
            store = PersistedQueryStore(connection.catalog.persisted_queries)
            registered = await store.register_manifest(operations, datetime.now(UTC))
    except PyMongoError as exc:
        return print_mongo_error(exc)
    print(summary(registered))
    return 0


def summary(registered: Registered) -> str:
    return (
        f"safelisted {registered.added} new operation{'' if registered.added == 1 else 's'}, "
        f"{registered.changed} changed, {registered.unchanged} already registered"
    )


def read_manifest(path: Path) -> list[ManifestOperation]:
    """The manifest's operations, each checked; CLIError naming the file and the operation."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CLIError(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CLIError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CLIError(f"{path}: not an Apollo persisted query manifest (format {FORMAT!r})")
    if manifest.get("version") != 1:
        raise CLIError(f"{path}: manifest version {manifest.get('version')!r}; expected 1")
    entries = manifest.get("operations")
    if not isinstance(entries, list):
        raise CLIError(f"{path}: 'operations' must be a list")
    from schema.schema import build_schema  # only this command needs the schema

    graphql_schema = build_schema()._schema
    operations: list[ManifestOperation] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, dict) else None
        where = f"{path}: operation {index + 1}" + (f" ({name})" if isinstance(name, str) else "")
        operation = _operation(entry, where)
        if operation.id in seen:
            raise CLIError(f"{where}: id {operation.id} appears twice")
        seen.add(operation.id)
        try:
            document = parse(operation.body)
        except GraphQLError as exc:
            raise CLIError(f"{where}: {exc.message}") from None
        definitions = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(definitions) != 1:
            raise CLIError(f"{where}: the body must define exactly one operation")
        if definitions[0].operation.value != operation.type:
            raise CLIError(
                f"{where}: type {operation.type!r}, but the body is a "
                f"{definitions[0].operation.value}"
            )
        if errors := validate(graphql_schema, document):
            raise CLIError(f"{where}: {errors[0].message}")
        operations.append(operation)
    return operations


def _operation(entry: Any, where: str) -> ManifestOperation:
    if not isinstance(entry, dict):
        raise CLIError(f"{where}: must be an object with id, name, type and body")
    body, op_id, name, kind = (entry.get(k) for k in ("body", "id", "name", "type"))
    if not isinstance(body, str) or not body.strip():
        raise CLIError(f"{where}: 'body' must be the operation's text")
    if not isinstance(op_id, str):
        raise CLIError(f"{where}: 'id' must be a string")
    if name is not None and not isinstance(name, str):
        raise CLIError(f"{where}: 'name' must be a string")
    if kind not in ("query", "mutation", "subscription"):
        raise CLIError(f"{where}: 'type' must be query, mutation or subscription")
    if op_id != query_hash(body):
        raise CLIError(
            f"{where}: id {op_id} is not the SHA-256 of its body ({query_hash(body)}); APQ "
            "clients send that hash"
        )
    return ManifestOperation(id=op_id, name=name, type=kind, body=body)
