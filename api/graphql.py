"""The /graphql endpoint: strawberry's ASGI view with our context, speaking GraphQL over HTTP.

A client that asks for `application/graphql-response+json` gets the spec's answer: that
media type, and a request error (unparsable document, failed validation, bad variables)
comes back as 400 without a `data` entry. Every other client gets stock strawberry:
`application/json`, status 200 and `"data": null`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from api import console
from api.auth import bearer_token, session_user
from api.outage import DatabaseUnavailable
from core.db import unavailable
from core.hub import MemoryHub
from core.logs import note_user
from core.settings import Settings
from schema.context import Context
from schema.errors import localise
from services.access import Actor
from services.compliance.documents import FileStore
from services.i18n.languages import negotiate, supported
from services.identity import tokens
from services.identity.users import actor_for_token, still_valid

log = logging.getLogger(__name__)
# graphql-transport-ws: "Unauthorized". graphql-ws clients treat it as final (no reconnect).
SESSION_ENDED = 4401

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def response_media_type(accept: str | None) -> str:
    """GRAPHQL_RESPONSE when the Accept header names it at least as gladly as JSON, else JSON.

    Only an explicit mention counts: `*/*`, a missing header and legacy clients keep JSON.
    """
    graphql_q = json_q = 0.0
    for entry in (accept or "").split(","):
        media_type, *params = (part.strip().lower() for part in entry.split(";"))
        q = next((_quality(p[2:]) for p in params if p.startswith("q=")), 1.0)
        if media_type == GRAPHQL_RESPONSE:
            graphql_q = max(graphql_q, q)
        elif media_type in (JSON, "application/*", "*/*"):
            json_q = max(json_q, q)
    return GRAPHQL_RESPONSE if graphql_q > 0 and graphql_q >= json_q else JSON


def _quality(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0


def is_request_error(result: ExecutionResult) -> bool:
    """Nothing was executed: the document did not parse or validate, or the variables did not coerce.

    Errors raised while executing fields carry a path; these never do.
    """
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: Any, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            multipart_uploads_enabled=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # Pages on the CORS origins may also open the WebSocket (strawberry refuses
            # cross-origin handshakes unless listed here).
            allowed_origins=settings.cors_origins,
        )
        self.settings = settings
        self.files = FileStore(settings.upload_dir, settings.upload_max_bytes)
        self.hub: MemoryHub | None = None  # set by the app's lifespan

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        user = await session_user(request, self.settings.secret_key)
        return Context(
            settings=self.settings,
            files=self.files,
            actor=Actor.of(user) if user else None,
            user=user,
            request=request,
            response=response,
            hub=self.hub,
            language=negotiate(request.headers.get("accept-language"), self.settings.language),
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        # strawberry's page loads React and GraphiQL from a CDN; ours is built from web/.
        return console.page(console.GRAPHIQL)

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        """Authenticate a WebSocket from its connection_init payload (browsers cannot set
        headers there): {"authorization": "Bearer <token>", "language": "en"}. No valid token,
        no connection. `language` (a language tag) chooses the language of the texts sent on
        this connection; without it the handshake's Accept-Language or CCMS_LANGUAGE does."""
        params = context.connection_params or {}
        context.language = supported(str(params.get("language") or "")) or context.language
        token = bearer_token(str(params.get("authorization") or params.get("Authorization") or ""))
        if token:
            context.actor = await actor_for_token(token, self.settings.secret_key)
            note_user(context.actor.user_id if context.actor else None)
            context.claims = tokens.claims_from(token, self.settings.secret_key)
        if context.actor is None or context.hub is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        return {"user": context.actor.username}

    async def run(  # type: ignore[override]  # one signature for strawberry's two overloads
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        if not isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        # A WebSocket outlives the token it signed in with: watch the session meanwhile.
        context = await self.get_context(request, request) if context is UNSET else context
        watcher = asyncio.create_task(self._close_when_session_ends(request, context))
        try:
            return await super().run(request, context, root_value)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _close_when_session_ends(self, websocket: WebSocket, context: Context) -> None:
        """Close the connection with 4401 once its token expires, or within
        CCMS_SESSION_CHECK_SECONDS of its user's deactivation, password change or change of
        role, region or enterprise: the subscriptions were authorised for who the user was."""
        interval = self.settings.session_check_seconds
        while True:
            claims = context.claims
            left = (claims.expires_at - datetime.now(UTC)).total_seconds() if claims else interval
            await asyncio.sleep(max(0.0, min(interval, left)))
            claims = context.claims
            if claims is None:  # not signed in yet (strawberry times out a silent connection)
                continue
            try:
                ended = claims.expires_at <= datetime.now(UTC) or not await still_valid(
                    claims.user_id, claims.session_version
                )
            except Exception:  # the database is away: keep the connection, check again later
                log.warning("Could not re-check a WebSocket's session", exc_info=True)
                continue
            if ended:
                with contextlib.suppress(RuntimeError, OSError):  # already closing, or gone
                    await websocket.close(SESSION_ENDED, "Session ended: sign in again")
                return

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        # The per-request response carries the negotiated media type on to create_response.
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = response_media_type(request.headers.get("accept"))
        return sub_response

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        if any(
            error.original_error is not None and unavailable(error.original_error)
            for error in result.errors or ()
        ):
            # Not "Unexpected error.": the whole request is answered 503 (api/outage.py).
            raise DatabaseUnavailable
        localise(
            result.errors or [], negotiate(request.headers.get("accept-language"), self.settings.language)
        )
        response = await super().process_result(request, result)
        if (
            is_request_error(result)
            and response_media_type(request.headers.get("accept")) == GRAPHQL_RESPONSE
        ):
            del response["data"]
        return response

    def encode_json(self, data: object) -> str:
        # orjson is several times faster than json on a response's dicts, and, like
        # ensure_ascii=False, keeps Chinese names readable (JSON is UTF-8 either way). It refuses
        # integers beyond 64 bits, which json writes. Text, not bytes: the WebSocket protocol
        # sends what this returns, and graphql-transport-ws speaks in text frames.
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if sub_response.media_type == GRAPHQL_RESPONSE:
            response.headers["content-type"] = GRAPHQL_RESPONSE
            if (
                isinstance(response_data, dict)
                and "data" not in response_data
                and not sub_response.status_code
            ):
                response.status_code = 400
        return response
