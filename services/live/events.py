"""Workflow events: what changed, published after the change's transaction commits.

Events are hints for live clients. The database stays the source of truth: a
subscriber that misses events (slow, disconnected, or told to RESYNC after a
broker reconnect) refetches what it shows.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from models import Alarm, Application, ApplicationStatus, Enterprise, Message, Notice, Role, Verification
from services.access import Actor, sees, sees_verification


class EventType(StrEnum):
    NOTICE_ISSUED = "NOTICE_ISSUED"
    NOTICE_ACKNOWLEDGED = "NOTICE_ACKNOWLEDGED"
    APPLICATION_SUBMITTED = "APPLICATION_SUBMITTED"
    APPLICATION_REVIEWED = "APPLICATION_REVIEWED"
    DEADLINE_EXTENDED = "DEADLINE_EXTENDED"
    NOTICE_OVERDUE = "NOTICE_OVERDUE"
    ALARM_RAISED = "ALARM_RAISED"
    MESSAGE_CREATED = "MESSAGE_CREATED"
    PLAN_COMMITTED = "PLAN_COMMITTED"
    VERIFICATION_CHANGED = "VERIFICATION_CHANGED"
    # Not a change: the hub lost its broker connection and events may have been missed.
    RESYNC = "RESYNC"


@dataclass(frozen=True)
class Event:
    type: EventType
    enterprise_id: int | None = None
    region_code: str | None = None
    notice_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, default=str)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event:
        values = json.loads(raw)
        values["type"] = EventType(values["type"])
        return cls(**values)


Publisher = Callable[[Event], Awaitable[None]]


async def _discard(event: Event) -> None:
    return None


_publisher: Publisher = _discard


def set_publisher(publisher: Publisher | None) -> None:
    """Installed by the API process or worker at start-up (the hub's publish)."""
    global _publisher
    _publisher = publisher or _discard


async def publish(*events: Event) -> None:
    """Call only after the transaction that made the change has committed."""
    for event in events:
        await _publisher(event)


def notice_changed(
    type: EventType,
    notice: Notice,
    region_code: str,
    before: str | None,
    *,
    application: Application | None = None,
) -> Event:
    """A status event carrying what a subscriber shows, so delivery needs no query."""
    return Event(
        type,
        enterprise_id=notice.enterprise_id,
        region_code=region_code,
        notice_id=notice.id,
        data={
            "oldStatus": before,
            "newStatus": str(notice.status),
            "applicationId": application.id if application else None,
            "applicationStatus": str(application.status) if application else None,
            "rejectionReason": application.decision_reason
            if application and application.status == ApplicationStatus.REJECTED
            else None,
            "deadline": notice.deadline.isoformat(),
        },
    )


def message_created(message: Message, region_code: str) -> Event:
    return Event(
        EventType.MESSAGE_CREATED,
        enterprise_id=message.enterprise_id,
        region_code=message.regulator_region or region_code,
        notice_id=message.notice_id,
        data={
            "messageId": message.id,
            "toRegulators": message.regulator_region is not None,
            "toBody": message.verification_body_id,
        },
    )


def verification_changed(
    verification: Verification,
    region_code: str,
    before: str | None,
    action: str,
    *,
    previous_body_id: int | None = None,
) -> Event:
    """A verification moved (or was reassigned: the body it left hears of it too)."""
    return Event(
        EventType.VERIFICATION_CHANGED,
        enterprise_id=verification.enterprise_id,
        region_code=region_code,
        data={
            "verificationId": verification.id,
            "bodyId": verification.body_id,
            "previousBodyId": previous_body_id,
            "year": verification.year,
            "action": action,
            "oldStatus": before,
            "newStatus": str(verification.status),
        },
    )


def alarm_raised(alarm: Alarm, region_code: str) -> Event:
    return Event(
        EventType.ALARM_RAISED,
        enterprise_id=alarm.enterprise_id,
        region_code=region_code,
        notice_id=alarm.notice_id,
        data={"alarmId": alarm.id, "kind": str(alarm.kind)},
    )


async def region_of(enterprise_id: int) -> str:
    return await Enterprise.get(id=enterprise_id).values_list("region_code", flat=True)  # type: ignore[return-value]


def visible_to(event: Event, actor: Actor) -> bool:
    """Checked for every event at delivery: subscribing proves nothing about later events.

    An event reaches whoever sees its enterprise (services.access.sees), narrowed by type: a
    message reaches one side of its conversation only (regulators, the enterprise or a
    verification body, no admin), an alarm the regulators and admins, never the enterprise.
    A verification's event reaches whoever sees the verification (sees_verification)."""
    if event.type == EventType.RESYNC:
        return True
    if event.type == EventType.VERIFICATION_CHANGED:
        # A verifier hears of its body's verifications (and of one taken from it); the others
        # by the enterprise, as for notices.
        bodies = [b for b in (event.data.get("bodyId"), event.data.get("previousBodyId")) if b is not None]
        return any(
            sees_verification(actor, event.enterprise_id or -1, event.region_code or "", body)
            for body in bodies
        )
    if event.type == EventType.MESSAGE_CREATED and event.data.get("toBody") is not None:
        return actor.role == Role.VERIFIER and actor.verification_body_id == event.data["toBody"]
    seen = sees(actor, event.enterprise_id, event.region_code or "")
    if event.type == EventType.MESSAGE_CREATED:
        return seen and actor.role == (Role.REGULATOR if event.data.get("toRegulators") else Role.ENTERPRISE)
    if event.type == EventType.ALARM_RAISED:
        return seen and actor.role != Role.ENTERPRISE
    return seen


NOTICE_EVENTS = frozenset(
    {
        EventType.NOTICE_ISSUED,
        EventType.NOTICE_ACKNOWLEDGED,
        EventType.APPLICATION_SUBMITTED,
        EventType.APPLICATION_REVIEWED,
        EventType.DEADLINE_EXTENDED,
        EventType.NOTICE_OVERDUE,
    }
)
