"""The Starlette application: GraphQL (HTTP and WebSocket), health probes and webhooks.

Everything with a connection (the store's client, one aiohttp session per connector) is
opened and closed by the lifespan, so a test can boot and stop the app cleanly and nothing
is created at import time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from opentelemetry.trace import TracerProvider
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute

from gateway import __version__
from gateway.auth import CUSTOMER_TOKEN_HEADER
from gateway.catalog import refresh_when_ready
from gateway.graphiql import PREFIX as GRAPHIQL_ASSETS
from gateway.limits import BodySizeLimit
from gateway.report.page import demo_report
from gateway.runtime import build_runtime
from gateway.settings import Settings, StartupError
from gateway.store import start_store
from resolvers.context import Services
from resolvers.health import health_report

log = logging.getLogger("omnigate.app")


def create_app(
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    on_started: Callable[[], None] | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Starlette:
    """``tracer_provider``: where the app's spans go, instead of what the settings say (see
    :mod:`gateway.tracing`); the caller shuts it down."""
    settings = settings or Settings()
    problems = settings.startup_problems()
    if problems:
        raise StartupError(problems)
    runtime = build_runtime(
        settings, version=__version__, services=services, tracer_provider=tracer_provider
    )
    services, scheduler = runtime.services, runtime.scheduler
    stock_scheduler = runtime.stock_scheduler

    async def metrics(request: Request) -> Response:
        return Response(runtime.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    async def readyz(request: Request) -> JSONResponse:
        report = await health_report(services)
        body = {
            "ready": report.ready,
            "store": {"kind": report.store_kind, "reachable": report.store_reachable},
            "connectors": {c.name: c.circuit for c in report.connectors},
            "webhooks": {"deadLetters": report.dead_letters},
        }
        return JSONResponse(body, status_code=200 if report.ready else 503)

    async def root(request: Request) -> RedirectResponse:
        return RedirectResponse("/graphql")

    store_ready = asyncio.Event()
    catalog_ready = asyncio.Event()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # A store that is down does not stop the gateway: see gateway.store.start_store.
        store_retry = await start_store(
            services.store, retry_every=settings.mongodb_init_retry_seconds, ready=store_ready
        )
        await services.connectors.start()
        catalog = asyncio.create_task(refresh_when_ready(services, store_ready, catalog_ready))
        if runtime.stock_feed is not None:
            runtime.stock_feed.start()
        sync_on_start = settings.sync_on_start
        if sync_on_start is None:
            sync_on_start = settings.demo_mode and len(services.connectors) > 0
        scheduler.start(backfill=sync_on_start)
        stock_scheduler.start(store_ready=store_ready)
        runtime.sweeper.start()
        runtime.loyalty_sync.start()
        runtime.expiry.start()
        runtime.segment_sweeper.start()
        if on_started is not None:
            on_started()
        try:
            yield
        finally:
            await scheduler.stop()
            await stock_scheduler.stop()
            catalog.cancel()
            await runtime.sweeper.stop()
            await runtime.expiry.stop()
            await runtime.segment_sweeper.stop()
            await runtime.loyalty_sync.stop()
            if runtime.stock_feed is not None:
                await runtime.stock_feed.stop()
            if store_retry is not None and not store_retry.done():
                store_retry.cancel()
            await services.customers.wait_idle()
            await services.connectors.close()
            await services.store.close()
            # Exports the spans still buffered: blocking HTTP, so off the event loop.
            await asyncio.to_thread(runtime.tracing.shutdown)

    app = Starlette(
        routes=[
            Route("/", root),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *([Route("/metrics", metrics)] if settings.metrics_enabled else []),
            Route("/graphql", runtime.graphql, methods=["GET", "POST"], name="graphql"),
            WebSocketRoute("/graphql", runtime.graphql),
            *(
                [Route(GRAPHIQL_ASSETS + "/{path:path}", runtime.graphiql.assets.serve)]
                if runtime.graphiql is not None
                else []
            ),
            Route("/webhooks/{vendor}", runtime.webhooks.handle, methods=["POST"]),
            *([Route("/report", demo_report)] if settings.demo_mode else []),
        ],
        # CORS outermost, so that refusals (413) carry the grant and the page can read them.
        # Tokens travel in headers, never cookies: no credentials.
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_allowed_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", CUSTOMER_TOKEN_HEADER],
                max_age=600,
            ),
            Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        ],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.services = services
    app.state.settings = settings
    app.state.authenticator = runtime.authenticator
    app.state.dispatcher = runtime.dispatcher
    #: Upstream calls by connector and operation (tests and benchmarks read it).
    app.state.counter = runtime.counter
    app.state.schema = runtime.schema
    #: Set once the start-up sync (demo) has finished, or at once when there is none.
    app.state.seeded = scheduler.seeded
    #: Runs the start-up backfill and the scheduled incremental syncs.
    app.state.scheduler = scheduler
    #: Runs the stock warmup (``warmed`` is set once it has run) and the reconciliations.
    app.state.stock_scheduler = stock_scheduler
    #: Expires and settles pickup holds (``trigger()`` / ``next_pass()`` in tests).
    app.state.hold_sweeper = runtime.sweeper
    #: Loyalty figures to the email tool (``idle()`` in tests) and the expiry sweeper.
    app.state.loyalty_sync = runtime.loyalty_sync
    app.state.loyalty_expiry = runtime.expiry
    #: Re-decides saved segments' members (``trigger()`` / ``next_pass()`` in tests).
    app.state.segment_sweeper = runtime.segment_sweeper
    #: The stock journal's change-stream relay (``None`` on the in-process bus).
    app.state.stock_feed = runtime.stock_feed
    #: Set once the store is initialised (at start-up, or later if it was unreachable then).
    app.state.store_ready = store_ready
    #: Set once the start-up catalog refresh has finished (see gateway.catalog).
    app.state.catalog_ready = catalog_ready
    return app
