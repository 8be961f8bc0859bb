"""The app's lifespan and its /graphql WebSocket, driven over ASGI on the test's own event loop.

Why not Starlette's `TestClient(app)` (what STACK-NOTES suggests): it runs the app in a portal
thread on a second event loop. The session-wide Tortoise connection belongs to the test loop:
Tortoise notices the switch and warns (TortoiseLoopSwitchWarning, an error under our
filterwarnings) before reconnecting, on SQLite and PostgreSQL alike. The MemoryHub the
lifespan starts would live on the portal's loop too, while the services, called by the test,
publish into its asyncio queues from the test's thread, which asyncio does not support. (In
Starlette 1.10 the TestClient also warns unless `httpx2` is installed.) httpx-ws would do, but
is not a dependency, and the ASGI messages a server exchanges with an app are few: they are
spoken here directly. The real app runs (middleware, routing, lifespan with hub and in-process
jobs, strawberry's graphql-transport-ws handler, our `on_ws_connect`), on one loop, with the
database connection the test uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from api.graphql import GraphQLView
from core.hub import MemoryHub
from services.access import Actor
from services.live.events import Event, EventType
from tests.conftest import token_for

PROTOCOL = "graphql-transport-ws"
WAIT = 5.0  # seconds: the bound on every wait; deliveries take milliseconds
Message = MutableMapping[str, Any]  # an ASGI message


class Closed(Exception):
    """The app closed the WebSocket, or refused the handshake."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code, self.reason = code, reason


def hub_of(app: Starlette) -> MemoryHub:
    """The hub the lifespan handed to the /graphql view."""
    view = next(route.endpoint for route in app.routes if isinstance(route, WebSocketRoute))
    assert isinstance(view, GraphQLView) and view.hub is not None, "the app's lifespan is not running"
    return view.hub


@contextlib.asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[MemoryHub]:
    """The app's lifespan, through the ASGI lifespan protocol as uvicorn speaks it."""
    to_app: asyncio.Queue[Message] = asyncio.Queue()
    from_app: asyncio.Queue[Message] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    task = asyncio.create_task(app(scope, to_app.get, from_app.put))
    await to_app.put({"type": "lifespan.startup"})
    started = await asyncio.wait_for(from_app.get(), WAIT)
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield hub_of(app)
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        stopped = await asyncio.wait_for(from_app.get(), WAIT)
        await asyncio.wait_for(task, WAIT)
        assert stopped["type"] == "lifespan.shutdown.complete", stopped


class Socket:
    """One WebSocket to /graphql, seen from the server's side of the ASGI interface."""

    def __init__(self, app: Starlette, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.headers = {"host": "ccms.test", "sec-websocket-protocol": PROTOCOL, **(headers or {})}
        self.to_app: asyncio.Queue[Message] = asyncio.Queue()
        self.from_app: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.closed: Closed | None = None

    async def open(self) -> None:
        """The handshake; raises Closed when the app refuses it."""
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "scheme": "ws",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": [(k.encode(), v.encode()) for k, v in self.headers.items()],
            "subprotocols": [PROTOCOL],
            "client": ("127.0.0.1", 50000),
            "server": ("ccms.test", 80),
            "state": {},
        }
        self.task = asyncio.create_task(self.app(scope, self.to_app.get, self.from_app.put))
        await self.to_app.put({"type": "websocket.connect"})
        accepted = await self._next()
        assert (accepted["type"], accepted["subprotocol"]) == ("websocket.accept", PROTOCOL), accepted

    async def send(self, message: dict[str, Any]) -> None:
        await self.to_app.put({"type": "websocket.receive", "text": json.dumps(message)})

    async def receive(self, timeout: float = WAIT) -> dict[str, Any]:
        """The next graphql-transport-ws message; raises Closed if the app closed instead."""
        message = await self._next(timeout)
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])

    async def close_code(self) -> int:
        """Wait for the app to close the socket; any message before that fails the test."""
        with contextlib.suppress(Closed):
            unexpected = await self.receive()
            raise AssertionError(f"expected the socket to close, got {unexpected}")
        assert self.closed is not None
        return self.closed.code

    async def _next(self, timeout: float = WAIT) -> Message:
        if self.closed:
            raise self.closed
        message = await asyncio.wait_for(self.from_app.get(), timeout)
        if message["type"] == "websocket.close":
            self.closed = Closed(message.get("code", 1000), message.get("reason") or "")
            raise self.closed
        return message

    async def disconnect(self) -> None:
        """The client goes away; the app's handler must wind up promptly."""
        if self.task is not None:
            await self.to_app.put({"type": "websocket.disconnect", "code": 1000})
            await asyncio.wait_for(self.task, WAIT)
            self.task = None


