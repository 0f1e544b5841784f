"""Import target for ASGI servers: ``uvicorn --factory gateway.asgi:app_factory``."""

from __future__ import annotations

from starlette.applications import Starlette

from gateway.app import create_app
from gateway.gc_freeze import freeze_startup_objects
from gateway.settings import load_settings


def app_factory() -> Starlette:
    app = create_app(load_settings())
    freeze_startup_objects()
    return app
