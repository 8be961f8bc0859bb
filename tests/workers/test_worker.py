"""Real messages through a real dramatiq Worker, on the stub broker and on Redis: the services'
dispatcher sends a job by name, the worker runs its actor, and the actor its service function
against the test database. A message delivered twice changes nothing more than once.

The actors are those of workers/actors.py, declared again on the test's broker. The worker's
event loop is the test's own, where the test database is connected (a database connection
belongs to the loop that opened it); `ccms worker`, with its own loop and runtime, runs in
tests/e2e.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dramatiq
import pytest
from dramatiq.asyncio import EventLoopThread, set_event_loop_thread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from core.broker import QUEUE, dispatcher_for
from models import Alarm, AlarmKind, Notice, NoticeStatus
from tests.backends import REDIS_URL, require_redis
from tests.services.conftest import Job
from tests.services.cycle import Cycle
from workers import actors

WAIT = 20.0


class TheTestsLoop(EventLoopThread):
    """dramatiq's event loop thread, standing for the test's running loop: no thread of its own."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.interrupt_check_ival = 0.1


class OnTheTestsLoop(dramatiq.Middleware):
    """In place of the AsyncIO middleware: async actors run on the test's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        set_event_loop_thread(TheTestsLoop(self.loop))

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        set_event_loop_thread(None)


@pytest.fixture(params=["stub", "redis"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[dramatiq.Broker]:
    broker: dramatiq.Broker
    if request.param == "redis":
        require_redis()
        broker = RedisBroker(url=REDIS_URL)
    else:
        broker = StubBroker()
    broker.add_middleware(OnTheTestsLoop(asyncio.get_running_loop()))
    for name in sorted(actors.broker.get_declared_actors()):
        actor = actors.broker.get_actor(name)
        # No retries: a failing job fails the test at once (the stub broker's join re-raises).
        options = {**actor.options, "max_retries": 0}
        dramatiq.Actor(
            actor.fn,
            broker=broker,
            actor_name=name,
            queue_name=actor.queue_name,
            priority=actor.priority,
            options=options,
        )
    broker.flush_all()
    yield broker
    broker.flush_all()
    broker.close()


@dataclass
class RunningWorker:
    """A started worker, and the services' dispatcher sending to its broker."""

    broker: dramatiq.Broker
    worker: dramatiq.Worker

    async def send(self, name: str, *ids: int, delay_seconds: float = 0) -> None:
        await dispatcher_for(self.broker)(name, ids, delay_seconds)

    async def settled(self) -> None:
        """Wait, in threads so that the actors can run on this loop, until every message is done."""
        await asyncio.wait_for(asyncio.to_thread(self.broker.join, QUEUE, timeout=int(WAIT * 1000)), WAIT)
        await asyncio.wait_for(asyncio.to_thread(self.worker.join), WAIT)


@pytest.fixture
async def worker(broker: dramatiq.Broker) -> AsyncIterator[RunningWorker]:
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        yield RunningWorker(broker, worker)
    finally:
        await asyncio.wait_for(asyncio.to_thread(worker.stop), WAIT)


async def test_an_overdue_acknowledgement_raises_one_alarm_when_its_message_comes_twice(
    worker: RunningWorker, cycle: Cycle, dispatched: list[Job]
) -> None:
    await cycle.set_times(ack_due_at=cycle.notice.issued_at)

    await worker.send("check_acknowledgement", cycle.notice.id)
    await worker.send("check_acknowledgement", cycle.notice.id)
    await worker.settled()

    [alarm] = await Alarm.filter(notice_id=cycle.notice.id, kind=AlarmKind.ACK_OVERDUE)
    assert dispatched == [Job("deliver_webhook", (alarm.id,), 0)]  # its webhook, asked for once


async def test_a_passed_deadline_makes_the_notice_overdue_once_when_its_message_comes_twice(
    worker: RunningWorker, cycle: Cycle, dispatched: list[Job]
) -> None:
    await cycle.set_times(deadline=datetime.now(UTC) - timedelta(seconds=1))

    await worker.send("mark_overdue", cycle.notice.id)
    await worker.send("mark_overdue", cycle.notice.id)
    await worker.settled()

    assert (await Notice.get(id=cycle.notice.id)).status == NoticeStatus.OVERDUE
    assert await Alarm.filter(notice_id=cycle.notice.id, kind=AlarmKind.NOTICE_OVERDUE).count() == 1


async def test_a_delayed_job_runs_when_due(
    worker: RunningWorker, cycle: Cycle, dispatched: list[Job]
) -> None:
    await cycle.set_times(ack_due_at=cycle.notice.issued_at)
    sent_at = datetime.now(UTC)

    await worker.send("check_acknowledgement", cycle.notice.id, delay_seconds=0.5)
    await worker.settled()

    [alarm] = await Alarm.filter(notice_id=cycle.notice.id, kind=AlarmKind.ACK_OVERDUE)
    assert alarm.raised_at - sent_at >= timedelta(seconds=0.5)
