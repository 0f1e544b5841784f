"""Which Cloudinary the gateway talks to: the real one (CLOUDINARY_URL) or the built-in emulator."""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path

import anyio

from gateway.ports import ensure_port_free
from gateway.settings import Settings
from resolvers.assets import DamClient, DamConfig

log = logging.getLogger(__name__)

EMULATOR_CLOUD = "catalog-demo"
EMULATOR_KEY = "emulator-key"
SECRET_FILE = ".api-secret"
LOCK_FILE = ".lock"


def public_host(host: str) -> str:
    """The host a browser uses to reach what we bind (0.0.0.0 is not an address to visit)."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def emulator_secret(settings: Settings) -> str:
    """CATALOG_EMULATOR_SECRET, or a random secret kept beside the emulator's media.

    Never a fixed value: anyone who knows the secret can sign webhooks to the gateway and
    change or delete media, so each data directory gets its own, shared by `serve`, `media
    ingest` and `cloudinary-emulator` on this machine.
    """
    if settings.emulator_secret:
        return settings.emulator_secret
    path = settings.data_dir / "cloudinary" / SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race; use its secret
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as file:
        file.write(secret)
    return secret


def emulator_storage(settings: Settings) -> Path:
    return settings.data_dir / "cloudinary"


EMULATOR = "the Cloudinary emulator"
EMULATOR_PORT_SETTING = "CATALOG_EMULATOR_PORT"


def check_emulator_port(settings: Settings) -> None:
    """PortUnavailableError when the emulator `serve` would start cannot have its port."""
    if settings.cloudinary_url is None and settings.emulator_url is None and settings.emulator_port:
        ensure_port_free(
            settings.emulator_host,
            settings.emulator_port,
            what=EMULATOR,
            variable=EMULATOR_PORT_SETTING,
        )


class EmulatorStorageBusyError(RuntimeError):
    """Another process runs an emulator over this data directory's media."""


@contextmanager
def emulator_storage_lock(settings: Settings) -> Iterator[bool]:
    """Hold the lock of the emulator's storage for the block; False if another process has it.

    The emulator keeps its assets in memory and writes them through to the storage: two
    emulators over one directory would each miss the other's uploads (and overwrite them).
    """
    path = emulator_storage(settings) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


async def start_dam(settings: Settings, stack: AsyncExitStack) -> DamClient:
    """A DAM client for CLOUDINARY_URL, or for an emulator started here and stopped by ``stack``."""
    if settings.cloudinary_url:
        config = DamConfig.from_url(settings.cloudinary_url)
        log.info("media from Cloudinary cloud %r", config.cloud_name)
        return DamClient(
            config,
            timeout_s=settings.dam_timeout_s,
            admin_calls_per_request=settings.dam_admin_calls_per_request,
        )
    if settings.emulator_url:
        dam = shared_emulator_dam(settings)
        log.info("media from the Cloudinary emulator service at %s", settings.emulator_url)
        return dam
    if not stack.enter_context(emulator_storage_lock(settings)):
        raise EmulatorStorageBusyError(
            f"another process runs {EMULATOR} over {emulator_storage(settings)} (a `serve` or "
            "`cloudinary-emulator` with the same CATALOG_DATA_DIR): stop it, or set "
            "CATALOG_DATA_DIR to another directory"
        )
    check_emulator_port(settings)
    gateway_host = public_host(settings.host)
    dam = await _start_emulator(
        settings,
        stack,
        port=settings.emulator_port,
        notification_url=f"http://{gateway_host}:{settings.port}/webhooks/cloudinary",
    )
    log.info(
        "media from the Cloudinary emulator at %s (CLOUDINARY_URL is not set)",
        dam.config.sdk_options["upload_prefix"],
    )
    return dam


async def _start_emulator(
    settings: Settings, stack: AsyncExitStack, *, port: int, notification_url: str | None
) -> DamClient:
    from cloudinary_emulator import EmulatorConfig, EmulatorServer

    secret = emulator_secret(settings)
    server = EmulatorServer(
        EmulatorConfig(
            cloud_name=EMULATOR_CLOUD,
            api_key=EMULATOR_KEY,
            api_secret=secret,
            notification_url=notification_url,
            # Uploaded media survives restarts, like the embedded MongoDB's data.
            storage_dir=emulator_storage(settings),
        ),
        host=settings.emulator_host,
        port=port,
    )
    await anyio.to_thread.run_sync(server.start)
    stack.callback(server.stop)
    options = server.sdk_config()
    visible = public_host(settings.emulator_host)
    if visible != settings.emulator_host:
        options["cname"] = options["cname"].replace(settings.emulator_host, visible, 1)
        options["upload_prefix"] = options["upload_prefix"].replace(
            settings.emulator_host, visible, 1
        )
    return DamClient(
        DamConfig(EMULATOR_CLOUD, EMULATOR_KEY, secret, sdk_options=options),
        timeout_s=settings.dam_timeout_s,
        admin_calls_per_request=settings.dam_admin_calls_per_request,
    )


