"""Probes and metrics: /health/live, /health/ready, /health (kept for existing probes), /metrics.

- live: the process answers. A restart is the cure for a failed liveness probe, so it checks
  nothing else: a database outage must not restart every API process.
- ready: the deployment can do its work: the database answers, and with REDIS_URL, Redis does
  and at least one `ccms worker` and one `ccms scheduler` have beaten within their expiry
  (without them, alarms, deadlines and webhooks stop). 503 with the failing parts otherwise.
- /health: the database only, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise import Tortoise

from core import heartbeat, metrics, runtime
from core.settings import Settings


async def _database_up() -> bool:
    try:
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception:  # any failure means not ready
        return False
    return True


async def health(request: Request) -> JSONResponse:
    """The database answers (the probe of earlier versions; /health/ready checks more)."""
    if not await _database_up():
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "up"})


async def live(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    checks: dict[str, str] = {"database": "up" if await _database_up() else "down"}
    if settings.redis_url:
        checks |= await _redis_checks(settings.redis_url)
    ok = all(state == "up" for state in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", **checks}, status_code=200 if ok else 503)


async def _redis_checks(url: str) -> dict[str, str]:
    redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        await redis.ping()
        alive = {kind: await heartbeat.alive(redis, kind) for kind in heartbeat.KINDS}
    except Exception:
        return {"redis": "down", **{kind: "unknown" for kind in heartbeat.KINDS}}
    finally:
        await redis.aclose()
    return {"redis": "up", **{kind: "up" if n else "missing" for kind, n in alive.items()}}


async def prometheus(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    read: Callable[[], tuple[int, int] | None]
    if settings.redis_url:
        read = request.app.state.queue_depth
    else:
        jobs = runtime.current_inprocess()
        read = jobs.depth if jobs is not None else (lambda: None)
    # Off the event loop: reading the queue's depth is a blocking Redis call.
    body = await asyncio.to_thread(metrics.exposition, [metrics.QueueDepth(read)])
    return Response(body, media_type=metrics.CONTENT_TYPE)
