"""The ASGI application, built by ``create_app(settings)``; its lifespan owns every resource."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from pymongo import AsyncMongoClient
from pymongo.errors import ConnectionFailure, PyMongoError
from pymongo.read_preferences import Primary, _ServerMode
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from gateway.access_log import AccessLogMiddleware
from gateway.auth import Authenticator
from gateway.auth.setup import authenticator
from gateway.cache_invalidation import CacheInvalidation, invalidating
from gateway.client_limits import ClientLimitsMiddleware
from gateway.console import console, console_routes
from gateway.cors import cors_middleware, cors_policy
from gateway.events import event_subscriptions, start_event_worker
from gateway.graphiql import ASSET_PREFIX, graphiql_asset, index
from gateway.graphql_http import GraphQLHTTPHandler
from gateway.graphql_ws import GraphQLWebSocketHandler
from gateway.http_cache import http_cache_policy
from gateway.observability import Observability
from gateway.persisted_queries import PersistedQueries, persisted_query_options
from gateway.request_id import RequestIdMiddleware
from gateway.services import load_profiles, open_services
from gateway.settings import Settings
from gateway.webhooks import CloudinaryWebhook
from resolvers.assets.reconcile import Reconciler, reconciling
from resolvers.leases import leases
from resolvers.readiness import rescore_products_using
from resolvers.readiness.follower import ReadinessFollower, following
from resolvers.readiness.rollout import Heartbeat, beating
from resolvers.readiness.store import rescore_stale_if_followed, rules_hash
from resolvers.services import Services
from resolvers.validation import Validator
from resolvers.workflow.scheduler import Scheduler, running
from schema.schema import CatalogSchema, build_schema

if TYPE_CHECKING:
    from demo.upload import UploadProgress

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 2.0
WEBHOOK_PATH = "/webhooks/cloudinary"


class State(TypedDict):
    services: Services
    # Who a /graphql request runs as: API keys (cached briefly), JWTs, the anonymous role.
    authenticator: Authenticator
    mongo_client: AsyncMongoClient[dict[str, Any]]
    # While the demo's pictures upload into the emulator (after start-up): how far they are.
    demo_media: UploadProgress | None


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def after_start(services: Services, *, demo_media: UploadProgress | None) -> None:
    """Work that must not delay readiness: rescoring, and the demo pictures for the emulator."""
    await refresh_stale_readiness(services)
    if demo_media is not None:
        from demo.upload import upload_demo_pictures

        await upload_demo_pictures(
            services.catalog,
            services.dam,
            services.channels,
            services.locales,
            services.clock,
            progress=demo_media,
        )


async def refresh_stale_readiness(services: Services) -> None:
    """Score products whose stored readiness predates the current channel profiles.

    Runs in the background so start-up stays fast; replicas starting together may do the same
    work twice, which is harmless (the results are identical).
    """
    try:
        # Products never scored (a new catalog) are not news about the channel profiles.
        unscored = await services.catalog.products.count_documents(
            {"readiness": {"$exists": False}}
        )
        count = await rescore_stale_if_followed(
            services.catalog, services.channels, services.locales, services.clock()
        )
    except PyMongoError:
        # Serving goes on with the old scores; the next start (or `readiness refresh`) retries.
        log.exception("recomputing stale readiness scores failed")
        return
    if count is None:
        # A rolling deploy: the replicas of the adopted rules (or a majority) decide.
        log.info("stored readiness follows other channel profiles; this replica leaves it be")
        return
    changed = max(0, count - unscored)
    if count - changed:
        log.info("readiness scored for %d products that had no stored scores", count - changed)
    if changed:
        log.info("readiness recomputed for %d products (channel profiles changed)", changed)


def reconciler(settings: Settings, services: Services) -> Reconciler:
    """The sweep of Cloudinary for changes no notification brought (resolvers.assets.reconcile);
    it rescores itself only where no readiness follower rescores from the mirror's writes."""

    async def rescore(public_ids: list[str]) -> None:
        await rescore_products_using(
            services.catalog, services.channels, services.locales, services.clock(), public_ids
        )

    return Reconciler(
        services.catalog,
        services.dam,
        calls_per_hour=settings.dam_reconcile_calls_per_hour,
        every=timedelta(seconds=settings.dam_reconcile_every_s),
        rescore=None if settings.readiness_follower else rescore,
    )


