"""The stored enumerations, exposed to GraphQL under their own names.

`strawberry.enum` keeps the GraphQL definition on the enum class itself, so registering the
models' enums here makes them the annotations: a status read off a row needs no conversion,
and mypy sees the real class.
"""

from enum import StrEnum

import strawberry

from models.enums import (
    AlarmKind,
    AlarmStatus,
    ApplicationStatus,
    FindingSeverity,
    MessageKind,
    NoticeStatus,
    Role,
    Sector,
    VerificationOpinion,
    VerificationStatus,
)
from services.compliance.workflow import Action as NoticeAction
from services.verification.workflow import Action as VerificationAction

__all__ = [
    "AlarmKind",
    "AlarmStatus",
    "ApplicationStatus",
    "Decision",
    "FindingSeverity",
    "MessageKind",
    "NoticeAction",
    "NoticeStatus",
    "Role",
    "Sector",
    "VerificationAction",
    "VerificationOpinion",
    "VerificationStatus",
]

strawberry.enum(
    Role,
    description=(
        "What a user may do. ADMIN: users and enterprises; REGULATOR: allocation, notices and "
        "review within its region; ENTERPRISE: its own enterprise only; VERIFIER: the "
        "verifications assigned to its verification body only."
    ),
)
strawberry.enum(Sector, description="The national ETS sector of an enterprise.")
strawberry.enum(
    NoticeStatus,
    description=(
        "ISSUED: sent, not yet acknowledged; ACKNOWLEDGED: receipt confirmed; UNDER_REVIEW: an "
        "application awaits review (审核中); REJECTED: the last application was rejected and the "
        "enterprise may resubmit until the deadline; FULFILLED: approved (已履约); OVERDUE: not "
        "fulfilled by the deadline (逾期未履约)."
    ),
)
strawberry.enum(
    ApplicationStatus,
    description=(
        "What the enterprise sees of an application: UNDER_REVIEW, APPROVED (已通过) or REJECTED (未通过)."
    ),
)
strawberry.enum(MessageKind, description="What an inbox message is about.")
strawberry.enum(
    AlarmKind,
    description="ACK_OVERDUE: receipt not confirmed within the notice's window; NOTICE_OVERDUE: not fulfilled "
    "by the deadline; VERIFICATION_OVERDUE: a verification not concluded by its due date.",
)
strawberry.enum(AlarmStatus, description="OPEN until a regulator resolves it.")
strawberry.enum(
    NoticeAction,
    name="NoticeAction",
    description="An action on a notice. allowedActions lists those the caller may take next; MARK_OVERDUE is the system's.",
)

strawberry.enum(
    VerificationStatus,
    description="ASSIGNED: a body is assigned; REPORT_SUBMITTED: the enterprise's report awaits the "
    "verifier; FINDINGS_RAISED: the verifier asked for answers or corrections; CONCLUDED: a conclusion "
    "stands.",
)
strawberry.enum(FindingSeverity, description="OBSERVATION (a remark or suggestion), MINOR or MAJOR.")
strawberry.enum(VerificationOpinion, description="UNQUALIFIED (无保留), QUALIFIED (保留) or ADVERSE (否定).")
strawberry.enum(
    VerificationAction,
    name="VerificationAction",
    description="An action on a verification. allowedActions lists those the caller may take next.",
)


@strawberry.enum(description="A regulator's decision on an application.")
class Decision(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"
