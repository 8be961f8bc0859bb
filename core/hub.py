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
from collections.abc import AsyncIterator, Callable

from services.live.events import Event, EventType

log = logging.getLogger(__name__)
CHANNEL = "ccms:events"


class SubscriberTooSlow(Exception):
    """The subscriber's queue overflowed; it must reconnect and refetch."""


class Subscription:
    def __init__(self, hub: MemoryHub, max_queue: int, wants: Callable[[Event], bool] | None = None) -> None:
        self.hub = hub
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(max_queue)
        self.overflowed = False
        self.wants = wants

    def offer(self, event: Event) -> None:
        # Events the subscriber would drop never take a place in its queue.
        if self.overflowed or (self.wants is not None and not self.wants(event)):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self.hub.detach(self)
            self.end()

    def end(self) -> None:
        """Wake the consumer with the end marker, making room for it in a full queue."""
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[Event]:
        try:
            while True:
                event = await self.queue.get()
                if event is None:
                    if self.overflowed:
                        raise SubscriberTooSlow("subscriber fell behind; reconnect and refetch")
                    return  # the hub is stopping: end the stream cleanly
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
            subscription.end()  # a full queue must not stop the shutdown (QueueFull)
        self.subscriptions.clear()

    def subscribe(self, wants: Callable[[Event], bool] | None = None) -> Subscription:
        """`wants` filters events before they are queued (RESYNC is always delivered)."""
        subscription = Subscription(
            self, self.max_queue, None if wants is None else lambda e: e.type == EventType.RESYNC or wants(e)
        )
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
    local subscriber receives RESYNC so clients refetch from the database.

    Publishing is never silently lossy either. After a Redis restart the first publish fails
    on a stale pooled connection; it is retried on a fresh one (`publish_attempts`). An event
    that still cannot be published is replaced by RESYNC: at once for this process's
    subscribers, and on the channel, before the next event that does get through, for
    everyone else's."""

    def __init__(
        self,
        url: str,
        max_queue: int = 256,
        retry_seconds: float = 0.5,
        listen: bool = True,
        publish_attempts: int = 3,
    ) -> None:
        super().__init__(max_queue)
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)
        # Pub/sub channels ignore the database number: without it in the name, deployments
        # sharing a Redis server on different databases would receive each other's events.
        db = int(self.redis.connection_pool.connection_kwargs.get("db") or 0)
        self.channel = CHANNEL if db == 0 else f"{CHANNEL}:{db}"
        self.retry_seconds = retry_seconds
        self.publish_attempts = publish_attempts
        self.unannounced_loss = False  # an event was lost: RESYNC goes out before the next one
        self.listen = listen
        self.listener: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    async def start(self) -> None:
        if self.listen:  # publishers only (workers, scheduler) need no listener
            self.listener = asyncio.create_task(self._listen(), name="ccms-event-listener")
            try:
                await asyncio.wait_for(self.ready.wait(), timeout=10)
            except TimeoutError:
                await self.stop()  # do not leave the listener retrying behind a failed start
                raise RuntimeError("Redis did not answer within 10 s; check REDIS_URL") from None

    async def stop(self) -> None:
        if self.listener:
            self.listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.listener
        await self.redis.aclose()
        await super().stop()

    async def publish(self, event: Event) -> None:
        for attempt in range(1, self.publish_attempts + 1):
            try:
                if self.unannounced_loss:
                    await self.redis.publish(self.channel, Event(EventType.RESYNC).to_json())
                    self.unannounced_loss = False
                await self.redis.publish(self.channel, event.to_json())
                return
            except Exception:
                # redis-py drops a connection that failed; the next attempt opens a new one.
                log.warning("could not publish %s (attempt %d)", event.type, attempt, exc_info=True)
                if attempt < self.publish_attempts:
                    await asyncio.sleep(self.retry_seconds * (attempt - 1))
        log.warning("%s lost: sending RESYNC to subscribers", event.type)
        self.unannounced_loss = True
        self.deliver(Event(EventType.RESYNC))

    def _deliver_raw(self, raw: bytes) -> None:
        # One bad message (say, a new event type from a newer process mid-deploy) is skipped:
        # treated as a lost connection it would resubscribe, drop events and RESYNC everyone.
        try:
            event = Event.from_json(raw)
        except (ValueError, TypeError, KeyError):
            log.warning("ignoring an unreadable event on %s: %.200r", self.channel, raw, exc_info=True)
            return
        self.deliver(event)

    async def _listen(self) -> None:
        connected_before = False
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if connected_before:
                    self.deliver(Event(EventType.RESYNC))
                connected_before = True
                self.ready.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._deliver_raw(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("event listener lost Redis; reconnecting", exc_info=True)
                await asyncio.sleep(self.retry_seconds)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
