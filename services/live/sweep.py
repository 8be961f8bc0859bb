"""The periodic sweep: finds in the database whatever a lost, late or duplicated job missed.

Every step is idempotent, so sweeping twice, or from two schedulers at once,
changes nothing more than sweeping once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from models import (
    Alarm,
    AlarmKind,
    Notice,
    NoticeStatus,
    Reminder,
    ReminderKind,
    Verification,
    WebhookDelivery,
)
from services.compliance import alarms, deadlines
from services.compliance.deadlines import REMINDER_LEAD
from services.compliance.workflow import OVERDUE_FROM
from services.energy import aggregates, factors
from services.identity import throttle
from services.live import jobs, webhooks
from services.verification import overdue
from services.verification.workflow import NOT_CONCLUDED

BATCH = 500
WEBHOOK_BACKFILL = timedelta(days=1)
# Sign-in counters whose last wait ended this long ago are forgotten anyway: drop their rows, or
# every username an attacker ever tried would stay in the table.
THROTTLE_RETENTION = timedelta(days=1)


@dataclass
class SweepResult:
    ack_alarms: int = 0
    overdue: int = 0
    overdue_alarms: int = 0
    verification_alarms: int = 0  # verifications not concluded by their due date
    reminders: int = 0
    webhooks: int = 0
    recomputed: int = 0  # records whose emissions a lost recompute job left unchanged
    stale_months: int = 0  # aggregate marks a lost refresh job left
    throttles_pruned: int = 0  # stale sign-in counters removed


async def sweep() -> SweepResult:
    """One pass over everything that is due; returns what it found to do."""
    now = datetime.now(UTC)
    result = SweepResult()
    late = (
        Notice.filter(acknowledged_at__isnull=True, ack_due_at__lte=now)
        .exclude(id__in=Subquery(Alarm.filter(kind=AlarmKind.ACK_OVERDUE).values("notice_id")))
        .order_by("id")
        .limit(BATCH)
    )
    for notice_id in await _ids(late):
        result.ack_alarms += await alarms.check_acknowledgement(notice_id) is not None
    past_deadline = (
        Notice.filter(status__in=list(OVERDUE_FROM), deadline__lte=now).order_by("id").limit(BATCH)
    )
    for notice_id in await _ids(past_deadline):
        result.overdue += await deadlines.mark_overdue(notice_id)
    # mark_overdue raises the alarm after its commit: a crash in between leaves it to us.
    unalarmed = (
        Notice.filter(status=NoticeStatus.OVERDUE)
        .exclude(id__in=Subquery(Alarm.filter(kind=AlarmKind.NOTICE_OVERDUE).values("notice_id")))
        .order_by("id")
        .limit(BATCH)
    )
    for notice in await unalarmed:
        alarm = await alarms.raise_alarm(notice, AlarmKind.NOTICE_OVERDUE, notice.deadline)
        result.overdue_alarms += alarm is not None
    late_verifications = (
        Verification.filter(status__in=list(NOT_CONCLUDED), due_at__lte=now)
        .exclude(id__in=Subquery(Alarm.filter(kind=AlarmKind.VERIFICATION_OVERDUE).values("verification_id")))
        .order_by("id")
        .limit(BATCH)
    )
    for verification_id in await _ids(late_verifications):
        alarm = await overdue.check_verification_overdue(verification_id)
        result.verification_alarms += alarm is not None
    longest = max(REMINDER_LEAD.values())
    for kind in ReminderKind:
        approaching = (
            Notice.filter(deadline__gt=now, deadline__lte=now + longest)
            .exclude(status__in=[NoticeStatus.FULFILLED, NoticeStatus.OVERDUE])
            .exclude(id__in=Subquery(Reminder.filter(kind=kind).values("notice_id")))
            .order_by("id")
            .limit(BATCH)
        )
        for notice in await approaching:
            if deadlines.reminder_due(notice, kind, now):
                result.reminders += await deadlines.remind(notice, kind)
    if webhooks.configured():
        # Recent alarms never attempted (their job was lost); retries of failed ones are jobs of
        # their own. Older alarms are not replayed: configuring a webhook must not flood it.
        undelivered = (
            Alarm.filter(raised_at__lte=now - timedelta(seconds=30), raised_at__gte=now - WEBHOOK_BACKFILL)
            .exclude(id__in=Subquery(WebhookDelivery.all().values("alarm_id")))
            .limit(BATCH)
        )
        for alarm_id in await _ids(undelivered):
            await jobs.enqueue("deliver_webhook", alarm_id)
            result.webhooks += 1
    for factor_id in await factors.unapplied():
        result.recomputed += await factors.recompute(factor_id)
    if await aggregates.pending():
        result.stale_months = await aggregates.refresh()
    result.throttles_pruned = await throttle.prune(now - THROTTLE_RETENTION)
    return result


async def _ids(query: QuerySet[Any]) -> list[int]:
    # tortoise types every values_list as tuples; flat=True on one column gives the values.
    return cast(list[int], await query.values_list("id", flat=True))
