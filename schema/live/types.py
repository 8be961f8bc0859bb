from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from schema.alarms.types import Alarm
from schema.compliance.types import Message
from schema.enums import ApplicationStatus, NoticeStatus
from schema.verification.types import Verification
from services.live.events import Event


@strawberry.type(
    description="Live events may have been missed (the server lost its broker connection): "
    "refetch what you show from the queries."
)
class Resync:
    at: datetime = strawberry.field(description="When the server noticed.")
    reason: str = strawberry.field(description="Why.")

    @classmethod
    def of(cls, event: Event) -> Resync:
        return cls(at=datetime.fromisoformat(event.at), reason="event stream interrupted; refetch")


@strawberry.type(description="A notice changed status, or its deadline moved.")
class NoticeStatusChange:
    notice_id: strawberry.ID = strawberry.field(description="The notice.")
    enterprise_id: strawberry.ID = strawberry.field(description="Its enterprise.")
    event: str = strawberry.field(
        description="NOTICE_ISSUED, NOTICE_ACKNOWLEDGED, APPLICATION_SUBMITTED, APPLICATION_REVIEWED, "
        "DEADLINE_EXTENDED or NOTICE_OVERDUE."
    )
    old_status: NoticeStatus | None = strawberry.field(description="Status before (null when issued).")
    new_status: NoticeStatus = strawberry.field(description="Status now.")
    application_id: strawberry.ID | None = strawberry.field(description="The application concerned, if any.")
    application_status: ApplicationStatus | None = strawberry.field(
        description="What the enterprise sees of that application: UNDER_REVIEW, APPROVED or REJECTED."
    )
    rejection_reason: str | None = strawberry.field(description="The reason, for a rejection.")
    deadline: datetime = strawberry.field(description="The notice's deadline now.")
    at: datetime = strawberry.field(description="When the change was committed.")

    @classmethod
    def of(cls, event: Event) -> NoticeStatusChange:
        data = event.data
        return cls(
            notice_id=strawberry.ID(str(event.notice_id)),
            enterprise_id=strawberry.ID(str(event.enterprise_id)),
            event=event.type.value,
            old_status=data["oldStatus"],
            new_status=data["newStatus"],
            application_id=strawberry.ID(str(data["applicationId"])) if data.get("applicationId") else None,
            application_status=data.get("applicationStatus"),
            rejection_reason=data.get("rejectionReason"),
            deadline=datetime.fromisoformat(data["deadline"]),
            at=datetime.fromisoformat(event.at),
        )


NoticeStatusEvent = Annotated[
    NoticeStatusChange | Resync,
    strawberry.union("NoticeStatusEvent", description="A change, or a RESYNC hint."),
]
AlarmEvent = Annotated[
    Alarm | Resync, strawberry.union("AlarmEvent", description="An alarm, or a RESYNC hint.")
]
MessageEvent = Annotated[
    Message | Resync, strawberry.union("MessageEvent", description="A new inbox message, or a RESYNC hint.")
]
VerificationStatusEvent = Annotated[
    Verification | Resync,
    strawberry.union("VerificationStatusEvent", description="A verification as it is now, or a RESYNC hint."),
]
