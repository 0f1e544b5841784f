"""The process's services, built from settings in one place: the app's lifespan, the CLI
commands and (through the lifespan) the webhooks all open them here.

``role="serve"``: the gateway owns what it needs: without MONGODB_URI it starts the embedded
mongod, without CLOUDINARY_URL the Cloudinary emulator; both stop when the services close.
``role="command"``: a one-off command shares what a running ``serve`` owns: its embedded
mongod (or a temporary one when none answers) and its emulator (CATALOG_EMULATOR_PORT).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import anyio
from pymongo import AsyncMongoClient, monitoring
from pymongo.errors import PyMongoError
from pymongo.read_preferences import (
    Nearest,
    Primary,
    PrimaryPreferred,
    SecondaryPreferred,
    _ServerMode,
)

from gateway.auth.setup import api_keys
from gateway.contracts import ContractGate
from gateway.contracts import load as load_contracts
from gateway.dam_setup import check_emulator_port, command_line_dam, start_dam
from gateway.embedded_mongo import PORT_SETTING, WHAT, EmbeddedMongo, find_mongod, same_dbpath
from gateway.ports import PortUnavailableError, port_taken
from gateway.settings import Settings, SettingsError
from resolvers.access import Roles, load_roles
from resolvers.assets import DamClient
from resolvers.channels import Channels, load_channels
from resolvers.contracts.config import Contracts
from resolvers.db import Catalog, ensure_indexes
from resolvers.locales import LocaleResolver
from resolvers.readiness.memo import ReadinessMemo
from resolvers.services import Services
from resolvers.shared_result import SharedResults
from resolvers.validation import ValidationRules, Validator, load_validation
from resolvers.workflow.gates import Gates
from resolvers.workflow.service import Workflow
from resolvers.writes import ProductWriter, validate_with
from resolvers.writes.ownership import Ownership, load_ownership

Role = Literal["serve", "command"]

# How long a command waits to learn whether `serve` already runs the embedded mongod.
PROBE_TIMEOUT_MS = 700


@dataclass(frozen=True, slots=True)
class Profiles:
    """What the settings alone decide, checked (file, line, reason) before anything connects."""

    locales: LocaleResolver
    channels: Channels
    roles: Roles
    ownership: Ownership
    validation: ValidationRules
    contracts: Contracts | None = None
    """The channel contracts (contracts.toml): ``simulate`` and the publish gate run them."""


def load_profiles(settings: Settings) -> Profiles:
    """Locales, channel profiles, roles, field ownership and validation rules; a
    ConfigFileError (file, line, reason) when a file is bad."""
    locales = settings.locale_resolver()
    roles = load_roles(settings.roles_path)
    channels = load_channels(settings.channels_path, locales)
    validation = load_validation(settings.validation_path, locales, channels)
    return Profiles(
        locales,
        # Readiness checks the name and description lengths writes are validated against.
        channels.with_text_lengths(validation.text),
        roles,
        load_ownership(settings.ownership_path, roles.sources),
        validation,
        contracts(settings, channels),
    )


def contracts(settings: Settings, channels: Channels) -> Contracts | None:
    """CATALOG_CONTRACTS, or the shipped contracts.toml when the channels are the shipped ones
    too (it names their slots and locales; your own channels.toml needs your own contracts)."""
    if settings.contracts is None and settings.channels is not None:
        return None
    return load_contracts(channels, settings.contracts_path)


def product_writer(catalog: Catalog, profiles: Profiles) -> ProductWriter:
    """The process's one product writer, with the configured validation rules and ownership."""
    return ProductWriter(
        catalog,
        validate_with(Validator(profiles.validation)),
        profiles.ownership,
        profiles.channels,
        profiles.locales,
    )


def default_channel(settings: Settings, profiles: Profiles) -> str | None:
    """CATALOG_DEFAULT_CHANNEL in its configured spelling (SettingsError when unknown)."""
    if settings.default_channel is None:
        return None
    canonical = profiles.channels.canonical(settings.default_channel)
    if canonical is None:
        raise SettingsError(
            f"CATALOG_DEFAULT_CHANNEL: unknown channel {settings.default_channel!r}; "
            f"channels: {', '.join(profiles.channels.names())}"
        )
    return canonical


def workflow(
    catalog: Catalog,
    profiles: Profiles,
    writer: ProductWriter,
    dam: DamClient,
    settings: Settings,
    contracts: ContractGate | None = None,
) -> Workflow:
    """The publishing workflow: its gates validate with the writer's rules, check assets
    the mirror has not confirmed lately against Cloudinary and run the channel's gated
    contract operations."""
    gates = Gates(
        catalog, profiles.channels, profiles.locales, writer.validate, dam, contracts=contracts
    )
    return Workflow(
        catalog, profiles.channels, profiles.locales, gates, four_eyes=settings.four_eyes
    )


def mongo_client(
    uri: str,
    settings: Settings,
    *,
    timeout_ms: int | None = None,
    listeners: Sequence[monitoring.CommandListener] = (),
) -> AsyncMongoClient[dict[str, Any]]:
    """Every MongoDB client of the process is made here. ``listeners``: the app's metrics and
    traces of commands (gateway.observability), this client's only."""
    return AsyncMongoClient(
        uri,
        appname="catalog-gateway",
        tz_aware=True,
        retryReads=True,
        retryWrites=True,
        serverSelectionTimeoutMS=timeout_ms or settings.mongo_timeout_ms,
        event_listeners=list(listeners),
    )


def read_catalog(catalog: Catalog, settings: Settings) -> Catalog:
    """The catalog for requests' product reads, with the configured read preference."""
    preference = READ_PREFERENCES[settings.read_preference]
    return Catalog(catalog.db.with_options(read_preference=preference))


