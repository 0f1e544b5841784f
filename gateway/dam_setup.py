"""Which Cloudinary the gateway talks to: the real one (CLOUDINARY_URL) or the built-in emulator."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

import anyio

from gateway.settings import Settings
from resolvers.dam import DamClient, DamConfig

log = logging.getLogger(__name__)

# A local stand-in has no secrets worth hiding; these only have to agree on both sides.
EMULATOR_CLOUD = "catalog-demo"
EMULATOR_KEY = "emulator-key"
EMULATOR_SECRET = "emulator-secret"


def public_host(settings: Settings) -> str:
    """The host a browser uses to reach what we bind (0.0.0.0 is not an address to visit)."""
    return "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host


async def start_dam(settings: Settings, stack: AsyncExitStack) -> DamClient:
    """A DAM client for CLOUDINARY_URL, or for an emulator started here and stopped by ``stack``."""
    if settings.cloudinary_url:
        config = DamConfig.from_url(settings.cloudinary_url)
        log.info("media from Cloudinary cloud %r", config.cloud_name)
        return DamClient(config, timeout_s=settings.dam_timeout_s)
    from gateway.cloudinary_emulator import EmulatorConfig, EmulatorServer

    host = public_host(settings)
    server = EmulatorServer(
        EmulatorConfig(
            cloud_name=EMULATOR_CLOUD,
            api_key=EMULATOR_KEY,
            api_secret=EMULATOR_SECRET,
            notification_url=f"http://{host}:{settings.port}/webhooks/cloudinary",
            # Uploaded media survives restarts, like the embedded MongoDB's data.
            storage_dir=settings.data_dir / "cloudinary",
        ),
        host=settings.host,
        port=settings.emulator_port,
    )
    await anyio.to_thread.run_sync(server.start)
    stack.callback(server.stop)
    options = server.sdk_config()
    if settings.host != host:
        options["cname"] = options["cname"].replace(settings.host, host, 1)
    log.info("media from the Cloudinary emulator at %s (CLOUDINARY_URL is not set)", server.url)
    return DamClient(
        DamConfig(EMULATOR_CLOUD, EMULATOR_KEY, EMULATOR_SECRET, sdk_options=options),
        timeout_s=settings.dam_timeout_s,
    )


class DamNotConfiguredError(RuntimeError):
    """A command needs Cloudinary but neither CLOUDINARY_URL nor a running emulator is known."""


def command_line_dam(settings: Settings) -> DamClient:
    """The DAM for a one-off command: CLOUDINARY_URL, or the emulator a running `serve` owns."""
    if settings.cloudinary_url:
        return DamClient(
            DamConfig.from_url(settings.cloudinary_url), timeout_s=settings.dam_timeout_s
        )
    if not settings.emulator_port:
        raise DamNotConfiguredError(
            "no Cloudinary to talk to: set CLOUDINARY_URL, or run `catalog-gateway serve` with "
            "CATALOG_EMULATOR_PORT set (make run uses 8001) and set the same port here"
        )
    from gateway.cloudinary_emulator import sdk_config

    url = f"http://{public_host(settings)}:{settings.emulator_port}"
    options = sdk_config(url, EMULATOR_CLOUD, EMULATOR_KEY, EMULATOR_SECRET)
    return DamClient(
        DamConfig(EMULATOR_CLOUD, EMULATOR_KEY, EMULATOR_SECRET, sdk_options=options),
        timeout_s=settings.dam_timeout_s,
    )
