"""Heartbeats of `ccms worker` and `ccms scheduler`, kept in Redis, read by /health/ready.

Each process writes `ccms:heartbeat:<kind>:<host>:<pid>` every CCMS_HEARTBEAT_SECONDS with an
expiry of three beats, so a process that dies or hangs disappears on its own; nothing has to
unregister. Without REDIS_URL there is no worker or scheduler (the server runs the jobs and the
sweep itself), and nothing to beat.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time

from redis.asyncio import Redis

from core import metrics
from core.settings import Settings

log = logging.getLogger(__name__)
PREFIX = "ccms:heartbeat"
KINDS = ("worker", "scheduler")


def key(kind: str) -> str:
    return f"{PREFIX}:{kind}:{socket.gethostname()}:{os.getpid()}"


async def beat(redis: Redis, kind: str, ttl_seconds: int) -> None:
    now = time.time()
    await redis.set(key(kind), str(now), ex=ttl_seconds)
    metrics.HEARTBEAT.set(now)


async def run(settings: Settings, kind: str) -> None:
    """Beat until cancelled. A failed beat is logged and retried: Redis may be restarting."""
    assert settings.redis_url, "heartbeats live in Redis"
    redis = Redis.from_url(settings.redis_url)
    try:
        while True:
            try:
                await beat(redis, kind, settings.heartbeat_ttl_seconds)
            except Exception:
                log.warning("could not write the %s heartbeat", kind, exc_info=True)
            await asyncio.sleep(settings.heartbeat_seconds)
    finally:
        await redis.aclose()


async def alive(redis: Redis, kind: str) -> int:
    """How many processes of a kind have beaten within their expiry."""
    count = 0
    async for _ in redis.scan_iter(match=f"{PREFIX}:{kind}:*", count=100):
        count += 1
    return count
