"""Every HTTP request measured and logged once, under a request id.

The id is the client's `X-Request-ID` when it sends a sane one (a proxy's, so one id spans both
logs), else a new one; either way it comes back in the response's `X-Request-ID`. While the
request runs, `core.logs.current_request` holds it, and authentication and the GraphQL view add
the user, the operation name and the error codes, so every log line the request causes carries
them. At the end one line, `request`, gives method, route, status and duration, and the
Prometheus counters are updated by route and GraphQL operation name.
"""

from __future__ import annotations

import json
import logging
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import metrics
from core.logs import RequestInfo, current_request, note_error

log = logging.getLogger("ccms.request")
HEADER = b"x-request-id"
# Printable, no spaces, bounded: an id goes into every log line, so a client must not be able to
# inject line breaks or megabytes into it.
_SANE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
# An error answer larger than this is not read for its code (exports and imports answer small).
_ERROR_BODY_LIMIT = 64 * 1024
# Probes and scrapes every few seconds would drown the request log; they are still counted.
_QUIET = {"/metrics", "/health", "/health/live", "/health/ready"}


class Observe:
    """ASGI middleware: request id, request log line and request metrics (HTTP only; a
    WebSocket gets its id for the lines it causes, and subscriptions are counted as they open)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER, b"")
        request_id = given.decode() if _SANE_ID.match(given) else uuid.uuid4().hex
        info = RequestInfo(request_id)
        token = current_request.set(info)
        try:
            if scope["type"] == "websocket":
                await self.app(scope, receive, send)
            else:
                await self._http(scope, receive, send, info)
        finally:
            current_request.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, info: RequestInfo) -> None:
        elapsed = metrics.timer()
        status = 500
        error_body = bytearray()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (HEADER, info.request_id.encode())]
                if status >= 400 and _is_json(message):
                    error_body.extend(b" ")  # marks "collect the body"
            elif message["type"] == "http.response.body" and 0 < len(error_body) < _ERROR_BODY_LIMIT:
                error_body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if error_body:
                _codes_from(bytes(error_body))
            route = _route(scope)
            operation = info.operation or ""
            seconds = elapsed()
            metrics.REQUESTS.labels(route, operation, str(status)).inc()
            metrics.LATENCY.labels(route, operation).observe(seconds)
            for code in info.error_codes:
                metrics.ERRORS.labels(code).inc()
            if route not in _QUIET or status >= 500:
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 1),
                    },
                )


def _is_json(message: Message) -> bool:
    for name, value in message.get("headers", []):
        if name.lower() == b"content-type":
            return b"json" in value
    return False


def _codes_from(body: bytes) -> None:
    try:
        data = json.loads(body)
    except ValueError:
        return
    if isinstance(data, dict) and isinstance(data.get("code"), str):
        note_error(data["code"])


def _route(scope: Scope) -> str:
    """The matched route's template (`/documents/{document_id}`), never the raw path: one
    label value per route keeps the metrics' cardinality bounded."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path or "/"
    return "unmatched"
