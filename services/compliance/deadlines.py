"""Deadlines passing on their own: reminders before, OVERDUE after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import AlarmKind, Enterprise, MessageKind, Notice, Reminder, ReminderKind
from services import audit
from services.compliance import alarms, inbox
from services.compliance.notices import advance
from services.compliance.workflow import Action
from services.errors import ServiceError
from services.live import events
from services.live.events import EventType

REMINDER_LEAD = {ReminderKind.DAYS_7: timedelta(days=7), ReminderKind.DAYS_1: timedelta(days=1)}


async def mark_overdue(notice_id: int) -> bool:
    """Move a notice whose deadline has passed to OVERDUE, with an alarm and a message.

    Returns whether this call made the change; a notice already moved on (fulfilled,
    extended, overdue) is left alone.
    """
    now = datetime.now(UTC)
    async with in_transaction():
        notice = await Notice.filter(id=notice_id).select_for_update().first()
        if notice is None or notice.deadline > now:
            return False
        try:
            before = await advance(notice, Action.MARK_OVERDUE, now)
        except ServiceError:
            return False  # not in a state that goes overdue (fulfilled, under review, overdue)
        enterprise = await Enterprise.get(id=notice.enterprise_id)
        await audit.record(
            None, "notice.overdue", notice, notice_id=notice.id, from_status=before, to_status=notice.status
        )
        message = await inbox.post(
            notice.enterprise_id,
            MessageKind.OVERDUE,
            inbox.Text("overdue", {"year": notice.year, "deadline": notice.deadline}),
            notice.id,
        )
    await events.publish(
        events.notice_changed(EventType.NOTICE_OVERDUE, notice, enterprise.region_code, before),
        events.message_created(message, enterprise.region_code),
    )
    await alarms.raise_alarm(notice, AlarmKind.NOTICE_OVERDUE, notice.deadline)
    return True


async def remind(notice: Notice, kind: ReminderKind) -> bool:
    """Send one reminder of this kind for this notice, at most once ever."""
    enterprise = await Enterprise.get(id=notice.enterprise_id)
    try:
        async with in_transaction():
            await Reminder.create(notice_id=notice.id, kind=kind, sent_at=datetime.now(UTC))
            days = REMINDER_LEAD[kind].days
            message = await inbox.post(
                notice.enterprise_id,
                MessageKind.DEADLINE_REMINDER,
                inbox.Text("reminder", {"year": notice.year, "days": days, "deadline": notice.deadline}),
                notice.id,
            )
    except IntegrityError:
        return False
    await events.publish(events.message_created(message, enterprise.region_code))
    return True


def reminder_due(notice: Notice, kind: ReminderKind, now: datetime) -> bool:
    """Due once inside the lead time; skipped when the notice was issued already inside it
    (a notice issued 3 days before its deadline gets the 1-day reminder only). A reminder
    missed until the next shorter one is due is skipped too ("7 days" with hours to go misleads)."""
    lead = REMINDER_LEAD[kind]
    until = notice.deadline - max((d for d in REMINDER_LEAD.values() if d < lead), default=timedelta(0))
    return notice.deadline - lead <= now < until and notice.issued_at <= notice.deadline - lead
