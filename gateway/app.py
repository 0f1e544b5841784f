"""The ASGI application, built by ``create_app(settings)``; its lifespan owns every resource."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any, TypedDict

import anyio
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.dam_setup import start_dam
from gateway.embedded_mongo import EmbeddedMongo, find_mongod
from gateway.graphql_http import GraphQLHTTPHandler
from gateway.request_id import RequestIdMiddleware
from gateway.settings import Settings
from gateway.webhooks import CloudinaryWebhook
from resolvers.channels import load_channels
from resolvers.db import Catalog, ensure_indexes
from resolvers.locales import LocaleResolver
from resolvers.readiness import materialize, stale_query
from resolvers.shared_result import SharedResults
from schema.context import Services
from schema.schema import CatalogSchema, build_schema

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 2.0


class State(TypedDict):
    services: Services
    mongo_client: AsyncMongoClient[dict[str, Any]]


def mongo_client(uri: str, settings: Settings) -> AsyncMongoClient[dict[str, Any]]:
    return AsyncMongoClient(
        uri,
        appname="catalog-gateway",
        tz_aware=True,
        retryReads=True,
        retryWrites=True,
        serverSelectionTimeoutMS=settings.mongo_timeout_ms,
    )


async def start_embedded_mongo(settings: Settings) -> EmbeddedMongo:
    """Start the gateway's own mongod (blocking work, so off the event loop)."""
    server = EmbeddedMongo(
        binary=find_mongod(settings.mongod),
        dbpath=settings.data_dir / "mongo",
        port=settings.mongod_port,
    )
    await anyio.to_thread.run_sync(server.start)
    return server


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def after_start(services: Services, *, demo_media: bool) -> None:
    """Work that must not delay readiness: rescoring, and the demo pictures for the emulator."""
    await refresh_stale_readiness(services)
    if demo_media:
        from demo.upload import upload_demo_pictures

        await upload_demo_pictures(
            services.catalog, services.dam, services.channels, services.locales, services.clock
        )


async def refresh_stale_readiness(services: Services) -> None:
    """Score products whose stored readiness predates the current channel profiles.

    Runs in the background so start-up stays fast; replicas starting together may do the same
    work twice, which is harmless (the results are identical).
    """
    query = stale_query(services.channels)
    try:
        if not await services.catalog.products.count_documents(query, limit=1):
            return
        count = await materialize(
            services.catalog, services.channels, services.locales, services.clock(), query
        )
    except PyMongoError:
        # Serving goes on with the old scores; the next start (or `readiness refresh`) retries.
        log.exception("recomputing stale readiness scores failed")
        return
    log.info("readiness recomputed for %d products (channel profiles changed)", count)


def create_app(settings: Settings, schema: CatalogSchema | None = None) -> Starlette:
    """Build the gateway for ``settings``; nothing is connected until the lifespan starts."""
    schema = schema or build_schema()
    locales = LocaleResolver(settings.locales, settings.default_locale, settings.fallback_chains)
    channels = load_channels(settings.channels_path, locales)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        async with AsyncExitStack() as stack:
            uri = settings.mongodb_uri
            if uri is None:
                server = await start_embedded_mongo(settings)
                stack.callback(server.stop)
                uri = server.uri
            client = mongo_client(uri, settings)
            stack.push_async_callback(client.close)
            catalog = Catalog(client[settings.db])
            await ensure_indexes(catalog, locales.locales, channels.names())
            if settings.demo:
                from demo.seeding import seed_demo_if_empty

                await seed_demo_if_empty(
                    catalog, products=settings.demo_products, locales=settings.locales
                )
            dam = await start_dam(settings, stack)
            services = Services(
                catalog,
                locales,
                channels,
                dam,
                loader_batch_size=settings.loader_batch_size,
                missing_asset_ttl=timedelta(seconds=settings.dam_missing_ttl_s),
                dashboards=SharedResults(settings.dashboard_ttl_s),
            )
            stack.push_async_callback(services.background.aclose)
            # A plain task, not a task group: servers may run start-up and shut-down of the
            # lifespan in different tasks, which a cancel scope does not allow.
            demo_media = settings.demo and settings.cloudinary_url is None
            refresh = asyncio.create_task(after_start(services, demo_media=demo_media))
            stack.push_async_callback(_cancel, refresh)
            log.info("catalog gateway ready on database %r", settings.db)
            yield {"services": services, "mongo_client": client}

    graphql = GraphQLHTTPHandler(schema, settings.max_body_bytes)
    webhook = CloudinaryWebhook(settings.webhook_max_age_s)
    routes = [
        Route("/webhooks/cloudinary", webhook.handle, methods=["POST"]),
        Route("/graphql", graphql.handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(RequestIdMiddleware)])


async def healthz(request: Request) -> Response:
    """The process is up and serving HTTP."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when a MongoDB primary answers: replicas not ready leave the load balancer."""
    client: AsyncMongoClient[dict[str, Any]] = request.state.mongo_client
    try:
        hello = await asyncio.wait_for(client.admin.command("hello"), READY_TIMEOUT_S)
        # Through a replica set connection commands go to the primary; say so explicitly.
        primary = bool(hello.get("isWritablePrimary") or hello.get("msg") == "isdbgrid")
    except (PyMongoError, TimeoutError) as exc:
        # The topology (hosts, replica set) is for the logs, not for anonymous callers.
        log.warning("not ready: %s", exc)
        return JSONResponse(
            {"status": "unavailable", "reason": "MongoDB primary unreachable"}, status_code=503
        )
    if not primary:
        return JSONResponse({"status": "unavailable", "reason": "no primary"}, status_code=503)
    return JSONResponse({"status": "ready"})
