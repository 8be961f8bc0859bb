"""Deadlines passing on their own: a notice not fulfilled in time goes OVERDUE (with a message,
an alarm and an audit event), one under review is left to its review, and reminders go out
once each, only inside their own lead time."""

from __future__ import annotations

import asyncio
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
)
from services.compliance import inbox, notices
from services.compliance.deadlines import mark_overdue, remind, reminder_due
from services.compliance.workflow import Action
from services.errors import ErrorCode
from services.live.events import Event, EventType
from tests.beijing import BEIJING, beijing
from tests.services.conftest import Job
from tests.services.cycle import Cycle, fails_with, unchanged

S = NoticeStatus


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


async def reach(cycle: Cycle, status: NoticeStatus) -> None:
    """Drive the cycle's notice to `status` the way users would."""
    if status in (S.ACKNOWLEDGED, S.UNDER_REVIEW, S.REJECTED, S.FULFILLED):
        await cycle.acknowledge()
    if status in (S.UNDER_REVIEW, S.REJECTED, S.FULFILLED):
        application = await cycle.submit()
        if status != S.UNDER_REVIEW:
            decision = Action.APPROVE if status == S.FULFILLED else Action.REJECT
            await cycle.review(application, decision, "Report unsigned" if status == S.REJECTED else None)
    assert (await cycle.reload()).status == status


@pytest.mark.parametrize("status", [S.ISSUED, S.ACKNOWLEDGED, S.REJECTED])
async def test_a_notice_not_fulfilled_by_its_deadline_goes_overdue(
    cycle: Cycle, status: NoticeStatus
) -> None:
    await reach(cycle, status)
    version = cycle.notice.version
    deadline = (await cycle.set_times(deadline=ago(minutes=1))).deadline

    assert await mark_overdue(cycle.notice.id) is True

    notice = await cycle.reload()
    assert (notice.status, notice.version) == (S.OVERDUE, version + 1)
    [event] = await AuditEvent.filter(action="notice.overdue")
    assert (event.actor_id, event.notice_id, event.from_status, event.to_status) == (
        None,
        notice.id,
        status.value,
        "OVERDUE",
    )
    [message] = await Message.filter(kind=MessageKind.OVERDUE)
    assert (message.enterprise_id, message.notice_id) == (cycle.enterprise.id, notice.id)
    [alarm] = await Alarm.filter(notice_id=notice.id)
    assert (alarm.kind, alarm.due_at) == (AlarmKind.NOTICE_OVERDUE, deadline)
    assert await Message.filter(kind=MessageKind.ALARM, regulator_region="440113").count() == 1


async def test_going_overdue_publishes_the_change_the_message_and_the_alarm(
    cycle: Cycle, published: list[Event], dispatched: list[Job]
) -> None:
    await cycle.set_times(deadline=ago(minutes=1))
    published.clear()

    await mark_overdue(cycle.notice.id)

    assert [(e.type, e.data.get("toRegulators")) for e in published] == [
        (EventType.NOTICE_OVERDUE, None),
        (EventType.MESSAGE_CREATED, False),
        (EventType.ALARM_RAISED, None),
        (EventType.MESSAGE_CREATED, True),
    ]
    overdue = published[0]
    assert (overdue.data["oldStatus"], overdue.data["newStatus"]) == ("ISSUED", "OVERDUE")
    assert (overdue.enterprise_id, overdue.region_code, overdue.notice_id) == (
        cycle.enterprise.id,
        "440113",
        cycle.notice.id,
    )
    alarm = await Alarm.get(notice_id=cycle.notice.id)
    assert dispatched == [Job("deliver_webhook", (alarm.id,), 0)]


@pytest.mark.parametrize("status", [S.UNDER_REVIEW, S.FULFILLED])
async def test_a_notice_under_review_or_fulfilled_is_left_alone_after_its_deadline(
    cycle: Cycle, status: NoticeStatus
) -> None:
    await reach(cycle, status)
    await cycle.set_times(deadline=ago(minutes=1))
    async with unchanged():
        assert await mark_overdue(cycle.notice.id) is False
    assert (await cycle.reload()).status == status


async def test_a_notice_not_yet_due_is_left_alone(cycle: Cycle) -> None:
    async with unchanged():
        assert await mark_overdue(cycle.notice.id) is False
    assert (await cycle.reload()).status == S.ISSUED


async def test_an_unknown_notice_is_left_alone(db: str) -> None:
    assert await mark_overdue(999_999) is False


async def test_marking_again_changes_nothing(cycle: Cycle) -> None:
    await cycle.set_times(deadline=ago(minutes=1))
    await mark_overdue(cycle.notice.id)
    async with unchanged():
        assert await mark_overdue(cycle.notice.id) is False


async def test_marking_at_once_moves_the_notice_once(cycle: Cycle) -> None:
    await cycle.set_times(deadline=ago(minutes=1))

    results = await asyncio.gather(*(mark_overdue(cycle.notice.id) for _ in range(4)))

    assert sorted(results) == [False, False, False, True]
    assert await AuditEvent.filter(action="notice.overdue").count() == 1
    assert await Message.filter(kind=MessageKind.OVERDUE).count() == 1
    assert await Alarm.filter(kind=AlarmKind.NOTICE_OVERDUE).count() == 1


