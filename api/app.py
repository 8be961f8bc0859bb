"""The ASGI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute

from api import console
from api.documents import download
from api.export import STATISTICS_CSV, STATISTICS_JSON, statistics_csv, statistics_json
from api.graphql import GraphQLView
from api.health import health, live, prometheus, ready
from api.imports import (
    ENERGY_BATCH,
    ENERGY_CSV,
    ENTERPRISES_CSV,
    HISTORY_CSV,
    STREAMED,
    import_energy,
    import_enterprises,
    import_history,
    ingest_energy,
)
from api.limits import BodySizeLimit
from api.observe import Observe
from api.outage import DatabaseOutage
from core import runtime
from core.broker import queue_depth
from core.settings import Settings
from schema import build_schema

# Room for the form fields around an upload of the largest allowed size.
MULTIPART_OVERHEAD = 1024 * 1024


def create_app(settings: Settings | None = None, *, manage_db: bool = True) -> Starlette:
    """Build the app. `manage_db=False` leaves the database to the caller (tests)."""
    settings = settings or Settings.from_env()
    view = GraphQLView(build_schema(settings), settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        view.hub = (await runtime.start(settings, manage_db=manage_db)).hub
        try:
            yield
        finally:
            view.hub = None
            await runtime.stop(manage_db=manage_db)

    middleware = [
        # Outermost: the request id and the measurements cover everything below, outages too.
        Middleware(Observe),
        Middleware(DatabaseOutage),
        Middleware(
            BodySizeLimit,
            max_bytes=settings.upload_max_bytes + MULTIPART_OVERHEAD,
            exempt=STREAMED,
            documents={"/graphql": settings.graphql_body_max_bytes},
        ),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_headers=["authorization", "content-type"],
                allow_methods=["GET", "POST"],
            )
        )
    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/health/live", live),
            Route("/health/ready", ready),
            Route("/metrics", prometheus),
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/documents/{document_id}", download),
            Route(HISTORY_CSV, import_history, methods=["POST"]),
            Route(ENERGY_CSV, import_energy, methods=["POST"]),
            Route(ENTERPRISES_CSV, import_enterprises, methods=["POST"]),
            Route(ENERGY_BATCH, ingest_energy, methods=["POST"]),
            Route(STATISTICS_CSV, statistics_csv),
            Route(STATISTICS_JSON, statistics_json),
            *console.routes(),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.queue_depth = queue_depth(settings.redis_url) if settings.redis_url else None
    return app
