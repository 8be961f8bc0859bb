"""The stored enumerations, exposed to GraphQL under their own names."""

from enum import StrEnum

import strawberry

from models import enums
from services.compliance.workflow import Action

Role = strawberry.enum(
    enums.Role,
    description=(
        "What a user may do. ADMIN: users and enterprises; REGULATOR: allocation, notices and "
        "review within its region; ENTERPRISE: its own enterprise only."
    ),
)
Sector = strawberry.enum(enums.Sector, description="The national ETS sector of an enterprise.")
NoticeStatus = strawberry.enum(
    enums.NoticeStatus,
    description=(
        "ISSUED: sent, not yet acknowledged; ACKNOWLEDGED: receipt confirmed; UNDER_REVIEW: an "
        "application awaits review (审核中); REJECTED: the last application was rejected and the "
        "enterprise may resubmit until the deadline; FULFILLED: approved (已履约); OVERDUE: not "
        "fulfilled by the deadline (逾期未履约)."
    ),
)
ApplicationStatus = strawberry.enum(
    enums.ApplicationStatus,
    description=(
        "What the enterprise sees of an application: UNDER_REVIEW, APPROVED (已通过) or REJECTED (未通过)."
    ),
)
MessageKind = strawberry.enum(enums.MessageKind, description="What an inbox message is about.")
AlarmKind = strawberry.enum(
    enums.AlarmKind,
    description="ACK_OVERDUE: receipt not confirmed within the notice's window; NOTICE_OVERDUE: not fulfilled by the deadline.",
)
AlarmStatus = strawberry.enum(enums.AlarmStatus, description="OPEN until a regulator resolves it.")
NoticeAction = strawberry.enum(
    Action,
    name="NoticeAction",
    description="An action on a notice. allowedActions lists those the caller may take next; MARK_OVERDUE is the system's.",
)


@strawberry.enum(description="A regulator's decision on an application.")
class Decision(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"
