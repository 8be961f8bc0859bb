"""The event hub: fan-out of workflow events to subscribers, in one process or across many.

One interface, two backends. `MemoryHub` serves the embedded default. `RedisHub`
publishes on a Redis channel and runs one listener task per process, so an
event published by any API process or worker reaches subscribers everywhere.
Each subscriber has a bounded queue; one that falls behind is closed rather
than allowed to grow memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from services.events import Event, EventType

log = logging.getLogger(__name__)
CHANNEL = "ccms:events"


class SubscriberTooSlow(Exception):
    """The subscriber's queue overflowed; it must reconnect and refetch."""


class Subscription:
    def __init__(self, hub: MemoryHub, max_queue: int) -> None:
        self.hub = hub
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(max_queue)
        self.overflowed = False

    def offer(self, event: Event) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self.hub.detach(self)
            # Make room for the end marker so the consumer wakes up and fails.
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.queue.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[Event]:
        try:
            while True:
                event = await self.queue.get()
                if event is None:
                    raise SubscriberTooSlow("subscriber fell behind; reconnect and refetch")
                yield event
        finally:
            self.hub.detach(self)


class MemoryHub:
    """In-process fan-out (the embedded default)."""

    def __init__(self, max_queue: int = 256) -> None:
        self.max_queue = max_queue
        self.subscriptions: set[Subscription] = set()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        for subscription in list(self.subscriptions):
            subscription.queue.put_nowait(None)
        self.subscriptions.clear()

    def subscribe(self) -> Subscription:
        subscription = Subscription(self, self.max_queue)
        self.subscriptions.add(subscription)
        return subscription

    def detach(self, subscription: Subscription) -> None:
        self.subscriptions.discard(subscription)

    def deliver(self, event: Event) -> None:
        for subscription in list(self.subscriptions):
            subscription.offer(event)

    async def publish(self, event: Event) -> None:
        self.deliver(event)


class RedisHub(MemoryHub):
    """Redis pub/sub across processes. Pub/sub is at-most-once: after a reconnect every
    local subscriber receives RESYNC so clients refetch from the database."""

    def __init__(
        self, url: str, max_queue: int = 256, retry_seconds: float = 0.5, listen: bool = True
    ) -> None:
        super().__init__(max_queue)
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)
        self.retry_seconds = retry_seconds
        self.listen = listen
        self.listener: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    async def start(self) -> None:
        if self.listen:  # publishers only (workers, scheduler) need no listener
            self.listener = asyncio.create_task(self._listen(), name="ccms-event-listener")
            await asyncio.wait_for(self.ready.wait(), timeout=10)

    async def stop(self) -> None:
        if self.listener:
            self.listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.listener
        await self.redis.aclose()
        await super().stop()

    async def publish(self, event: Event) -> None:
        try:
            await self.redis.publish(CHANNEL, event.to_json())
        except Exception:
            log.warning("could not publish %s; subscribers will resync", event.type, exc_info=True)

    async def _listen(self) -> None:
        connected_before = False
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                if connected_before:
                    self.deliver(Event(EventType.RESYNC))
                connected_before = True
                self.ready.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.deliver(Event.from_json(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("event listener lost Redis; reconnecting", exc_info=True)
                await asyncio.sleep(self.retry_seconds)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