def shared_emulator_dam(settings: Settings, *, url_templates: bool = True) -> DamClient:
    """The DAM of an emulator run as its own service (CATALOG_EMULATOR_URL), for every replica.

    API calls go to CATALOG_EMULATOR_URL (inside the deployment's network); delivery URLs point
    at CATALOG_EMULATOR_PUBLIC_URL, where clients reach it.
    """
    from cloudinary_emulator import sdk_config

    assert settings.emulator_url is not None
    assert settings.emulator_secret is not None  # checked with the settings
    secret = settings.emulator_secret
    options = sdk_config(settings.emulator_url, EMULATOR_CLOUD, EMULATOR_KEY, secret)
    if settings.emulator_public_url:
        public = sdk_config(settings.emulator_public_url, EMULATOR_CLOUD, EMULATOR_KEY, secret)
        for name in ("secure", "cname", "secure_distribution"):
            options[name] = public[name]
    return DamClient(
        DamConfig(EMULATOR_CLOUD, EMULATOR_KEY, secret, sdk_options=options),
        timeout_s=settings.dam_timeout_s,
        admin_calls_per_request=settings.dam_admin_calls_per_request,
        url_templates=url_templates,
    )


@asynccontextmanager
async def emulator_for_uploads(settings: Settings) -> AsyncIterator[DamClient]:
    """The emulator's DAM for a command that uploads into it (``seed --demo``).

    The emulator a running ``serve`` (or ``cloudinary-emulator``) owns when one holds this data
    directory's storage, reached on CATALOG_EMULATOR_PORT; otherwise one started here over the
    same storage for the block, so the next ``serve`` finds the uploads.
    """
    if settings.emulator_url:
        yield shared_emulator_dam(settings)
        return
    async with AsyncExitStack() as stack:
        if stack.enter_context(emulator_storage_lock(settings)):
            yield await _start_emulator(settings, stack, port=0, notification_url=None)
            return
        if not settings.emulator_port:
            raise DamNotConfiguredError(
                f"{EMULATOR} over {emulator_storage(settings)} runs in another process (a "
                "`serve` or `cloudinary-emulator`): set CATALOG_EMULATOR_PORT to its port (make "
                "run uses 8001) so the uploads go through it, or stop it"
            )
        yield command_line_dam(settings)


class DamNotConfiguredError(RuntimeError):
    """A command needs Cloudinary but neither CLOUDINARY_URL nor a running emulator is known."""


def command_line_dam(settings: Settings, *, url_templates: bool = True) -> DamClient:
    """The DAM for a one-off command: CLOUDINARY_URL, or the emulator a running `serve` owns.

    ``url_templates=False``: the SDK builds every delivery URL (see ``DamClient``).
    """
    if settings.cloudinary_url:
        return DamClient(
            DamConfig.from_url(settings.cloudinary_url),
            timeout_s=settings.dam_timeout_s,
            url_templates=url_templates,
        )
    if settings.emulator_url:
        return shared_emulator_dam(settings, url_templates=url_templates)
    if not settings.emulator_port:
        raise DamNotConfiguredError(
            "no Cloudinary to talk to: set CLOUDINARY_URL, or run `catalog-gateway serve` with "
            "CATALOG_EMULATOR_PORT set (make run uses 8001) and set the same port here"
        )
    from cloudinary_emulator import sdk_config

    url = f"http://{public_host(settings.emulator_host)}:{settings.emulator_port}"
    secret = emulator_secret(settings)
    options = sdk_config(url, EMULATOR_CLOUD, EMULATOR_KEY, secret)
    return DamClient(
        DamConfig(EMULATOR_CLOUD, EMULATOR_KEY, secret, sdk_options=options),
        timeout_s=settings.dam_timeout_s,
        url_templates=url_templates,
    )
