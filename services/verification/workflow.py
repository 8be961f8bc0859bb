"""The verification state machine: the one place that knows its statuses and moves.

    ASSIGNED --submit report--> REPORT_SUBMITTED --issue conclusion--> CONCLUDED --correct--.
                                  |        ^                              ^-----------------'
                          add finding      '--submit report (resubmission)--.
                                  v                                          |
                             FINDINGS_RAISED --add finding / answer finding--'(stays)

    ASSIGNED, REPORT_SUBMITTED, FINDINGS_RAISED --reassign--> the same status, another body

Each action belongs to one role. A conclusion is issued on a report with no findings
outstanding: findings are answered by a resubmission, which the verifier then concludes on
(or raises more findings). A correction is a new conclusion superseding the standing one.
Services call `transition` to move and `allowed_actions` to tell clients what they may do
next, so the two cannot disagree.
"""

from __future__ import annotations

from enum import StrEnum

from models import Role, Verification, VerificationStatus
from services.access import Actor
from services.errors import ErrorCode, ServiceError


class Action(StrEnum):
    SUBMIT_REPORT = "SUBMIT_REPORT"
    ADD_FINDING = "ADD_FINDING"
    ANSWER_FINDING = "ANSWER_FINDING"
    ISSUE_CONCLUSION = "ISSUE_CONCLUSION"
    CORRECT_CONCLUSION = "CORRECT_CONCLUSION"
    REASSIGN = "REASSIGN"


S = VerificationStatus
OPEN = (S.ASSIGNED, S.REPORT_SUBMITTED, S.FINDINGS_RAISED)
TRANSITIONS: dict[tuple[VerificationStatus, Action], VerificationStatus] = {
    (S.ASSIGNED, Action.SUBMIT_REPORT): S.REPORT_SUBMITTED,
    (S.FINDINGS_RAISED, Action.SUBMIT_REPORT): S.REPORT_SUBMITTED,
    (S.REPORT_SUBMITTED, Action.ADD_FINDING): S.FINDINGS_RAISED,
    (S.FINDINGS_RAISED, Action.ADD_FINDING): S.FINDINGS_RAISED,
    (S.FINDINGS_RAISED, Action.ANSWER_FINDING): S.FINDINGS_RAISED,
    (S.REPORT_SUBMITTED, Action.ISSUE_CONCLUSION): S.CONCLUDED,
    (S.CONCLUDED, Action.CORRECT_CONCLUSION): S.CONCLUDED,
    **{(s, Action.REASSIGN): s for s in OPEN},
}

# Statuses in which a verification is still due (the overdue sweep looks for these).
NOT_CONCLUDED = frozenset(OPEN)

PERFORMED_BY: dict[Action, Role] = {
    Action.SUBMIT_REPORT: Role.ENTERPRISE,
    Action.ANSWER_FINDING: Role.ENTERPRISE,
    Action.ADD_FINDING: Role.VERIFIER,
    Action.ISSUE_CONCLUSION: Role.VERIFIER,
    Action.CORRECT_CONCLUSION: Role.VERIFIER,
    Action.REASSIGN: Role.REGULATOR,
}

VERBS: dict[Action, str] = {
    Action.SUBMIT_REPORT: "submit an emissions report for",
    Action.ADD_FINDING: "add a finding to",
    Action.ANSWER_FINDING: "answer a finding of",
    Action.ISSUE_CONCLUSION: "issue a conclusion on",
    Action.CORRECT_CONCLUSION: "correct the conclusion of",
    Action.REASSIGN: "reassign",
}


def transition(verification: Verification, action: Action) -> VerificationStatus:
    """The status `action` leads to from the verification's current one, or a coded error."""
    target = TRANSITIONS.get((verification.status, action))
    if target is not None:
        return target
    if verification.status == S.CONCLUDED and action != Action.CORRECT_CONCLUSION:
        raise ServiceError(
            ErrorCode.VERIFICATION_ALREADY_CONCLUDED,
            "the verification is concluded; a correction is a new conclusion with a reason",
        )
    raise ServiceError(
        ErrorCode.INVALID_TRANSITION,
        "cannot {action} a verification that is {status}",
        params={"action": VERBS[action], "status": verification.status.value},
    )


def allowed_actions(verification: Verification, actor: Actor) -> list[Action]:
    """What this caller may do next with this (visible) verification."""
    return [
        action
        for (status, action) in TRANSITIONS
        if status == verification.status and PERFORMED_BY[action] == actor.role
    ]
