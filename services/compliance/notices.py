"""Compliance notices: issue, acknowledge, extend the deadline, and scoped lookup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypedDict, Unpack

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import Allowance, Enterprise, MessageKind, Notice, NoticeStatus, Reminder, Role
from services import audit
from services.access import Actor, enterprise_scope, require_role
from services.compliance import alarms, documents, inbox
from services.compliance.documents import FileStore, IncomingFile, Upload
from services.compliance.workflow import Action, transition
from services.enterprises import EnterpriseFilter, get_enterprise, matching
from services.errors import ErrorCode, ServiceError, not_found
from services.live import events, jobs
from services.live.events import EventType
from services.values import Raw, aware, ratio, text
from services.values import year as valid_year

DEFAULT_OFFSET_CAP = Decimal("0.05")  # 2021 办法 Art 29: CCER covers at most 5 % of the amount due
MAX_ACK_WINDOW_HOURS = 24 * 90


@dataclass(frozen=True)
class NoticeFilter:
    year: int | None = None
    status: NoticeStatus | None = None
    enterprise_id: int | None = None
    region_prefix: str | None = None
    industry_code: str | None = None


def notices_for(actor: Actor, where: NoticeFilter | None = None) -> QuerySet[Notice]:
    query = Notice.filter(enterprise_scope(actor, "enterprise"))
    if where is None:
        return query
    if where.year is not None:
        query = query.filter(year=where.year)
    if where.status is not None:
        query = query.filter(status=where.status)
    if where.enterprise_id is not None:
        query = query.filter(enterprise_id=where.enterprise_id)
    return query.filter(
        matching(
            EnterpriseFilter(region_prefix=where.region_prefix, industry_code=where.industry_code),
            "enterprise",
        )
    )


async def get_notice(actor: Actor, notice_id: int, *, for_update: bool = False) -> Notice:
    query = notices_for(actor).filter(id=notice_id)
    notice = await (query.select_for_update() if for_update else query).first()
    if notice is None:
        raise not_found("Notice", "noticeId")
    return notice


class NoticeChanges(TypedDict, total=False):
    """What a transition may set on the notice besides its status and version."""

    deadline: datetime
    acknowledged_at: datetime
    acknowledged_by_id: int


async def advance(
    notice: Notice, action: Action, now: datetime, **changes: Unpack[NoticeChanges]
) -> NoticeStatus:
    """Move the notice along the state machine with a compare-and-set on its version.

    On PostgreSQL callers also hold the row lock; on SQLite (where row locks do
    not exist) the version check alone makes a racing writer lose cleanly.
    Returns the status the notice moved from.
    """
    before = notice.status
    target = transition(notice, action, now)
    updated = await Notice.filter(id=notice.id, version=notice.version).update(
        status=target, version=notice.version + 1, updated_at=now, **changes
    )
    if updated != 1:
        raise ServiceError(
            ErrorCode.CONCURRENT_MODIFICATION, "the notice changed meanwhile; reload and try again"
        )
    notice.update_from_dict({"status": target, "version": notice.version + 1, **changes})
    return before


@dataclass(frozen=True)
class NoticeRequest:
    """A notice as the regulator asks for it; notice_terms validates it."""

    year: int
    deadline: datetime
    ack_window_hours: int
    title: str
    body: str
    offset_cap_ratio: Raw = DEFAULT_OFFSET_CAP
    allow_banking: bool = False
    # Applications need a verifier's conclusion for the enterprise-year (on by default).
    require_verification: bool = True


@dataclass(frozen=True)
class NoticeTerms:
    """A notice's validated rules, snapshotted into it at issue."""

    year: int
    deadline: datetime
    ack_window_hours: int
    offset_cap_ratio: Decimal
    allow_banking: bool
    require_verification: bool
    title: str
    body: str


def notice_terms(request: NoticeRequest) -> NoticeTerms:
    now = datetime.now(UTC)
    valid_year(request.year)
    if aware(request.deadline, "deadline") <= now:
        raise ServiceError(ErrorCode.DEADLINE_IN_PAST, "deadline must be in the future", "deadline")
    if not 0 < request.ack_window_hours <= MAX_ACK_WINDOW_HOURS:
        raise ServiceError(
            ErrorCode.INVALID_ACK_WINDOW,
            "ackWindowHours must be between 1 and {MAX_ACK_WINDOW_HOURS}",
            "ackWindowHours",
            params={"MAX_ACK_WINDOW_HOURS": MAX_ACK_WINDOW_HOURS},
        )
    return NoticeTerms(
        year=request.year,
        deadline=request.deadline.astimezone(UTC),
        ack_window_hours=request.ack_window_hours,
        offset_cap_ratio=ratio(request.offset_cap_ratio, "offsetCapRatio"),
        allow_banking=request.allow_banking,
        require_verification=request.require_verification,
        title=text(request.title, "title", max_length=200),
        body=text(request.body, "body", max_length=20_000, required=False),
    )


async def issue_notice(
    actor: Actor, files: FileStore, request: NoticeRequest, *, enterprise_id: int, document: Upload | None
) -> Notice:
    """Issue the year's compliance notice, snapshotting the allowance and rules."""
    require_role(actor, Role.REGULATOR)
    checked = notice_terms(request)
    enterprise = await get_enterprise(actor, enterprise_id, "enterpriseId")
    incoming = await files.accept(document, "document")
    return await _issue(actor, files, incoming, enterprise, checked)


