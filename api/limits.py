"""Refuse oversized request bodies before they are parsed or spooled to disk."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """Pure ASGI middleware: 413 when Content-Length (or the streamed body) exceeds the limit.

    `exempt` paths are left alone: their routes consume the body incrementally (CSV imports).
    `documents` gives paths a smaller limit for bodies that are not multipart: a GraphQL
    document and its variables are read and decoded whole, and nothing but an upload needs
    the upload limit (CCMS_GRAPHQL_BODY_MAX_BYTES, 2 MB by default).
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        exempt: frozenset[str] = frozenset(),
        documents: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt
        self.documents = dict(documents or {})

    def limit(self, scope: Scope, headers: Mapping[bytes, bytes]) -> int:
        document_limit = self.documents.get(scope["path"])
        if document_limit is None or headers.get(b"content-type", b"").lower().startswith(b"multipart/"):
            return self.max_bytes
        return document_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        max_bytes = self.limit(scope, headers)
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await _too_large(send, max_bytes)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await _too_large(send, max_bytes)


class BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, max_bytes: int) -> None:
    body = (
        b'{"errors":[{"message":"Request body larger than %d bytes",'
        b'"extensions":{"code":"DOCUMENT_TOO_LARGE"}}]}' % max_bytes
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
