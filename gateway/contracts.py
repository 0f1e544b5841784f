"""The edge of channel contracts: how their operations reach the gateway, and the publish gate.

``resolvers.contracts`` plans and judges; this module gives it transports:

- ``HttpTransport``: POST /graphql as a storefront of the channel would (``X-Channel``,
  ``Accept-Encoding: gzip``), through an httpx client that is either the app in-process
  (``httpx.ASGITransport``) or a running gateway's URL; bytes are counted on the wire.
- ``SchemaTransport``: the publish gate's. The operation runs on this process's schema with the
  product's would-be published revision primed into the request's loaders, over the working
  copy (as a preview token reads it), so the pinned revision is what the operation sees even
  when the working copy has moved on since.

``schema_problems`` validates every contract operation against a proposed schema.graphql.
"""

from __future__ import annotations

import gzip
import io
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from graphql import GraphQLError, build_schema, parse, validate
from PIL import Image, UnidentifiedImageError

from resolvers.channels import Channels
from resolvers.contracts.checks import Delivered, Response, Violation
from resolvers.contracts.config import Contracts, ContractsConfigError, load_contracts
from resolvers.contracts.engine import Simulation
from resolvers.db import Document

if TYPE_CHECKING:
    from resolvers.services import Services
    from schema.schema import CatalogSchema

IMAGE_TIMEOUT_S = 20.0


def default_contracts() -> Path:
    return Path(str(files("gateway").joinpath("contracts.toml")))


def default_manifest() -> Path:
    return Path(str(files("gateway").joinpath("operations/manifest.json")))


def manifest_bodies(path: Path | None = None) -> dict[str, str]:
    """The manifest's operations by name (``operations register`` checks them in full)."""
    path = path or default_manifest()
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        return {
            op["name"]: op["body"]
            for op in manifest["operations"]
            if isinstance(op.get("name"), str) and isinstance(op.get("body"), str)
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ContractsConfigError(f"{path}: cannot read the operation manifest: {exc}") from None


def load(channels: Channels, path: Path | None = None, manifest: Path | None = None) -> Contracts:
    return load_contracts(path or default_contracts(), channels, manifest_bodies(manifest))


@dataclass
class HttpTransport:
    client: httpx.AsyncClient
    headers: Mapping[str, str] = field(default_factory=dict)
    clock: Callable[[], float] = time.perf_counter
    """Seconds; a test's own clock makes max_server_ms a judgement it can predict."""

    async def execute(self, channel: str, body: str, variables: Mapping[str, Any]) -> Response:
        headers = {
            **self.headers,
            "X-Channel": channel,
            "Accept-Encoding": "gzip",
            "Accept": "application/json",
        }
        started = self.clock()
        async with self.client.stream(
            "POST", "/graphql", json={"query": body, "variables": dict(variables)}, headers=headers
        ) as response:
            content = await response.aread()
            wire = response.num_bytes_downloaded
        elapsed = (self.clock() - started) * 1000
        try:
            parsed = json.loads(content)
        except ValueError:
            parsed = {"errors": [{"message": content[:200].decode("utf-8", "replace")}]}
        return Response(response.status_code, parsed, wire, elapsed)


@dataclass
class HttpImageFetcher:
    """Fetches a delivery URL (the emulator's, or Cloudinary's) and reads the picture's size."""

    client: httpx.AsyncClient

    async def fetch(self, url: str) -> Delivered:
        try:
            response = await self.client.get(url, timeout=IMAGE_TIMEOUT_S)
        except httpx.HTTPError as exc:
            return Delivered(0, error=f"{type(exc).__name__}: {exc}")
        content_type = response.headers.get("content-type")
        if response.status_code != 200:
            return Delivered(response.status_code, content_type)
        try:
            with Image.open(io.BytesIO(response.content)) as picture:
                width, height = picture.size
        except (UnidentifiedImageError, OSError):
            return Delivered(response.status_code, content_type)
        return Delivered(response.status_code, content_type, width, height)


@cache
def _schema() -> CatalogSchema:
    from schema.schema import build_schema as build_catalog_schema

    return build_catalog_schema()


@dataclass
class SchemaTransport:
    """Runs an operation on this process's schema for the documents of ``candidates``."""

    services: Services
    candidates: Sequence[Document]

    async def execute(self, channel: str, body: str, variables: Mapping[str, Any]) -> Response:
        from resolvers.access import Principal
        from schema.context import Context

        context = Context.for_request(
            self.services, f"contract-gate-{uuid.uuid4().hex[:12]}", Principal.system()
        )
        # The pinned revision, not the working copy's current one, wherever it is looked up.
        context.loaders.prime_products(self.candidates)
        started = time.perf_counter()
        try:
            result = await _schema().execute(
                body, variable_values=dict(variables), context_value=context
            )
            elapsed = (time.perf_counter() - started) * 1000
            payload: dict[str, Any] = {"data": result.data}
            if result.errors:
                payload["errors"] = [{"message": e.message} for e in result.errors]
            if context.locale_fallbacks:
                payload["extensions"] = {"localeFallbacks": list(context.locale_fallbacks)}
        finally:
            context.close()
        wire = len(gzip.compress(json.dumps(payload, default=str).encode(), mtime=0))
        status = 200 if result.data is not None else 400
        return Response(status, payload, wire, elapsed)


@dataclass
class ContractGate:
    """The gated operations of a channel, run for a product's would-be published revision.

    ``services`` is set once the process's services exist (the workflow that holds this gate
    is one of them).
    """

    contracts: Contracts
    channels: Channels
    services: Services | None = None

    async def check(self, product: Document, channel: str) -> list[Violation]:
        if self.services is None or not self.contracts.gated(channel):
            return []
        async with httpx.AsyncClient() as client:
            simulation = Simulation(
                self.contracts,
                self.channels,
                SchemaTransport(self.services, [product]),
                HttpImageFetcher(client),
                {},
            )
            return await simulation.check_product(channel, product["sku"])


def schema_problems(
    contracts: Contracts, sdl: str, source: str, discovery: Mapping[str, str] | None = None
) -> list[str]:
    """Each contract operation that is not valid against the schema ``sdl``: one line each;
    ``discovery``: the operations simulate lists categories and SKUs with, by name."""
    try:
        # A federated SDL uses @link and @key without defining them.
        proposed = build_schema(sdl, assume_valid_sdl=True)
    except (GraphQLError, TypeError) as exc:
        raise ContractsConfigError(f"{source}: not a schema: {exc}") from None
    problems: list[str] = []
    checked: dict[str, list[str]] = {}
    for operation in contracts.operations:
        if operation.body not in checked:
            errors = validate(proposed, parse(operation.body))
            checked[operation.body] = [e.message for e in errors]
        for message in checked[operation.body]:
            problems.append(f"{operation.where} ({operation.contract.operation}): {message}")
    for name, body in (discovery or {}).items():
        problems += [f"simulate ({name}): {e.message}" for e in validate(proposed, parse(body))]
    return problems
