"""The compliance-notice state machine: the one place that knows the statuses and moves.

    ISSUED --acknowledge--> ACKNOWLEDGED --submit--> UNDER_REVIEW --approve--> FULFILLED
                                 REJECTED <--reject-----'   ^
                                     '--------submit--------'

    ISSUED, ACKNOWLEDGED, REJECTED --deadline passes--> OVERDUE

Each action belongs to one role (MARK_OVERDUE to the system); submitting is also
bound by the deadline. An application under review when the deadline passes was
submitted in time: it is decided as usual, and only a rejection then leads on to
OVERDUE.
Services call `transition` to move and `allowed_actions` to tell clients
what they may do next, so the two can never disagree.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from models import ApplicationStatus, Notice, NoticeStatus, Role
from services.access import Actor
from services.errors import ErrorCode, ServiceError
from services.i18n.render import Term


class Action(StrEnum):
    ACKNOWLEDGE = "ACKNOWLEDGE"
    SUBMIT_APPLICATION = "SUBMIT_APPLICATION"
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    EXTEND_DEADLINE = "EXTEND_DEADLINE"
    MARK_OVERDUE = "MARK_OVERDUE"


S = NoticeStatus
TRANSITIONS: dict[tuple[NoticeStatus, Action], NoticeStatus] = {
    (S.ISSUED, Action.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.ACKNOWLEDGED, Action.SUBMIT_APPLICATION): S.UNDER_REVIEW,
    (S.REJECTED, Action.SUBMIT_APPLICATION): S.UNDER_REVIEW,
    (S.UNDER_REVIEW, Action.APPROVE): S.FULFILLED,
    (S.UNDER_REVIEW, Action.REJECT): S.REJECTED,
    **{(s, Action.EXTEND_DEADLINE): s for s in (S.ISSUED, S.ACKNOWLEDGED, S.UNDER_REVIEW, S.REJECTED)},
    **{(s, Action.MARK_OVERDUE): S.OVERDUE for s in (S.ISSUED, S.ACKNOWLEDGED, S.REJECTED)},
}

# Statuses whose deadline passing makes them OVERDUE (the sweep looks for these).
OVERDUE_FROM = frozenset(s for (s, a) in TRANSITIONS if a == Action.MARK_OVERDUE)

PERFORMED_BY: dict[Action, Role | None] = {
    Action.ACKNOWLEDGE: Role.ENTERPRISE,
    Action.SUBMIT_APPLICATION: Role.ENTERPRISE,
    Action.APPROVE: Role.REGULATOR,
    Action.REJECT: Role.REGULATOR,
    Action.EXTEND_DEADLINE: Role.REGULATOR,
    Action.MARK_OVERDUE: None,  # the system, when the deadline passes
}

VERBS: dict[Action, str] = {
    Action.ACKNOWLEDGE: "acknowledge",
    Action.SUBMIT_APPLICATION: "submit an application against",
    Action.APPROVE: "approve the application of",
    Action.REJECT: "reject the application of",
    Action.EXTEND_DEADLINE: "extend the deadline of",
    Action.MARK_OVERDUE: "mark overdue",
}

BEFORE_DEADLINE_ONLY = frozenset({Action.SUBMIT_APPLICATION})

DECISIONS: dict[Action, ApplicationStatus] = {
    Action.APPROVE: ApplicationStatus.APPROVED,
    Action.REJECT: ApplicationStatus.REJECTED,
}


def transition(notice: Notice, action: Action, now: datetime) -> NoticeStatus:
    """The status `action` leads to from the notice's current one, or a coded error."""
    target = TRANSITIONS.get((notice.status, action))
    if target is None:
        if action == Action.SUBMIT_APPLICATION and notice.status == S.ISSUED:
            raise ServiceError(ErrorCode.NOTICE_NOT_ACKNOWLEDGED, "acknowledge the notice before applying")
        raise ServiceError(
            ErrorCode.INVALID_TRANSITION,
            "cannot {action} a notice that is {status}",
            params={"action": Term(VERBS[action]), "status": Term(notice.status.value)},
        )
    if action == Action.MARK_OVERDUE and now < notice.deadline:
        raise ServiceError(ErrorCode.INVALID_TRANSITION, "the deadline has not passed yet")
    if action in BEFORE_DEADLINE_ONLY and now >= notice.deadline:
        raise ServiceError(
            ErrorCode.DEADLINE_PASSED,
            "the deadline {deadline} has passed",
            params={"deadline": notice.deadline},
        )
    return target


def allowed_actions(notice: Notice, actor: Actor, now: datetime) -> list[Action]:
    """What this caller may do next with this (visible) notice."""
    return [
        action
        for (status, action) in TRANSITIONS
        if status == notice.status
        and PERFORMED_BY[action] == actor.role
        and not (action in BEFORE_DEADLINE_ONLY and now >= notice.deadline)
    ]
