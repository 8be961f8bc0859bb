"""The ASGI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from tortoise import Tortoise

from api import console
from api.documents import download
from api.export import STATISTICS_CSV, STATISTICS_JSON, statistics_csv, statistics_json
from api.graphql import GraphQLView
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
from core import runtime
from core.settings import Settings
from schema import build_schema

# Room for the form fields around an upload of the largest allowed size.
MULTIPART_OVERHEAD = 1024 * 1024


async def health(request: Request) -> JSONResponse:
    """Liveness and readiness: answers 503 when the database does not."""
    try:
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception:  # any failure means not ready
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "up"})


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
        Middleware(
            BodySizeLimit,
            max_bytes=settings.upload_max_bytes + MULTIPART_OVERHEAD,
            exempt=STREAMED,
        )
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
    return app
