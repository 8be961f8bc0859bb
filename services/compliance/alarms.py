"""Alarms for regulators: a notice not acknowledged in time, or not fulfilled by its deadline,
and a verification not concluded by its due date.

Raising is idempotent: the (notice, kind) unique key means a duplicated check
message, a second scheduler or a sweep after a lost message all end in the
same single alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import Alarm, AlarmKind, AlarmStatus, Enterprise, MessageKind, Notice, Role, Verification
from services import audit
from services.access import Actor, enterprise_scope, require_role
from services.compliance import inbox
from services.errors import ErrorCode, ServiceError, not_found
from services.live import events, jobs
from services.values import text


def alarm_text(alarm: Alarm, enterprise: Enterprise, year: int) -> inbox.Text:
    """The alarm in words, for the regulators' inbox and the webhook."""
    return inbox.Text(
        f"alarm.{alarm.kind.value}",
        {
            "enterprise": enterprise.name,
            "credit_code": enterprise.credit_code,
            "year": year,
            "due": alarm.due_at,
        },
    )


async def raise_alarm(notice: Notice, kind: AlarmKind, due_at: datetime) -> Alarm | None:
    """Raise the alarm unless it exists; returns it only when this call raised it.

    Runs in its own transaction, after whatever change led to it has committed.
    """
    return await _raise(kind, due_at, notice.enterprise_id, notice.year, notice_id=notice.id)


async def raise_verification_alarm(verification: Verification, kind: AlarmKind) -> Alarm | None:
    """raise_alarm for a verification (due at its due date)."""
    return await _raise(
        kind,
        verification.due_at,
        verification.enterprise_id,
        verification.year,
        verification_id=verification.id,
    )


async def _raise(
    kind: AlarmKind,
    due_at: datetime,
    enterprise_id: int,
    year: int,
    *,
    notice_id: int | None = None,
    verification_id: int | None = None,
) -> Alarm | None:
    enterprise = await Enterprise.get(id=enterprise_id)
    now = datetime.now(UTC)
    try:
        async with in_transaction():
            alarm = await Alarm.create(
                kind=kind,
                notice_id=notice_id,
                verification_id=verification_id,
                enterprise_id=enterprise.id,
                due_at=due_at,
                raised_at=now,
            )
            await audit.record(
                None,
                f"alarm.{kind.value.lower()}",
                alarm,
                notice_id=notice_id,
                verification_id=verification_id,
            )
            message = await inbox.post_to_regulators(
                enterprise.region_code,
                MessageKind.ALARM,
                alarm_text(alarm, enterprise, year),
                notice_id,
                verification_id=verification_id,
            )
    except IntegrityError:
        return None  # raised before: by a duplicate message, another worker or the sweep
    await events.publish(
        events.alarm_raised(alarm, enterprise.region_code),
        events.message_created(message, enterprise.region_code),
    )
    await jobs.enqueue("deliver_webhook", alarm.id)
    return alarm


async def check_acknowledgement(notice_id: int) -> Alarm | None:
    """The delayed check scheduled at issue time; also what the sweep calls per late notice."""
    notice = await Notice.get_or_none(id=notice_id)
    now = datetime.now(UTC)
    if notice is None or notice.acknowledged_at is not None or notice.ack_due_at is None:
        return None
    if now < notice.ack_due_at:
        # Woken early (a broker's delay cap, or a clock ahead of ours): look again when due.
        await jobs.enqueue(
            "check_acknowledgement", notice.id, delay_seconds=(notice.ack_due_at - now).total_seconds()
        )
        return None
    return await raise_alarm(notice, AlarmKind.ACK_OVERDUE, notice.ack_due_at)


async def note_late_acknowledgement(notice: Notice) -> None:
    """Called in the acknowledging transaction: the alarm, if any, records when receipt came."""
    await Alarm.filter(
        notice_id=notice.id, kind=AlarmKind.ACK_OVERDUE, acknowledged_late_at__isnull=True
    ).update(acknowledged_late_at=notice.acknowledged_at)


@dataclass(frozen=True)
class AlarmFilter:
    status: AlarmStatus | None = None
    kind: AlarmKind | None = None


def alarms_for(actor: Actor, where: AlarmFilter | None = None) -> QuerySet[Alarm]:
    """Regulators see the alarms of their region; admins all; enterprises none."""
    if actor.role == Role.ENTERPRISE:
        return Alarm.filter(id__lt=0)
    query = Alarm.filter(enterprise_scope(actor, "enterprise"))
    if where and where.status:
        query = query.filter(status=where.status)
    if where and where.kind:
        query = query.filter(kind=where.kind)
    return query


async def resolve_alarm(actor: Actor, alarm_id: int, note: str) -> Alarm:
    require_role(actor, Role.REGULATOR)
    note = text(note, "note", max_length=2000)
    async with in_transaction():
        alarm = await alarms_for(actor).filter(id=alarm_id).select_for_update().first()
        if alarm is None:
            raise not_found("Alarm", "id")
        updated = await Alarm.filter(id=alarm.id, status=AlarmStatus.OPEN).update(
            status=AlarmStatus.RESOLVED,
            resolved_at=datetime.now(UTC),
            resolved_by_id=actor.user_id,
            resolution_note=note,
        )
        if updated != 1:
            raise ServiceError(ErrorCode.ALARM_ALREADY_RESOLVED, "the alarm is already resolved", "id")
        await alarm.refresh_from_db()
        await audit.record(actor, "alarm.resolved", alarm, notice_id=alarm.notice_id, reason=note)
    return alarm
