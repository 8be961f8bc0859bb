"""A database that does not answer is a 503 with a coded JSON body, on every route.

Without this, the token check on /graphql (which reads the user before GraphQL's own error
handling starts) and every other route answered Starlette's plain-text 500 while PostgreSQL was
down. The API recovers by itself once the database is back (the pool reconnects); clients are
told to retry.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.db import unavailable
from services.errors import ErrorCode

RETRY_AFTER_SECONDS = 5
MESSAGE = "The database is not available; try again shortly"


class DatabaseUnavailable(Exception):
    """Raised where an outage was caught and turned into something else (a GraphQL result)."""


class DatabaseOutage:
    """Pure ASGI middleware: an outage raised before the response started becomes a 503."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception as error:
            if started or not (isinstance(error, DatabaseUnavailable) or unavailable(error)):
                raise
            await _unavailable(send, graphql=scope["path"] == "/graphql")


async def _unavailable(send: Send, *, graphql: bool) -> None:
    code = ErrorCode.SERVICE_UNAVAILABLE.value
    # /graphql answers in GraphQL's shape; the other routes in theirs (api/imports.py).
    content = (
        {"errors": [{"message": MESSAGE, "extensions": {"code": code}}]}
        if graphql
        else {"code": code, "message": MESSAGE}
    )
    body = json.dumps(content).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
