"""Which Cloudinary the gateway talks to: the real one (CLOUDINARY_URL) or the built-in emulator."""

from __future__ import annotations

import logging
import os
import secrets
from contextlib import AsyncExitStack
from pathlib import Path

import anyio

from gateway.settings import Settings
from resolvers.assets import DamClient, DamConfig

log = logging.getLogger(__name__)

EMULATOR_CLOUD = "catalog-demo"
EMULATOR_KEY = "emulator-key"
SECRET_FILE = ".api-secret"


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


async def start_dam(settings: Settings, stack: AsyncExitStack) -> DamClient:
    """A DAM client for CLOUDINARY_URL, or for an emulator started here and stopped by ``stack``."""
    if settings.cloudinary_url:
        config = DamConfig.from_url(settings.cloudinary_url)
        log.info("media from Cloudinary cloud %r", config.cloud_name)
        return DamClient(config, timeout_s=settings.dam_timeout_s)
    from cloudinary_emulator import EmulatorConfig, EmulatorServer

    secret = emulator_secret(settings)
    gateway_host = public_host(settings.host)
    server = EmulatorServer(
        EmulatorConfig(
            cloud_name=EMULATOR_CLOUD,
            api_key=EMULATOR_KEY,
            api_secret=secret,
            notification_url=f"http://{gateway_host}:{settings.port}/webhooks/cloudinary",
            # Uploaded media survives restarts, like the embedded MongoDB's data.
            storage_dir=emulator_storage(settings),
        ),
        host=settings.emulator_host,
        port=settings.emulator_port,
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
    log.info("media from the Cloudinary emulator at %s (CLOUDINARY_URL is not set)", server.url)
    return DamClient(
        DamConfig(EMULATOR_CLOUD, EMULATOR_KEY, secret, sdk_options=options),
        timeout_s=settings.dam_timeout_s,
    )


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
