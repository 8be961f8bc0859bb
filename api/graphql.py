"""The /graphql endpoint: strawberry's ASGI view with our context."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api.auth import authenticate
from api.settings import Settings
from schema.context import Context
from services.documents import FileStore


class GraphQLView(GraphQL):
    def __init__(self, schema: Any, settings: Settings) -> None:
        super().__init__(schema, graphql_ide="graphiql", multipart_uploads_enabled=True)
        self.settings = settings
        self.files = FileStore(settings.upload_dir, settings.upload_max_bytes)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket | None) -> Context:  # type: ignore[override]
        actor = await authenticate(request, self.settings.secret_key)
        return Context(settings=self.settings, files=self.files, actor=actor, request=request, response=response)