def create_app(settings: Settings, schema: CatalogSchema | None = None) -> Starlette:
    """Build the gateway for ``settings``; nothing is connected until the lifespan starts."""
    schema = schema or build_schema()
    # Read and checked now: a bad channels.toml stops the process before it serves.
    profiles = load_profiles(settings)
    subscriptions = event_subscriptions(settings, profiles)
    # Metrics (CATALOG_METRICS) and traces (an OTLP endpoint); when both are off, nothing.
    observability = Observability(
        settings, paths=[WEBHOOK_PATH, "/graphql", "/healthz", "/readyz", "/"]
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        async with AsyncExitStack() as stack:
            opened = await stack.enter_async_context(
                open_services(settings, profiles, role="serve", listeners=observability.listeners())
            )
            services = opened.services
            observability.start(services)
            stack.callback(observability.stop)
            assert services.api_keys is not None  # a serving process always has its key store
            authentication = authenticator(settings, services.api_keys, profiles.roles)
            if settings.demo:
                from demo.admin_key import ensure_demo_admin_key
                from demo.seeding import seed_demo_if_empty

                await seed_demo_if_empty(
                    services.catalog,
                    products=settings.demo_products,
                    locales=settings.locales,
                    validator=Validator(profiles.validation),
                )
                await ensure_demo_admin_key(services.api_keys, settings.data_dir)
                from demo.workflow import publish_demo

                # The seed's published products on every channel, and each workflow state.
                await publish_demo(
                    services.catalog, services.channels, services.locales, services.clock()
                )
            # A plain task, not a task group: servers may run start-up and shut-down of the
            # lifespan in different tasks, which a cancel scope does not allow.
            demo_media = None
            if settings.demo and settings.cloudinary_url is None:
                from demo.upload import UploadProgress

                demo_media = UploadProgress()
            refresh = asyncio.create_task(after_start(services, demo_media=demo_media))
            stack.push_async_callback(_cancel, refresh)
            if services.workflow is not None:
                # Scheduled publications: every replica polls, the lease holder fires.
                scheduler = Scheduler(
                    services.workflow,
                    leases(services.catalog.db),
                    poll=timedelta(seconds=settings.schedule_poll_s),
                )
                await stack.enter_async_context(running(scheduler))
            await start_event_worker(stack, settings, subscriptions, services.catalog.db)
            if settings.cache_invalidation:
                invalidation = CacheInvalidation(
                    services.catalog.db,
                    forget_key=authentication.forget,
                    forget_safelist=graphql.persisted.forget_safelist,
                    forget_dashboards=services.dashboards.clear,
                )
                await stack.enter_async_context(invalidating(invalidation))
            if settings.readiness_follower:
                # This replica's rules in MongoDB: the follower follows while stored scores
                # follow them (resolvers.readiness.rollout).
                heartbeat = Heartbeat(
                    services.catalog.db,
                    rules_hash(services.channels),
                    interval=timedelta(seconds=settings.replica_heartbeat_s),
                )
                await stack.enter_async_context(beating(heartbeat))
                follower = ReadinessFollower(
                    services.catalog,
                    services.channels,
                    services.locales,
                    clock=services.clock,
                    rules=heartbeat,
                )
                await stack.enter_async_context(following(follower))
            if settings.dam_reconcile:
                await stack.enter_async_context(reconciling(reconciler(settings, services)))
            log.info("catalog gateway ready on database %r", settings.db)
            yield {
                "services": services,
                "authenticator": authentication,
                "mongo_client": opened.client,
                "demo_media": demo_media,
            }

    graphql = GraphQLHTTPHandler(
        schema,
        settings.max_body_bytes,
        settings.max_upload_bytes,
        cache=http_cache_policy(settings),
        persisted=PersistedQueries(persisted_query_options(settings)),
        max_query_cost=settings.max_query_cost,
    )
    webhook = CloudinaryWebhook(settings.webhook_max_age_s)
    routes = [
        Route(WEBHOOK_PATH, webhook.handle, methods=["POST"]),
        Route("/graphql", graphql.handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        WebSocketRoute("/graphql", GraphQLWebSocketHandler(graphql).handle),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/readyz/writes", readyz_writes, methods=["GET"]),
        Route("/", index, methods=["GET"]),
        Route(ASSET_PREFIX + "{path:path}", graphiql_asset, methods=["GET"]),
    ]
    routes += observability.routes()
    if settings.console:
        routes += console_routes()
    # Inside RequestIdMiddleware (its span and metrics have the request id), outside the
    # others: the access log's time and the client limits' 408 and 429 are in them.
    middleware = [Middleware(RequestIdMiddleware), *observability.middleware()]
    if settings.access_log:
        # Inside RequestIdMiddleware: it logs the request id. The notifications of the
        # gateway's own emulator are its plumbing, logged only when they fail.
        quiet = frozenset({WEBHOOK_PATH} if settings.cloudinary_url is None else ())
        middleware.append(Middleware(AccessLogMiddleware, quiet_paths=quiet))
    # Innermost: its 408 and 429 answers carry the request id and reach the access log.
    middleware.append(
        Middleware(
            ClientLimitsMiddleware,
            body_timeout_s=settings.body_timeout_s,
            upload_timeout_s=settings.upload_timeout_s,
            max_requests_per_client=settings.max_requests_per_client,
        )
    )
    cors = cors_policy(settings)
    if cors.enabled:
        # Outermost: every answer (401, 429 and 408 included) carries the headers a browser
        # needs to let the page read it, and a preflight costs nothing else.
        middleware.insert(0, cors_middleware(cors))
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.observability = observability  # benchmarks/edge_cost.py flushes its spans
    if settings.console:
        app.state.console = console(settings)
    return app


async def healthz(request: Request) -> Response:
    """The process is up and serving HTTP."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready while requests' reads can be served: replicas not ready leave the load balancer.

    With the default read preference (``primaryPreferred``) a secondary serves reads while the
    replica set elects a primary, so the gateway stays ready and says ``"writes":
    "unavailable"`` (``/readyz/writes`` answers 503 then); with ``primary`` it needs the
    primary. While the demo's pictures upload into the emulator the gateway is ready all the
    same (the API answers, with placeholders for what has not arrived); ``demoMedia`` says how
    far they are.
    """
    services: Services = request.state.services
    preference = services.read_catalog.db.read_preference
    hello = await _hello(request, preference)
    if hello is None:
        return JSONResponse(
            {"status": "unavailable", "reason": "MongoDB unreachable"}, status_code=503
        )
    writable = _writable(hello)
    if not writable and preference.mode == 0:  # reads need the primary (read preference primary)
        return JSONResponse({"status": "unavailable", "reason": "no primary"}, status_code=503)
    body: dict[str, Any] = {"status": "ready", "writes": "ok" if writable else "unavailable"}
    demo_media: UploadProgress | None = getattr(request.state, "demo_media", None)
    if demo_media is not None and demo_media.uploading:
        body["demoMedia"] = demo_media.as_dict()
    return JSONResponse(body)


async def readyz_writes(request: Request) -> Response:
    """Whether writes can be served now: a primary answers (for checks that write)."""
    hello = await _hello(request, Primary())
    if hello is None or not _writable(hello):
        return JSONResponse({"status": "unavailable", "reason": "no primary"}, status_code=503)
    return JSONResponse({"status": "ready"})


async def _hello(request: Request, preference: _ServerMode) -> dict[str, Any] | None:
    client: AsyncMongoClient[dict[str, Any]] = request.state.mongo_client

    async def ask() -> dict[str, Any]:
        try:
            return await client.admin.command("hello", read_preference=preference)
        except ConnectionFailure:
            # A member stepping down closes every connection: the pooled one this took may
            # be one of them, while the member (or another) answers on a new one.
            return await client.admin.command("hello", read_preference=preference)

    try:
        return await asyncio.wait_for(ask(), READY_TIMEOUT_S)
    except (PyMongoError, TimeoutError) as exc:
        # The topology (hosts, replica set) is for the logs, not for anonymous callers.
        log.warning("not ready: %s", exc)
        return None


def _writable(hello: dict[str, Any]) -> bool:
    """A primary answered, or a member that knows one (a secondary names it), or mongos."""
    return bool(
        hello.get("isWritablePrimary") or hello.get("primary") or hello.get("msg") == "isdbgrid"
    )
