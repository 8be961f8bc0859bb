"""Dramatiq actors: one thin actor per job of workers/jobs.py, for `ccms worker`.

Importing this module selects the broker from REDIS_URL (dramatiq binds actors to
the broker current at import time). Actors are async, so they run on the AsyncIO
middleware's event loop, where the Runtime middleware connects the database and
the event publisher when the worker boots.
"""

from __future__ import annotations

import asyncio
import os

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import AsyncIO

from services.live.catalog import JOBS, LONG_JOBS
from core.broker import setup_broker

broker = setup_broker(os.environ.get("REDIS_URL") or None)
broker.add_middleware(AsyncIO())

# Retries are dramatiq's exponential backoff; time limits keep a hung job from holding a slot.
OPTIONS = {"max_retries": 5, "min_backoff": 1000, "max_backoff": 60_000, "time_limit": 120_000}
LONG_TIME_LIMIT = 3_600_000


def _actor(name: str) -> dramatiq.Actor:
    job = JOBS[name]

    async def run(*args: int) -> None:
        await job(*args)

    run.__name__ = run.__qualname__ = name
    options = {**OPTIONS, "time_limit": LONG_TIME_LIMIT} if name in LONG_JOBS else OPTIONS
    return dramatiq.actor(run, actor_name=name, **options)


ACTORS: dict[str, dramatiq.Actor] = {name: _actor(name) for name in JOBS}


class Runtime(dramatiq.Middleware):
    """Starts the process runtime (database, event publisher, webhook config) on the
    worker's event loop once it exists, and stops it at shutdown.

    Before boot, not after: dramatiq starts its consumer and worker threads between the
    two hooks, so messages already queued would run before the database is connected.
    The AsyncIO middleware, added first, has created the event loop by then."""

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from core import runtime
        from core.settings import Settings

        get_event_loop_thread().run_coroutine(runtime.start(Settings.from_env(), listen=False))

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from core import runtime

        get_event_loop_thread().run_coroutine(runtime.stop())


broker.add_middleware(Runtime())


# The Redis broker refuses delays of 7 days or more; a job woken early reschedules itself.
MAX_DELAY_MS = 6 * 24 * 3600 * 1000


async def dispatch(name: str, args: tuple[int, ...], delay_seconds: float) -> None:
    """The services' job dispatcher when REDIS_URL is set."""
    delay = min(int(delay_seconds * 1000), MAX_DELAY_MS) or None
    # dramatiq's Redis client is synchronous: keep it off the event loop.
    await asyncio.to_thread(ACTORS[name].send_with_options, args=args, delay=delay)
