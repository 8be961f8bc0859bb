"""What every process starts: the webhook's own secret checked, and the job dispatcher chosen (the
in-process runner and its sweep by default, dramatiq by job name with REDIS_URL, or the one the
process passes in, as `ccms worker` does with its broker)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from dramatiq.brokers.redis import RedisBroker

from core import runtime
from core.broker import QUEUE
from core.settings import Settings
from services.live import jobs
from services.live.catalog import JOBS
from tests.backends import REDIS_URL, require_redis

WAIT = 5.0


async def test_a_webhook_without_its_own_secret_is_refused_at_start(settings: Settings) -> None:
    """The token-signing key must never double as the webhook secret: receivers would hold it."""
    unsigned = replace(settings, alarm_webhook_url="http://127.0.0.1:9/hook", alarm_webhook_secret="")
    with pytest.raises(RuntimeError, match="CCMS_ALARM_WEBHOOK_SECRET"):
        await runtime.start(unsigned, manage_db=False)
    await runtime.stop(manage_db=False)


async def test_the_embedded_default_runs_jobs_in_process_and_sweeps(
    settings: Settings, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: asyncio.Queue[tuple[int, ...]] = asyncio.Queue()

    async def probe(*ids: int) -> None:
        ran.put_nowait(ids)

    monkeypatch.setitem(JOBS, "probe", probe)
    started = await runtime.start(settings, manage_db=False)
    try:
        assert started.inprocess is not None
        assert {task.get_name() for task in started.inprocess.tasks} == {"sweep"}

        await jobs.enqueue("probe", 3, 4)

        assert await asyncio.wait_for(ran.get(), WAIT) == (3, 4)
    finally:
        await runtime.stop(manage_db=False)


async def test_a_dispatcher_passed_in_takes_the_jobs(settings: Settings) -> None:
    asked: list[tuple[str, tuple[int, ...], float]] = []

    async def record(name: str, args: tuple[int, ...], delay_seconds: float) -> None:
        asked.append((name, args, delay_seconds))

    started = await runtime.start(settings, listen=False, manage_db=False, dispatcher=record)
    try:
        await jobs.enqueue("check_acknowledgement", 4, delay_seconds=9)
    finally:
        await runtime.stop(manage_db=False)

    assert started.inprocess is None
    assert asked == [("check_acknowledgement", (4,), 9)]


async def test_with_redis_a_job_is_a_dramatiq_message_to_the_actor_of_its_name(settings: Settings) -> None:
    require_redis()
    queue = RedisBroker(url=REDIS_URL)
    queue.declare_queue(QUEUE)
    queue.flush_all()

    started = await runtime.start(replace(settings, redis_url=REDIS_URL), listen=False, manage_db=False)
    try:
        await jobs.enqueue("recompute_emissions", 7)
    finally:
        await runtime.stop(manage_db=False)

    consumer = queue.consume(QUEUE, timeout=1000)
    message = next(consumer)
    consumer.close()
    queue.flush_all()
    assert started.inprocess is None
    assert message is not None and (message.actor_name, message.args) == ("recompute_emissions", (7,))
