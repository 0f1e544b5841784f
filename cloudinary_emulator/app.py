"""The emulator as an ASGI application, mountable in-process or served by ``server``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from cloudinary_emulator.admin_api import admin_routes
from cloudinary_emulator.config import EmulatorConfig
from cloudinary_emulator.control import control_routes
from cloudinary_emulator.delivery import delivery_routes
from cloudinary_emulator.emulator import Emulator, create_emulator
from cloudinary_emulator.upload_api import upload_routes


def create_emulator_app(config: EmulatorConfig, *, emulator: Emulator | None = None) -> Starlette:
    """An app serving one emulated account; its state is ``emulator_of_app(app)``.

    Pass ``emulator`` to serve an instance built beforehand (its config wins).
    """
    instance = emulator if emulator is not None else create_emulator(config)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        # Give webhooks already under way the chance to land before the loop goes away.
        await instance.notifier.drain(wait_s=instance.config.notification_timeout_s)

    app = Starlette(
        # Control and API routes first: the delivery pattern would match their paths too.
        routes=[*control_routes(), *upload_routes(), *admin_routes(), *delivery_routes()],
        lifespan=lifespan,
    )
    app.state.emulator = instance
    return app


def emulator_of_app(app: Starlette) -> Emulator:
    emulator: Emulator = app.state.emulator
    return emulator