async def test_an_application_under_review_at_the_deadline_is_decided_and_a_rejection_goes_overdue(
    cycle: Cycle,
) -> None:
    application = await cycle.under_review()
    await cycle.set_times(deadline=ago(minutes=1))
    assert await mark_overdue(cycle.notice.id) is False

    await cycle.review(application, Action.REJECT, "Report unsigned")
    with fails_with(ErrorCode.DEADLINE_PASSED):
        await cycle.submit()

    assert await mark_overdue(cycle.notice.id) is True
    assert (await cycle.reload()).status == S.OVERDUE


async def test_an_overdue_notice_can_no_longer_be_acknowledged_or_answered(cycle: Cycle) -> None:
    await cycle.set_times(deadline=ago(minutes=1))
    await mark_overdue(cycle.notice.id)
    async with unchanged():
        with fails_with(ErrorCode.INVALID_TRANSITION):
            await cycle.acknowledge()


@pytest.mark.parametrize(("kind", "days"), [(ReminderKind.DAYS_7, 7), (ReminderKind.DAYS_1, 1)])
async def test_a_reminder_is_sent_once(
    cycle: Cycle, published: list[Event], kind: ReminderKind, days: int
) -> None:
    published.clear()

    assert await remind(cycle.notice, kind) is True
    async with unchanged():
        assert await remind(cycle.notice, kind) is False

    [reminder] = await Reminder.filter(notice_id=cycle.notice.id)
    assert reminder.kind == kind
    [message] = await Message.filter(kind=MessageKind.DEADLINE_REMINDER)
    assert (message.enterprise_id, message.notice_id) == (cycle.enterprise.id, cycle.notice.id)
    year, deadline = cycle.notice.year, cycle.notice.deadline
    # Stored in the configured language (zh-CN), with the deadline in Beijing time...
    assert (message.title, message.body) == (
        f"{year} 年度履约截止提醒：还有 {days} 天",
        f"履约截止时间为 {beijing(deadline)}。",
    )
    # ...and as key and parameters, so an English reader reads it in English.
    local = deadline.astimezone(BEIJING)
    assert (inbox.title_of(message, "en"), inbox.body_of(message, "en")) == (
        f"{year}: {days} day(s) to the deadline",
        f"The compliance deadline is {local.day} {local:%b} {local.year} {local:%H:%M} (Beijing time).",
    )
    assert [(e.type, e.data["messageId"]) for e in published] == [(EventType.MESSAGE_CREATED, message.id)]


async def test_reminders_racing_send_once(cycle: Cycle) -> None:
    results = await asyncio.gather(*(remind(cycle.notice, ReminderKind.DAYS_1) for _ in range(4)))
    assert sorted(results) == [False, False, False, True]
    assert await Message.filter(kind=MessageKind.DEADLINE_REMINDER).count() == 1


NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def notice_due(in_: timedelta, issued: timedelta = timedelta(days=30)) -> Notice:
    """A notice due `in_` after NOW, issued `issued` before NOW."""
    return Notice(deadline=NOW + in_, issued_at=NOW - issued)


@pytest.mark.parametrize(
    ("due_in", "kind", "due"),
    [
        (8 * DAY, ReminderKind.DAYS_7, False),
        (7 * DAY, ReminderKind.DAYS_7, True),
        (3 * DAY, ReminderKind.DAYS_7, True),
        (2 * DAY, ReminderKind.DAYS_1, False),
        (DAY, ReminderKind.DAYS_1, True),
        (DAY, ReminderKind.DAYS_7, False),
        (timedelta(hours=1), ReminderKind.DAYS_1, True),
        (timedelta(0), ReminderKind.DAYS_1, False),
        (-DAY, ReminderKind.DAYS_7, False),
    ],
)
def test_a_reminder_is_due_inside_its_lead_time_before_the_deadline(
    due_in: timedelta, kind: ReminderKind, due: bool
) -> None:
    assert reminder_due(notice_due(due_in), kind, NOW) is due


def test_a_notice_issued_inside_the_seven_days_gets_only_the_one_day_reminder() -> None:
    notice = notice_due(timedelta(hours=12), issued=2 * DAY)
    assert reminder_due(notice, ReminderKind.DAYS_7, NOW) is False
    assert reminder_due(notice, ReminderKind.DAYS_1, NOW) is True


def test_a_notice_issued_inside_the_last_day_gets_no_reminder() -> None:
    notice = notice_due(timedelta(hours=12), issued=timedelta(hours=6))
    assert not any(reminder_due(notice, kind, NOW) for kind in ReminderKind)


def test_a_seven_day_reminder_missed_until_the_last_day_is_not_sent_late() -> None:
    """'7 days to the deadline' with hours to go would mislead: only the 1-day one is due."""
    notice = notice_due(timedelta(hours=12))
    assert reminder_due(notice, ReminderKind.DAYS_7, NOW) is False
    assert reminder_due(notice, ReminderKind.DAYS_1, NOW) is True


async def test_extending_the_deadline_restarts_its_reminders(cycle: Cycle) -> None:
    assert await remind(cycle.notice, ReminderKind.DAYS_7) is True

    await notices.extend_deadline(
        cycle.regulator, cycle.notice.id, cycle.notice.deadline + timedelta(days=30), "flood"
    )

    assert await Reminder.filter(notice_id=cycle.notice.id).count() == 0
    assert await remind(cycle.notice, ReminderKind.DAYS_7) is True  # counts down to the new deadline