@contextlib.asynccontextmanager
async def opened(app: Starlette, headers: dict[str, str] | None = None) -> AsyncIterator[Socket]:
    """An accepted WebSocket, not yet initialised; disconnected on the way out."""
    socket = Socket(app, headers)
    try:
        await socket.open()
        yield socket
    finally:
        await socket.disconnect()


def bearer(actor: Actor) -> dict[str, str]:
    """The connection_init payload a browser client sends."""
    return {"authorization": f"Bearer {token_for(actor)}"}


class Live:
    """A graphql-transport-ws client on an acknowledged connection, for one viewer."""

    def __init__(self, app: Starlette, socket: Socket) -> None:
        self.app, self.socket = app, socket
        self.operations: list[str] = []  # those not completed
        self.started = 0

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        """Start a subscription and wait until it listens on the hub, so it misses no event."""
        hub = hub_of(self.app)
        listening = len(hub.subscriptions)
        operation = await self.start(query, variables)
        async with asyncio.timeout(WAIT):
            while len(hub.subscriptions) <= listening:
                await asyncio.sleep(0.002)
        return operation

    async def start(self, query: str, variables: dict[str, Any] | None = None) -> str:
        """Send a subscribe message and return its id, without waiting for anything."""
        self.started += 1
        operation = str(self.started)
        self.operations.append(operation)
        payload = {"query": query, "variables": variables or {}}
        await self.socket.send({"type": "subscribe", "id": operation, "payload": payload})
        return operation

    async def receive(self, timeout: float = WAIT) -> dict[str, Any]:
        message = await self.socket.receive(timeout)
        if message["type"] in ("complete", "error"):
            self.operations.remove(message["id"])
        return message

    async def until_resync(self) -> list[dict[str, Any]]:
        """What the subscriptions delivered before each received a Resync (which is left out).

        The barrier the tests rely on to show that nothing else was delivered: the hub queues
        events for a subscriber in order and each subscription handles them in order, so once
        a Resync published after the events arrives, every earlier event was sent or dropped.
        """
        delivered: list[dict[str, Any]] = []
        waiting = set(self.operations)
        while waiting:
            message = await self.receive()
            assert message["type"] == "next" and "errors" not in message["payload"], message
            [data] = message["payload"]["data"].values()
            if data["__typename"] == "Resync":
                waiting.remove(message["id"])
            else:
                delivered.append(data)
        return delivered


@contextlib.asynccontextmanager
async def connected(app: Starlette, actor: Actor, language: str | None = None) -> AsyncIterator[Live]:
    """A connection acknowledged for `actor`, whose token travels in connection_init (with the
    `language` of its texts, when given)."""
    async with opened(app) as socket:
        payload = bearer(actor) | ({"language": language} if language else {})
        await socket.send({"type": "connection_init", "payload": payload})
        ack = await socket.receive()
        assert ack == {"type": "connection_ack", "payload": {"user": actor.username}}, ack
        yield Live(app, socket)


async def drain(hub: MemoryHub, *lives: Live) -> list[list[dict[str, Any]]]:
    """Publish a RESYNC now; return what each viewer's subscriptions delivered before it."""
    hub.deliver(Event(EventType.RESYNC))
    return [await live.until_resync() for live in lives]