READ_PREFERENCES: dict[str, _ServerMode] = {
    "primary": Primary(),
    "primaryPreferred": PrimaryPreferred(),
    "secondaryPreferred": SecondaryPreferred(),
    "nearest": Nearest(),
}


@dataclass(frozen=True, slots=True)
class Connection:
    """An open catalog database: the collections, and the client behind them (/readyz)."""

    client: AsyncMongoClient[dict[str, Any]]
    catalog: Catalog


@dataclass(frozen=True, slots=True)
class Opened:
    """What ``open_services`` yields."""

    services: Services
    client: AsyncMongoClient[dict[str, Any]]


@asynccontextmanager
async def open_catalog(
    settings: Settings,
    profiles: Profiles,
    *,
    role: Role,
    indexes: bool = True,
    listeners: Sequence[monitoring.CommandListener] = (),
) -> AsyncIterator[Connection]:
    """The configured database, with its indexes unless ``indexes=False`` (a read-only audit
    must work with a read-only account)."""
    async with AsyncExitStack() as stack:
        uri = settings.mongodb_uri
        if uri is None:
            uri = await _embedded_mongo(settings, stack, role)
        client = mongo_client(uri, settings, listeners=listeners)
        stack.push_async_callback(client.close)
        catalog = Catalog(client[settings.db])
        if indexes:
            await ensure_indexes(
                catalog,
                profiles.locales.locales,
                profiles.channels.names(),
                import_job_ttl=timedelta(days=settings.import_job_ttl_days),
            )
        yield Connection(client, catalog)


@asynccontextmanager
async def open_services(
    settings: Settings,
    profiles: Profiles,
    *,
    role: Role,
    indexes: bool = True,
    listeners: Sequence[monitoring.CommandListener] = (),
) -> AsyncIterator[Opened]:
    """The services over the configured database and DAM; everything started closes on exit."""
    # A command's DAM is settings only: a missing one fails before any mongod starts.
    command_dam = command_line_dam(settings) if role == "command" else None
    async with AsyncExitStack() as stack:
        connection = await stack.enter_async_context(
            open_catalog(settings, profiles, role=role, indexes=indexes, listeners=listeners)
        )
        dam = command_dam if command_dam is not None else await start_dam(settings, stack)
        reads = read_catalog(connection.catalog, settings)
        keys = (
            api_keys(settings, connection.catalog, profiles.roles, profiles.channels, reads)
            if role == "serve"
            else None
        )
        writer = product_writer(connection.catalog, profiles)
        contract_gate = (
            ContractGate(profiles.contracts, profiles.channels)
            if profiles.contracts is not None
            else None
        )
        services = Services(
            connection.catalog,
            profiles.locales,
            profiles.channels,
            dam,
            loader_batch_size=settings.loader_batch_size,
            readiness_memo=ReadinessMemo(settings.readiness_memo_entries),
            missing_asset_ttl=timedelta(seconds=settings.dam_missing_ttl_s),
            published_missing_asset_ttl=timedelta(seconds=settings.dam_missing_ttl_published_s),
            dashboards=SharedResults(settings.dashboard_ttl_s),
            api_keys=keys,
            writer=writer,
            validation=profiles.validation,
            default_channel=default_channel(settings, profiles),
            workflow=workflow(connection.catalog, profiles, writer, dam, settings, contract_gate),
            reads=reads,
            preview_secret=(
                settings.preview_secret.get_secret_value().encode()
                if settings.preview_secret is not None
                else None
            ),
        )
        stack.push_async_callback(services.background.aclose)
        if contract_gate is not None:
            # The gate runs operations on these services; they hold the workflow that holds it.
            contract_gate.services = services
        stack.push_async_callback(services.product_changes.aclose)
        yield Opened(services, connection.client)


def check_serve_ports(settings: Settings) -> None:
    """PortUnavailableError, naming the port and its setting, when the embedded mongod or the
    emulator ``serve`` would start cannot have its port: checked before anything starts."""
    if settings.mongodb_uri is None:
        _embedded_server(settings).check_port()
    check_emulator_port(settings)


def _embedded_server(settings: Settings) -> EmbeddedMongo:
    return EmbeddedMongo(
        binary=find_mongod(settings.mongod),
        dbpath=settings.data_dir / "mongo",
        port=settings.mongod_port,
    )


async def _embedded_mongo(settings: Settings, stack: AsyncExitStack, role: Role) -> str:
    """The URI of the embedded mongod; one started here is stopped by ``stack``."""
    server = _embedded_server(settings)
    if role == "command":
        answering, served = await _probe(server.uri, settings)
        if answering and same_dbpath(served, server.dbpath):
            return server.uri  # `serve` owns it; share it rather than fight over the data files
        if answering:
            # Another instance's mongod (another CATALOG_DATA_DIR): never write into it.
            holder = f"the mongod of {served}" if served else "another mongod"
            raise PortUnavailableError(
                port_taken("127.0.0.1", server.port, WHAT, PORT_SETTING, holder)
            )
    # Blocking work (a process start and a wait for its primary), so off the event loop.
    await anyio.to_thread.run_sync(server.start)
    stack.callback(server.stop)
    return server.uri


async def _probe(uri: str, settings: Settings) -> tuple[bool, Path | None]:
    """Whether a mongod answers on ``uri``, and the data directory it serves."""
    client = mongo_client(uri, settings, timeout_ms=PROBE_TIMEOUT_MS)
    try:
        await client.admin.command("ping")
    except Exception:
        await client.close()
        return False, None
    try:
        options = await client.admin.command("getCmdLineOpts")
    except PyMongoError:
        return True, None
    finally:
        await client.close()
    dbpath = options.get("parsed", {}).get("storage", {}).get("dbPath")
    return True, Path(dbpath) if dbpath else None