async def issue_accepted(
    actor: Actor, files: FileStore, incoming: IncomingFile, request: NoticeRequest, *, enterprise_id: int
) -> Notice:
    """issue_notice for a document already accepted (one upload, many notices: allocation plans)."""
    require_role(actor, Role.REGULATOR)
    checked = notice_terms(request)
    enterprise = await get_enterprise(actor, enterprise_id, "enterpriseId")
    return await _issue(actor, files, incoming, enterprise, checked)


async def _issue(
    actor: Actor, files: FileStore, incoming: IncomingFile, enterprise: Enterprise, terms: NoticeTerms
) -> Notice:
    now = datetime.now(UTC)
    year, title, body = terms.year, terms.title, terms.body
    async with in_transaction():
        allowance = await Allowance.filter(enterprise_id=enterprise.id, year=year).select_for_update().first()
        if allowance is None:
            raise ServiceError(
                ErrorCode.ALLOWANCE_NOT_SET,
                "set the {year} allowance before issuing",
                "year",
                params={"year": year},
            )
        if await Notice.exists(enterprise_id=enterprise.id, year=year):
            raise _already_issued(year)
        stored = await documents.save(files, incoming, enterprise_id=enterprise.id, actor=actor)
        try:
            notice = await Notice.create(
                enterprise_id=enterprise.id,
                year=year,
                allowance=allowance.amount,
                deadline=terms.deadline,
                ack_window_hours=terms.ack_window_hours,
                offset_cap_ratio=terms.offset_cap_ratio,
                allow_banking=terms.allow_banking,
                require_verification=terms.require_verification,
                title=title,
                body=body,
                document_id=stored.id,
                issued_by_id=actor.user_id,
                issued_at=now,
                ack_due_at=now + timedelta(hours=terms.ack_window_hours),
            )
        except IntegrityError:
            raise _already_issued(year) from None
        await audit.record(
            actor,
            "notice.issued",
            notice,
            notice_id=notice.id,
            to_status=notice.status,
            data={"allowance": notice.allowance, "deadline": notice.deadline.isoformat()},
        )
        messages = [
            await inbox.post(
                enterprise.id,
                MessageKind.ALLOWANCE,
                inbox.Text("allowance", {"year": year, "amount": allowance.amount}),
                notice.id,
            ),
            await inbox.post_as_written(enterprise.id, MessageKind.NOTICE, title, body, notice.id),
        ]
    await events.publish(
        events.notice_changed(EventType.NOTICE_ISSUED, notice, enterprise.region_code, None),
        *(events.message_created(m, enterprise.region_code) for m in messages),
    )
    # The check that raises the alarm if receipt is not confirmed in time; the sweep backs it up.
    await jobs.enqueue("check_acknowledgement", notice.id, delay_seconds=terms.ack_window_hours * 3600)
    return notice


def _already_issued(year: int) -> ServiceError:
    return ServiceError(
        ErrorCode.NOTICE_ALREADY_ISSUED,
        "a notice for {year} has already been issued",
        "year",
        params={"year": year},
    )


async def acknowledge_notice(actor: Actor, notice_id: int) -> Notice:
    """Confirm receipt. Acknowledging again changes nothing and is not an error."""
    require_role(actor, Role.ENTERPRISE)
    now = datetime.now(UTC)
    async with in_transaction():
        notice = await get_notice(actor, notice_id, for_update=True)
        if notice.acknowledged_at is not None:
            return notice
        before = await advance(
            notice, Action.ACKNOWLEDGE, now, acknowledged_at=now, acknowledged_by_id=actor.user_id
        )
        await alarms.note_late_acknowledgement(notice)
        await audit.record(
            actor,
            "notice.acknowledged",
            notice,
            notice_id=notice.id,
            from_status=before,
            to_status=notice.status,
        )
    region = await events.region_of(notice.enterprise_id)
    await events.publish(events.notice_changed(EventType.NOTICE_ACKNOWLEDGED, notice, region, before))
    return notice


async def extend_deadline(actor: Actor, notice_id: int, deadline: datetime, reason: str) -> Notice:
    require_role(actor, Role.REGULATOR)
    now = datetime.now(UTC)
    reason = text(reason, "reason", max_length=2000)
    aware(deadline, "deadline")
    async with in_transaction():
        notice = await get_notice(actor, notice_id, for_update=True)
        old = notice.deadline
        transition(notice, Action.EXTEND_DEADLINE, now)  # a wrong state outranks a wrong date
        if deadline <= old or deadline <= now:
            raise ServiceError(
                ErrorCode.DEADLINE_NOT_LATER,
                "the new deadline must be later than the current one ({deadline}) and than now",
                "deadline",
                params={"deadline": old},
            )
        before = await advance(notice, Action.EXTEND_DEADLINE, now, deadline=deadline.astimezone(UTC))
        # Reminders count down to a deadline: a new deadline gets its own.
        await Reminder.filter(notice_id=notice.id).delete()
        await audit.record(
            actor,
            "notice.deadline_extended",
            notice,
            notice_id=notice.id,
            from_status=before,
            to_status=notice.status,
            reason=reason,
            data={"from": old.isoformat(), "to": notice.deadline.isoformat()},
        )
        message = await inbox.post(
            notice.enterprise_id,
            MessageKind.DEADLINE_EXTENDED,
            inbox.Text(
                "deadline_extended", {"year": notice.year, "deadline": notice.deadline, "reason": reason}
            ),
            notice.id,
        )
    region = await events.region_of(notice.enterprise_id)
    await events.publish(
        events.notice_changed(EventType.DEADLINE_EXTENDED, notice, region, before),
        events.message_created(message, region),
    )
    return notice
