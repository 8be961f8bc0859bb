"""Dramatiq on Redis: the broker, built from Settings, and the services' job dispatcher on it.

A job's message names its actor, so a process that only sends jobs (the API, `ccms scheduler`)
needs the broker but not the actors: `ccms worker` declares those (workers/actors.py), one per
job of services.live.catalog, all on QUEUE.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from core.settings import Settings
from services.live.jobs import Dispatcher

QUEUE = "default"  # dramatiq's default: every actor is on it
# The Redis broker refuses delays of 7 days or more; a job woken early reschedules itself.
MAX_DELAY_MS = 6 * 24 * 3600 * 1000


def broker_from(settings: Settings) -> dramatiq.Broker:
    """Redis when configured; otherwise a stub broker (the embedded default runs its jobs in-process)."""
    if settings.redis_url:
        return RedisBroker(url=settings.redis_url)  # type: ignore[no-untyped-call]  # dramatiq leaves it unannotated
    return StubBroker()


def dispatcher_for(broker: dramatiq.Broker) -> Dispatcher:
    """The services' job dispatcher when REDIS_URL is set: one message to the actor of the job's name."""

    async def dispatch(name: str, args: tuple[int, ...], delay_seconds: float) -> None:
        message: Message[Any] = Message(queue_name=QUEUE, actor_name=name, args=args, kwargs={}, options={})
        delay = min(int(delay_seconds * 1000), MAX_DELAY_MS) or None
        # dramatiq's Redis client is synchronous: keep it off the event loop.
        await asyncio.to_thread(broker.enqueue, message, delay=delay)

    return dispatch


def queue_depth(redis_url: str, namespace: str = "dramatiq") -> Callable[[], tuple[int, int] | None]:
    """Reads the queue's depth from Redis, for the metrics: messages ready to run (the queue's
    list), and delayed ones (the delay queue's messages, which a worker holds until they are due).
    None when Redis does not answer within a second: a scrape must not hang on it."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)

    def read() -> tuple[int, int] | None:
        try:
            ready = client.llen(f"{namespace}:{QUEUE}")
            delayed = client.hlen(f"{namespace}:{QUEUE}.DQ.msgs")
        except redis.RedisError:
            return None
        return int(ready), int(delayed)

    return read
