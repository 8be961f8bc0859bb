"""A small graphql-transport-ws client over a real socket (the `websockets` package).

Every wait is bounded: `next()` takes a timeout, the handshake too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")


@dataclass
class Received:
    """One `next` payload and when it arrived (time.time(), the machine clock)."""

    data: dict[str, Any]
    at: float


class Closed(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed with {code}: {reason}")
        self.code = code
        self.reason = reason


class Subscriber:
    """One connection carrying one subscription; a reader task queues what arrives."""

    def __init__(self, url: str, token: str | None, query: str, variables: dict[str, Any] | None = None):
        self.url = url.replace("http://", "ws://", 1).rstrip("/") + "/graphql"
        self.token = token
        self.query = query
        self.variables = variables or {}
        self.ws: ClientConnection | None = None
        self.received: asyncio.Queue[Received | Closed] = asyncio.Queue()
        self.history: list[Received] = []
        self.errors: list[Any] = []
        self._pongs: asyncio.Queue[None] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, timeout: float = 10) -> dict[str, Any]:
        """Open, authenticate (connection_init payload) and wait for connection_ack."""
        self.ws = ws = await asyncio.wait_for(
            connect(self.url, subprotocols=[PROTOCOL], open_timeout=timeout, max_queue=None), timeout
        )
        payload = {"authorization": f"Bearer {self.token}"} if self.token is not None else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        try:
            ack = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        except ConnectionClosed as closed:
            rcvd = closed.rcvd
            raise Closed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "") from None
        assert ack["type"] == "connection_ack", ack
        return ack.get("payload") or {}

    async def subscribe(self, timeout: float = 10) -> None:
        """Send the subscription, then a ping: the pong proves the server has handled the
        subscribe message and started the operation (the subscribe has no ack of its own)."""
        assert self.ws is not None
        message = {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": self.query, "variables": self.variables},
        }
        await self.ws.send(json.dumps(message))
        self._reader = asyncio.create_task(self._read())
        await self.ping(timeout)

    async def start(self, timeout: float = 10) -> Subscriber:
        await self.connect(timeout)
        await self.subscribe(timeout)
        return self

    async def ping(self, timeout: float = 10) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps({"type": "ping"}))
        await asyncio.wait_for(self._pongs.get(), timeout)

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                now = time.time()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    payload = message["payload"]
                    if payload.get("errors"):
                        self.errors.append(payload["errors"])
                    item = Received(payload.get("data") or {}, now)
                    self.history.append(item)
                    self.received.put_nowait(item)
                elif kind == "error":
                    self.errors.append(message.get("payload"))
                elif kind == "ping":
                    await self.ws.send(json.dumps({"type": "pong"}))
                elif kind == "pong":
                    self._pongs.put_nowait(None)
        except ConnectionClosed:
            pass
        # The code and reason the server closed with (the asyncio client has no `close_rcvd`).
        self.received.put_nowait(Closed(self.ws.close_code, self.ws.close_reason or ""))

    async def next(self, timeout: float) -> Received:
        item = await asyncio.wait_for(self.received.get(), timeout)
        if isinstance(item, Closed):
            raise item
        return item

    async def next_matching(self, predicate: Any, timeout: float) -> Received:
        """The next payload for which predicate(data) holds, skipping others (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            item = await self.next(max(deadline - time.monotonic(), 0.001))
            if predicate(item.data):
                return item

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader


async def refused_code(url: str, token: str, timeout: float = 10) -> int | None:
    """The close code the server answers a connection_init with this token (None: accepted)."""
    subscriber = Subscriber(url, token, "")
    try:
        await subscriber.connect(timeout)
    except Closed as closed:
        return closed.code
    finally:
        await subscriber.close()
    return None
