"""The notice state machine: every (status, action) pair, the deadline, and allowed actions per role.

MARK_OVERDUE is the system's move when a deadline passes: no user is ever offered it.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from models import Notice, NoticeStatus, Role
from services.access import Actor
from services.compliance.workflow import Action, allowed_actions, transition
from services.errors import ErrorCode, ServiceError
from tests.services.cycle import fails_with

S = NoticeStatus
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BEFORE_DEADLINE = NOW + timedelta(days=1)
AFTER_DEADLINE = NOW - timedelta(seconds=1)

# Written out by hand from the domain brief, not copied from the module under test.
ALLOWED = {
    (S.ISSUED, Action.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.ACKNOWLEDGED, Action.SUBMIT_APPLICATION): S.UNDER_REVIEW,
    (S.REJECTED, Action.SUBMIT_APPLICATION): S.UNDER_REVIEW,
    (S.UNDER_REVIEW, Action.APPROVE): S.FULFILLED,
    (S.UNDER_REVIEW, Action.REJECT): S.REJECTED,
    (S.ISSUED, Action.EXTEND_DEADLINE): S.ISSUED,
    (S.ACKNOWLEDGED, Action.EXTEND_DEADLINE): S.ACKNOWLEDGED,
    (S.UNDER_REVIEW, Action.EXTEND_DEADLINE): S.UNDER_REVIEW,
    (S.REJECTED, Action.EXTEND_DEADLINE): S.REJECTED,
}
# Moves a user makes; MARK_OVERDUE depends on the deadline and is tested on its own below.
REFUSED = [
    pair for pair in itertools.product(S, Action) if pair not in ALLOWED and pair[1] != Action.MARK_OVERDUE
]
GOES_OVERDUE = [S.ISSUED, S.ACKNOWLEDGED, S.REJECTED]
NEVER_OVERDUE = [S.UNDER_REVIEW, S.FULFILLED, S.OVERDUE]
BY_ROLE = {
    Role.ENTERPRISE: {Action.ACKNOWLEDGE, Action.SUBMIT_APPLICATION},
    Role.REGULATOR: {Action.APPROVE, Action.REJECT, Action.EXTEND_DEADLINE},
    Role.ADMIN: set(),
}

ENTERPRISE = Actor(1, "member", Role.ENTERPRISE, enterprise_id=1)
REGULATOR = Actor(2, "regulator", Role.REGULATOR, region_prefix="44")
ADMIN = Actor(3, "admin", Role.ADMIN)


def notice(status: NoticeStatus, deadline: datetime = BEFORE_DEADLINE) -> Notice:
    return Notice(status=status, deadline=deadline)


@pytest.mark.parametrize(("status", "action"), list(ALLOWED))
def test_each_allowed_move_leads_to_its_status(status: NoticeStatus, action: Action) -> None:
    assert transition(notice(status), action, NOW) == ALLOWED[status, action]


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_each_other_move_is_refused(status: NoticeStatus, action: Action) -> None:
    expected = (
        ErrorCode.NOTICE_NOT_ACKNOWLEDGED
        if (status, action) == (S.ISSUED, Action.SUBMIT_APPLICATION)
        else ErrorCode.INVALID_TRANSITION
    )
    with fails_with(expected):
        transition(notice(status), action, NOW)


def test_the_refusal_names_the_action_and_the_status() -> None:
    with fails_with(ErrorCode.INVALID_TRANSITION) as error:
        transition(notice(S.FULFILLED), Action.EXTEND_DEADLINE, NOW)
    assert "extend the deadline" in error.value.message and "FULFILLED" in error.value.message


@pytest.mark.parametrize("status", GOES_OVERDUE)
def test_a_notice_not_yet_fulfilled_goes_overdue_once_its_deadline_has_passed(status: NoticeStatus) -> None:
    assert transition(notice(status, AFTER_DEADLINE), Action.MARK_OVERDUE, NOW) == S.OVERDUE


@pytest.mark.parametrize("status", GOES_OVERDUE)
def test_a_notice_goes_overdue_at_the_deadline_instant_itself(status: NoticeStatus) -> None:
    assert transition(notice(status, NOW), Action.MARK_OVERDUE, NOW) == S.OVERDUE


@pytest.mark.parametrize("status", GOES_OVERDUE)
def test_a_notice_does_not_go_overdue_before_its_deadline(status: NoticeStatus) -> None:
    with fails_with(ErrorCode.INVALID_TRANSITION) as error:
        transition(notice(status, BEFORE_DEADLINE), Action.MARK_OVERDUE, NOW)
    assert "deadline has not passed" in error.value.message


@pytest.mark.parametrize(
    ("status", "deadline"), list(itertools.product(NEVER_OVERDUE, [BEFORE_DEADLINE, AFTER_DEADLINE]))
)
def test_under_review_fulfilled_and_overdue_notices_never_go_overdue(
    status: NoticeStatus, deadline: datetime
) -> None:
    with fails_with(ErrorCode.INVALID_TRANSITION) as error:
        transition(notice(status, deadline), Action.MARK_OVERDUE, NOW)
    assert "mark overdue" in error.value.message and status.value in error.value.message


@pytest.mark.parametrize("status", [S.ACKNOWLEDGED, S.REJECTED])
def test_submitting_after_the_deadline_is_refused(status: NoticeStatus) -> None:
    with fails_with(ErrorCode.DEADLINE_PASSED):
        transition(notice(status, AFTER_DEADLINE), Action.SUBMIT_APPLICATION, NOW)


def test_the_deadline_instant_itself_is_already_too_late() -> None:
    with fails_with(ErrorCode.DEADLINE_PASSED):
        transition(notice(S.ACKNOWLEDGED, NOW), Action.SUBMIT_APPLICATION, NOW)


def test_an_unacknowledged_notice_says_so_even_after_the_deadline() -> None:
    with fails_with(ErrorCode.NOTICE_NOT_ACKNOWLEDGED):
        transition(notice(S.ISSUED, AFTER_DEADLINE), Action.SUBMIT_APPLICATION, NOW)


def test_a_wrong_status_wins_over_a_passed_deadline() -> None:
    with fails_with(ErrorCode.INVALID_TRANSITION):
        transition(notice(S.UNDER_REVIEW, AFTER_DEADLINE), Action.SUBMIT_APPLICATION, NOW)


@pytest.mark.parametrize(
    "action", [Action.ACKNOWLEDGE, Action.EXTEND_DEADLINE, Action.APPROVE, Action.REJECT]
)
def test_only_submitting_is_bound_by_the_deadline(action: Action) -> None:
    status = S.UNDER_REVIEW if action in (Action.APPROVE, Action.REJECT) else S.ISSUED
    assert transition(notice(status, AFTER_DEADLINE), action, NOW) == ALLOWED[status, action]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (S.ISSUED, {Action.ACKNOWLEDGE}),
        (S.ACKNOWLEDGED, {Action.SUBMIT_APPLICATION}),
        (S.UNDER_REVIEW, set()),
        (S.REJECTED, {Action.SUBMIT_APPLICATION}),
        (S.FULFILLED, set()),
        (S.OVERDUE, set()),
    ],
)
def test_an_enterprise_user_may_acknowledge_and_submit(status: NoticeStatus, expected: set[Action]) -> None:
    assert set(allowed_actions(notice(status), ENTERPRISE, NOW)) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (S.ISSUED, {Action.EXTEND_DEADLINE}),
        (S.ACKNOWLEDGED, {Action.EXTEND_DEADLINE}),
        (S.UNDER_REVIEW, {Action.APPROVE, Action.REJECT, Action.EXTEND_DEADLINE}),
        (S.REJECTED, {Action.EXTEND_DEADLINE}),
        (S.FULFILLED, set()),
        (S.OVERDUE, set()),
    ],
)
def test_a_regulator_may_review_and_extend(status: NoticeStatus, expected: set[Action]) -> None:
    assert set(allowed_actions(notice(status), REGULATOR, NOW)) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [(S.ISSUED, {Action.ACKNOWLEDGE}), (S.ACKNOWLEDGED, set()), (S.REJECTED, set())],
)
def test_after_the_deadline_an_enterprise_may_no_longer_submit(
    status: NoticeStatus, expected: set[Action]
) -> None:
    assert set(allowed_actions(notice(status, AFTER_DEADLINE), ENTERPRISE, NOW)) == expected


def test_after_the_deadline_a_regulator_may_still_review_and_extend() -> None:
    assert set(allowed_actions(notice(S.UNDER_REVIEW, AFTER_DEADLINE), REGULATOR, NOW)) == {
        Action.APPROVE,
        Action.REJECT,
        Action.EXTEND_DEADLINE,
    }


@pytest.mark.parametrize("status", list(S))
def test_an_admin_has_no_part_in_the_workflow(status: NoticeStatus) -> None:
    assert allowed_actions(notice(status), ADMIN, NOW) == []


@pytest.mark.parametrize(
    ("status", "deadline", "actor"),
    list(itertools.product(S, [BEFORE_DEADLINE, AFTER_DEADLINE], [ENTERPRISE, REGULATOR, ADMIN])),
)
def test_allowed_actions_are_exactly_the_moves_of_the_callers_role_that_succeed(
    status: NoticeStatus, deadline: datetime, actor: Actor
) -> None:
    offered = set(allowed_actions(notice(status, deadline), actor, NOW))
    succeeding = set()
    for action in Action:
        try:
            transition(notice(status, deadline), action, NOW)
        except ServiceError:
            continue
        succeeding.add(action)
    assert offered == succeeding & BY_ROLE[actor.role]


@pytest.mark.parametrize(
    ("status", "actor"), list(itertools.product(GOES_OVERDUE, [ENTERPRISE, REGULATOR, ADMIN]))
)
def test_no_user_is_offered_marking_a_notice_overdue(status: NoticeStatus, actor: Actor) -> None:
    assert Action.MARK_OVERDUE not in allowed_actions(notice(status, AFTER_DEADLINE), actor, NOW)
