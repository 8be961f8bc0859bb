"""The periodic sweep finds in the database whatever a lost or late job missed, and sweeping
again, or twice at once, changes nothing more."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from models import (
    Alarm,
    AlarmKind,
    AuditEvent,
    Message,
    MessageKind,
    Notice,
    NoticeStatus,
    Reminder,
    ReminderKind,
    WebhookDelivery,
)
from services.compliance import notices
from services.compliance.deadlines import mark_overdue
from services.compliance.workflow import Action
from services.live import events, webhooks
from services.live.events import Event
from services.live.sweep import SweepResult, sweep
from services.live.webhooks import WebhookConfig
from tests.conftest import World
from tests.services.conftest import Job
from tests.services.cycle import Cycle, unchanged

S = NoticeStatus


def at(**delta: float) -> datetime:
    """Now, moved by `delta` (negative: the past)."""
    return datetime.now(UTC) + timedelta(**delta)


class Scene:
    """One notice in each situation the sweep must notice, or must not."""

    async def build(self, world: World, files) -> Scene:
        async def cycle(region: str) -> Cycle:
            return await Cycle.start(world, files, region=region)

        self.unacknowledged = await cycle("440113")
        await self.unacknowledged.set_times(ack_due_at=at(hours=-1))

        self.past_deadline = await cycle("440105")
        await self.past_deadline.acknowledge()
        await self.past_deadline.set_times(deadline=at(minutes=-1))

        self.week_left = await cycle("440106")
        await self.week_left.acknowledge()
        await self.week_left.set_times(deadline=at(days=5), issued_at=at(days=-20))

        self.day_left = await cycle("440111")
        await self.day_left.acknowledge()
        await self.day_left.set_times(deadline=at(hours=12), issued_at=at(days=-20))

        self.issued_late = await cycle("440112")  # issued inside the 7 days: no 7-day reminder
        await self.issued_late.acknowledge()
        await self.issued_late.set_times(deadline=at(days=3), issued_at=at(days=-2))

        self.under_review = await cycle("440114")  # submitted in time: left to its review
        await self.under_review.under_review()
        await self.under_review.set_times(deadline=at(minutes=-1))

        self.fresh = await cycle("440115")
        return self


EXPECTED = SweepResult(ack_alarms=1, overdue=1, reminders=2, webhooks=0)


@pytest.fixture
async def scene(world: World, files) -> Scene:
    return await Scene().build(world, files)


async def test_the_sweep_finds_late_acknowledgements_overdue_notices_and_due_reminders(scene: Scene) -> None:
    assert await sweep() == EXPECTED

    alarms = {(a.notice_id, a.kind) for a in await Alarm.all()}
    assert alarms == {
        (scene.unacknowledged.notice.id, AlarmKind.ACK_OVERDUE),
        (scene.past_deadline.notice.id, AlarmKind.NOTICE_OVERDUE),
    }
    assert (await scene.past_deadline.reload()).status == S.OVERDUE
    assert (await scene.under_review.reload()).status == S.UNDER_REVIEW
    reminders = {(r.notice_id, r.kind) for r in await Reminder.all()}
    assert reminders == {
        (scene.week_left.notice.id, ReminderKind.DAYS_7),
        (scene.day_left.notice.id, ReminderKind.DAYS_1),
    }
    assert await Message.filter(kind=MessageKind.DEADLINE_REMINDER).count() == 2
    assert await Message.filter(kind=MessageKind.OVERDUE).count() == 1
    assert await Message.filter(kind=MessageKind.ALARM).count() == 2


async def test_sweeping_again_changes_nothing_more(scene: Scene) -> None:
    await sweep()
    async with unchanged():
        assert await sweep() == SweepResult()


async def test_two_sweeps_at_once_do_each_thing_once(scene: Scene) -> None:
    """Two schedulers, or a sweep overlapping the next: on PostgreSQL they really overlap."""
    results = await asyncio.gather(sweep(), sweep(), sweep())

    for field in ("ack_alarms", "overdue", "reminders"):
        assert sum(getattr(r, field) for r in results) == getattr(EXPECTED, field), field
    # One sweep may raise the overdue alarm between another's move and its own raising.
    assert sum(r.overdue_alarms for r in results) <= 1
    assert await Alarm.all().count() == 2
    assert await Reminder.all().count() == 2
    assert await Message.filter(kind__in=[MessageKind.ALARM, MessageKind.OVERDUE]).count() == 3
    assert await AuditEvent.filter(action__in=["alarm.ack_overdue", "alarm.notice_overdue"]).count() == 2
    assert await AuditEvent.filter(action="notice.overdue").count() == 1
    async with unchanged():
        assert await sweep() == SweepResult()


async def test_the_next_reminder_comes_when_its_time_comes(cycle: Cycle) -> None:
    await cycle.acknowledge()
    await cycle.set_times(deadline=at(days=5), issued_at=at(days=-20))
    assert (await sweep()).reminders == 1

    await cycle.set_times(deadline=at(hours=20))
    assert (await sweep()).reminders == 1
    assert (await sweep()).reminders == 0

    kinds = [r.kind for r in await Reminder.filter(notice_id=cycle.notice.id).order_by("id")]
    assert kinds == [ReminderKind.DAYS_7, ReminderKind.DAYS_1]


async def test_a_notice_issued_inside_the_seven_days_gets_only_the_one_day_reminder(cycle: Cycle) -> None:
    await cycle.set_times(deadline=at(days=3), issued_at=at(days=-2))
    assert (await sweep()).reminders == 0

    await cycle.set_times(deadline=at(hours=20))
    assert (await sweep()).reminders == 1

    assert [r.kind for r in await Reminder.filter(notice_id=cycle.notice.id)] == [ReminderKind.DAYS_1]


async def test_a_notice_fulfilled_or_overdue_gets_no_reminder(world: World, files) -> None:
    fulfilled = await Cycle.start(world, files, region="440113")
    application = await fulfilled.under_review()
    await fulfilled.review(application, Action.APPROVE)
    overdue = await Cycle.start(world, files, region="440105")
    await overdue.set_times(deadline=at(minutes=-1))
    await sweep()
    for cycle in (fulfilled, overdue):
        await cycle.set_times(deadline=at(hours=20), issued_at=at(days=-20))

    assert (await sweep()).reminders == 0


async def test_an_extended_deadline_is_not_overdue(cycle: Cycle) -> None:
    await notices.extend_deadline(cycle.regulator, cycle.notice.id, at(days=60), "Holiday")
    async with unchanged():
        assert await sweep() == SweepResult()
    assert (await cycle.reload()).status == S.ISSUED


async def test_nothing_to_do_is_nothing_done(cycle: Cycle, dispatched: list[Job]) -> None:
    async with unchanged():
        assert await sweep() == SweepResult()
    assert dispatched == []


@pytest.fixture
def webhook_configured() -> Iterator[None]:
    webhooks.configure(WebhookConfig(url="http://127.0.0.1:9/alarms", secret="s"))
    yield
    webhooks.configure(WebhookConfig())


@pytest.mark.usefixtures("webhook_configured")
async def test_the_sweep_asks_again_for_webhooks_never_attempted(
    world: World, files, dispatched: list[Job]
) -> None:
    lost, recent, attempted = [
        await Cycle.start(world, files, region=r) for r in ("440113", "440105", "440106")
    ]
    for cycle in (lost, recent, attempted):
        await cycle.set_times(ack_due_at=at(hours=-1))
    await sweep()
    by_notice = {a.notice_id: a for a in await Alarm.all()}
    await Alarm.filter(notice_id__in=[lost.notice.id, attempted.notice.id]).update(raised_at=at(minutes=-5))
    await WebhookDelivery.create(
        alarm_id=by_notice[attempted.notice.id].id, attempt=1, at=at(minutes=-4), succeeded=False
    )
    dispatched.clear()

    assert (await sweep()).webhooks == 1

    assert dispatched == [Job("deliver_webhook", (by_notice[lost.notice.id].id,), 0)]


async def test_without_a_webhook_the_sweep_asks_for_no_delivery(cycle: Cycle, dispatched: list[Job]) -> None:
    await cycle.set_times(ack_due_at=at(hours=-1))
    await sweep()
    await Alarm.all().update(raised_at=at(minutes=-5))
    dispatched.clear()

    assert (await sweep()).webhooks == 0
    assert dispatched == []


async def test_the_sweep_raises_an_overdue_alarm_lost_after_its_notice_moved(cycle: Cycle) -> None:
    """mark_overdue commits the move, then raises the alarm: a crash in between (here, a
    publisher that fails) must not leave an OVERDUE notice without its alarm for good."""
    await cycle.set_times(deadline=at(minutes=-1))

    async def crash(event: Event) -> None:
        raise RuntimeError("process killed")

    events.set_publisher(crash)
    try:
        with pytest.raises(RuntimeError):
            await mark_overdue(cycle.notice.id)
    finally:
        events.set_publisher(None)
    assert (await cycle.reload()).status == S.OVERDUE
    assert not await Alarm.filter(kind=AlarmKind.NOTICE_OVERDUE).exists()

    assert await sweep() == SweepResult(overdue_alarms=1)

    [alarm] = await Alarm.filter(kind=AlarmKind.NOTICE_OVERDUE)
    assert (alarm.notice_id, alarm.due_at) == (cycle.notice.id, cycle.notice.deadline)
    async with unchanged():
        assert await sweep() == SweepResult()


async def test_configuring_a_webhook_later_does_not_replay_old_alarms(
    cycle: Cycle, dispatched: list[Job], webhook_configured: None
) -> None:
    await Notice.filter(id=cycle.notice.id).update(ack_due_at=datetime.now(UTC) - timedelta(days=3))
    await sweep()
    await Alarm.filter(notice_id=cycle.notice.id).update(raised_at=datetime.now(UTC) - timedelta(days=2))
    dispatched.clear()

    await sweep()

    assert [job for job in dispatched if job.name == "deliver_webhook"] == []
