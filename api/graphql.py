"""The /graphql endpoint: strawberry's ASGI view with our context, speaking GraphQL over HTTP.

A client that asks for `application/graphql-response+json` gets the spec's answer: that
media type, and a request error (unparsable document, failed validation, bad variables)
comes back as 400 without a `data` entry. Every other client gets stock strawberry:
`application/json`, status 200 and `"data": null`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from api import console
from api.auth import authenticate, bearer_token
from core.hub import MemoryHub
from core.settings import Settings
from schema.context import Context
from services.compliance.documents import FileStore
from services.identity.users import actor_for_token

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
        actor = await authenticate(request, self.settings.secret_key)
        return Context(
            settings=self.settings,
            files=self.files,
            actor=actor,
            request=request,
            response=response,
            hub=self.hub,
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        # strawberry's page loads React and GraphiQL from a CDN; ours is built from web/.
        return console.page(console.GRAPHIQL)

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        """Authenticate a WebSocket from its connection_init payload (browsers cannot set
        headers there): {"authorization": "Bearer <token>"}. No valid token, no connection."""
        params = context.connection_params or {}
        token = bearer_token(str(params.get("authorization") or params.get("Authorization") or ""))
        if token:
            context.actor = await actor_for_token(token, self.settings.secret_key)
        if context.actor is None or context.hub is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        return {"user": context.actor.username}

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        # The per-request response carries the negotiated media type on to create_response.
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = response_media_type(request.headers.get("accept"))
        return sub_response

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if (
            is_request_error(result)
            and response_media_type(request.headers.get("accept")) == GRAPHQL_RESPONSE
        ):
            del response["data"]
        return response

    def encode_json(self, data: object) -> str:
        # Chinese names stay readable in raw responses; JSON is UTF-8 either way.
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
