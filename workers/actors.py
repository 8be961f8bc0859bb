"""Dramatiq actors for `ccms worker`: one per job of services.live.catalog, thin, taking ids.

Each calls the service function its job names in the catalogue, which the embedded server runs
in-process instead (tests/workers/test_actors.py holds the two together). Importing this module
sets up the broker from Settings first: dramatiq binds an actor to the broker current when it is
declared. Actors are async, so they run on the AsyncIO middleware's event loop, where the Runtime
middleware connects the database when the worker boots.
"""

from __future__ import annotations

from typing import TypedDict

import dramatiq
from dramatiq.middleware import AsyncIO

from core.broker import broker_from
from core.settings import Settings
from services.compliance import alarms, deadlines
from services.energy import aggregates, factors
from services.live import sweep as sweeping
from services.live import webhooks
from services.verification import overdue
from workers.middleware import JobMetrics, OneStopPerSignal, Runtime

settings = Settings.from_env()
broker = broker_from(settings)
broker.add_middleware(AsyncIO())  # first: the Runtime middleware boots on its event loop
broker.add_middleware(Runtime(settings))
broker.add_middleware(OneStopPerSignal())
broker.add_middleware(JobMetrics())
dramatiq.set_broker(broker)


class Retries(TypedDict):
    max_retries: int
    min_backoff: int  # milliseconds, doubling up to max_backoff
    max_backoff: int


RETRIES = Retries(max_retries=5, min_backoff=1_000, max_backoff=60_000)
# A time limit keeps a hung job from holding a slot. The long jobs (catalog.LONG_JOBS) may run
# for minutes over a large dataset; both resume where they stopped.
TIME_LIMIT = 120_000
LONG_TIME_LIMIT = 3_600_000


@dramatiq.actor(time_limit=TIME_LIMIT, **RETRIES)
async def check_acknowledgement(notice_id: int) -> None:
    await alarms.check_acknowledgement(notice_id)


@dramatiq.actor(time_limit=TIME_LIMIT, **RETRIES)
async def mark_overdue(notice_id: int) -> None:
    await deadlines.mark_overdue(notice_id)


@dramatiq.actor(time_limit=TIME_LIMIT, **RETRIES)
async def check_verification_overdue(verification_id: int) -> None:
    await overdue.check_verification_overdue(verification_id)


@dramatiq.actor(time_limit=TIME_LIMIT, **RETRIES)
async def deliver_webhook(alarm_id: int, attempt: int = 1) -> None:
    await webhooks.deliver(alarm_id, attempt)


@dramatiq.actor(time_limit=TIME_LIMIT, **RETRIES)
async def sweep() -> None:
    await sweeping.sweep()


@dramatiq.actor(time_limit=LONG_TIME_LIMIT, **RETRIES)
async def refresh_aggregates() -> None:
    await aggregates.refresh()


@dramatiq.actor(time_limit=LONG_TIME_LIMIT, **RETRIES)
async def recompute_emissions(factor_id: int) -> None:
    await factors.recompute(factor_id)
