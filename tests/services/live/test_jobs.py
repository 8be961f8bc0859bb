"""Jobs the services ask for: the acknowledgement check at issue time, the webhook per alarm,
and a dispatcher that fails without failing the change that asked."""

from __future__ import annotations

import logging

import pytest

from models import Alarm, Notice
from services.compliance import alarms
from services.errors import ErrorCode
from services.live import jobs
from tests.conftest import World
from tests.services.conftest import Job
from tests.services.cycle import Cycle, fails_with, issue


@pytest.mark.parametrize("hours", [1, 72, 24 * 90])
async def test_issuing_schedules_the_acknowledgement_check_for_the_end_of_the_window(
    dispatched: list[Job], world: World, files, hours: int
) -> None:
    enterprise = await world.enterprise()
    regulator = await world.regulator()
    await world.allowance(regulator, enterprise)

    notice = await issue(regulator, files, enterprise, ack_window_hours=hours)

    assert dispatched == [Job("check_acknowledgement", (notice.id,), hours * 3600)]


async def test_a_refused_issue_schedules_nothing(cycle: Cycle, dispatched: list[Job]) -> None:
    with fails_with(ErrorCode.NOTICE_ALREADY_ISSUED):
        await issue(cycle.regulator, cycle.files, cycle.enterprise)
    assert dispatched == []


async def test_a_raised_alarm_asks_for_its_webhook_delivery_once(cycle: Cycle, dispatched: list[Job]) -> None:
    await cycle.set_times(ack_due_at=cycle.notice.issued_at)

    alarm = await alarms.check_acknowledgement(cycle.notice.id)
    await alarms.check_acknowledgement(cycle.notice.id)

    assert alarm is not None
    assert dispatched == [Job("deliver_webhook", (alarm.id,), 0)]


async def test_a_negative_delay_asks_for_the_job_now(dispatched: list[Job]) -> None:
    await jobs.enqueue("sweep", delay_seconds=-5)
    assert dispatched == [Job("sweep", (), 0)]


@pytest.fixture
def broken_dispatcher():
    async def refuse(name: str, args: tuple[int, ...], delay_seconds: float) -> None:
        raise ConnectionError("broker down")

    jobs.set_dispatcher(refuse)
    yield
    jobs.set_dispatcher(None)


@pytest.mark.usefixtures("broken_dispatcher")
async def test_a_failing_dispatcher_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="services.live.jobs"):
        await jobs.enqueue("check_acknowledgement", 42, delay_seconds=60)
    [record] = caplog.records
    assert "check_acknowledgement" in record.getMessage() and "42" in record.getMessage()
    assert record.exc_info and isinstance(record.exc_info[1], ConnectionError)


@pytest.mark.usefixtures("broken_dispatcher")
async def test_a_notice_is_issued_and_an_alarm_raised_while_the_broker_is_down(world: World, files) -> None:
    cycle = await Cycle.start(world, files)
    assert await Notice.filter(id=cycle.notice.id).exists()

    await cycle.set_times(ack_due_at=cycle.notice.issued_at)
    assert await alarms.check_acknowledgement(cycle.notice.id) is not None
    assert await Alarm.filter(notice_id=cycle.notice.id).count() == 1
