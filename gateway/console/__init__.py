"""The console for merchandisers and leads, at ``/console``: server-rendered pages over the
public GraphQL API (``api.py``), signed in with an API key kept in a sealed cookie
(``session.py``). See docs/console.md."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.auth.setup import key_pepper
from gateway.console import audit, auth, imports, product, readiness, review
from gateway.console.rendering import PREFIX, Console
from gateway.console.session import Sealer
from gateway.settings import Settings

STATIC = Path(__file__).parent.parent / "static" / "console"


def console_routes() -> list[BaseRoute]:
    """The console's routes; the app keeps a ``Console`` in ``app.state.console``."""
    return [
        Mount(
            PREFIX,
            routes=[
                Route("/", auth.home, methods=["GET"]),
                Route("/sign-in", auth.sign_in_form, methods=["GET"]),
                Route("/sign-in", auth.sign_in, methods=["POST"]),
                Route("/sign-out", auth.sign_out, methods=["POST"]),
                Route("/readiness", readiness.readiness_page, methods=["GET"]),
                Route("/products/{sku:path}", product.product_page, methods=["GET"]),
                Route("/products/{sku:path}", product.transition, methods=["POST"]),
                Route("/review", review.review_page, methods=["GET"]),
                Route("/imports", imports.imports_page, methods=["GET"]),
                Route("/imports", imports.upload, methods=["POST"]),
                Route("/imports/{job_id}", imports.job_page, methods=["GET"]),
                Route("/audit", audit.audit_page, methods=["GET"]),
                Mount("/static", app=StaticFiles(directory=STATIC), name="console-static"),
            ],
        )
    ]


def console(settings: Settings) -> Callable[[], Console]:
    """The app's Console, made on first use: its sealing key is derived from the key pepper
    (so any replica opens the cookies another sealed), which a demo reads from its data
    directory, not at import."""

    @functools.cache
    def made() -> Console:
        return Console(Sealer(key_pepper(settings)), max_upload_bytes=settings.max_upload_bytes)

    return made
