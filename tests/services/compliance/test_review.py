"""The regulator's review: approval fulfils the notice, rejection sends the reason back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import Application, ApplicationStatus, AuditEvent, Message, MessageKind, NoticeStatus
from services.compliance import inbox
from services.compliance.workflow import Action
from services.errors import ErrorCode
from tests.conftest import World
from tests.services.cycle import Cycle, fails_with, unchanged

SURPLUS = {"verified_emissions": 1100, "offsets": 100, "purchased_allowances": 50}  # balance +5
SHORTFALL = {"verified_emissions": 1200, "offsets": 0, "purchased_allowances": 0}  # balance -200


async def test_approval_fulfils_the_notice(cycle: Cycle) -> None:
    application = await cycle.under_review(**SURPLUS)
    before = datetime.now(UTC)
    decided = await cycle.review(application, Action.APPROVE)
    stored = await Application.get(id=application.id)
    assert (decided.status, stored.status, stored.decided_by_id, stored.decision_reason) == (
        ApplicationStatus.APPROVED,
        ApplicationStatus.APPROVED,
        cycle.regulator.user_id,
        None,
    )
    assert stored.decided_at is not None and before <= stored.decided_at <= datetime.now(UTC)
    assert (await cycle.reload()).status == NoticeStatus.FULFILLED


async def test_approval_is_audited_and_reported_to_the_enterprise(cycle: Cycle) -> None:
    application = await cycle.under_review(**SURPLUS)
    await cycle.review(application, Action.APPROVE)
    event = await AuditEvent.get(action="application.approved")
    assert (event.actor_id, event.entity_id, event.notice_id, event.from_status, event.to_status) == (
        cycle.regulator.user_id,
        application.id,
        cycle.notice.id,
        "UNDER_REVIEW",
        "FULFILLED",
    )
    assert event.data == {"balance": 5}
    message = await Message.get(kind=MessageKind.REVIEW_RESULT)
    assert (message.enterprise_id, message.notice_id) == (cycle.enterprise.id, cycle.notice.id)
    assert message.title == f"{cycle.notice.year} 年度履约申请已通过"
    assert inbox.title_of(message, "en") == f"{cycle.notice.year}: application approved"


async def test_rejection_sends_the_reason_to_the_enterprise(cycle: Cycle) -> None:
    application = await cycle.under_review(**SURPLUS)
    decided = await cycle.review(application, Action.REJECT, "  The verifier's seal is missing  ")
    assert (decided.status, decided.decision_reason) == (
        ApplicationStatus.REJECTED,
        "The verifier's seal is missing",
    )
    assert (await cycle.reload()).status == NoticeStatus.REJECTED
    message = await Message.get(kind=MessageKind.REVIEW_RESULT)
    assert message.body == "The verifier's seal is missing"
    assert message.title == f"{cycle.notice.year} 年度履约申请未通过"
    assert inbox.title_of(message, "en") == f"{cycle.notice.year}: application rejected"
    event = await AuditEvent.get(action="application.rejected")
    assert (event.from_status, event.to_status, event.reason) == (
        "UNDER_REVIEW",
        "REJECTED",
        "The verifier's seal is missing",
    )


@pytest.mark.parametrize("reason", [None, "", "   "])
async def test_a_rejection_needs_a_reason(cycle: Cycle, reason: str | None) -> None:
    application = await cycle.under_review(**SURPLUS)
    async with unchanged():
        with fails_with(ErrorCode.REASON_REQUIRED, "reason"):
            await cycle.review(application, Action.REJECT, reason)
    assert (await Application.get(id=application.id)).status == ApplicationStatus.UNDER_REVIEW
    assert (await cycle.reload()).status == NoticeStatus.UNDER_REVIEW


async def test_approving_a_shortfall_needs_an_override_reason(cycle: Cycle) -> None:
    application = await cycle.under_review(**SHORTFALL)
    async with unchanged():
        with fails_with(ErrorCode.SHORTFALL_OVERRIDE_REQUIRED, "reason") as error:
            await cycle.review(application, Action.APPROVE)
    assert "200" in error.value.message
    decided = await cycle.review(application, Action.APPROVE, "Shortfall deducted from 2026 allocation")
    assert (decided.status, decided.decision_reason) == (
        ApplicationStatus.APPROVED,
        "Shortfall deducted from 2026 allocation",
    )
    assert (await cycle.reload()).status == NoticeStatus.FULFILLED
    assert (
        await AuditEvent.get(action="application.approved")
    ).reason == "Shortfall deducted from 2026 allocation"


async def test_an_exact_balance_is_not_a_shortfall(cycle: Cycle) -> None:
    application = await cycle.under_review(verified_emissions=1000, offsets=0, purchased_allowances=0)
    assert application.balance == 0
    assert (await cycle.review(application, Action.APPROVE)).status == ApplicationStatus.APPROVED


@pytest.mark.parametrize(
    ("first", "second"),
    [(Action.APPROVE, Action.REJECT), (Action.REJECT, Action.APPROVE), (Action.APPROVE, Action.APPROVE)],
)
async def test_an_application_is_decided_once(
    cycle: Cycle, world: World, first: Action, second: Action
) -> None:
    application = await cycle.under_review(**SURPLUS)
    await cycle.review(application, first, "first decision")
    colleague = await world.regulator("44")
    async with unchanged():
        with fails_with(ErrorCode.APPLICATION_ALREADY_DECIDED, "applicationId"):
            await cycle.review(application, second, "second decision", actor=colleague)
    stored = await Application.get(id=application.id)
    assert (stored.decided_by_id, stored.decision_reason) == (cycle.regulator.user_id, "first decision")


async def test_a_rejected_application_stays_decided_after_a_resubmission(cycle: Cycle) -> None:
    first = await cycle.under_review(**SURPLUS)
    await cycle.review(first, Action.REJECT, "Wrong report")
    second = await cycle.submit()
    with fails_with(ErrorCode.APPLICATION_ALREADY_DECIDED):
        await cycle.review(first, Action.APPROVE)
    assert (await Application.get(id=second.id)).status == ApplicationStatus.UNDER_REVIEW
    assert (await cycle.reload()).status == NoticeStatus.UNDER_REVIEW


async def test_a_regulator_of_another_province_cannot_find_the_application(
    cycle: Cycle, world: World
) -> None:
    application = await cycle.under_review(**SURPLUS)
    beijing = await world.regulator("11")
    async with unchanged():
        with fails_with(ErrorCode.NOT_FOUND, "applicationId"):
            await cycle.review(application, Action.APPROVE, actor=beijing)


async def test_a_missing_application_is_not_found(cycle: Cycle) -> None:
    with fails_with(ErrorCode.NOT_FOUND, "applicationId"):
        await cycle.review(Application(id=987654), Action.APPROVE)


@pytest.mark.parametrize("prefix", ["", "4401", "440113"])
async def test_national_city_and_county_regulators_in_scope_may_review(
    cycle: Cycle, world: World, prefix: str
) -> None:
    application = await cycle.under_review(**SURPLUS)
    reviewer = await world.regulator(prefix)
    assert (await cycle.review(application, Action.APPROVE, actor=reviewer)).decided_by_id == reviewer.user_id


async def test_enterprise_users_and_admins_cannot_review(cycle: Cycle, world: World) -> None:
    application = await cycle.under_review(**SURPLUS)
    admin = await world.admin()
    async with unchanged():
        for actor in (cycle.member, admin):
            with fails_with(ErrorCode.PERMISSION_DENIED):
                await cycle.review(application, Action.APPROVE, actor=actor)
    assert (await Application.get(id=application.id)).status == ApplicationStatus.UNDER_REVIEW


@pytest.mark.parametrize("decision", [Action.ACKNOWLEDGE, Action.SUBMIT_APPLICATION, Action.EXTEND_DEADLINE])
async def test_a_decision_is_approve_or_reject(cycle: Cycle, decision: Action) -> None:
    application = await cycle.under_review(**SURPLUS)
    async with unchanged():
        with fails_with(ErrorCode.INVALID_TRANSITION, "decision"):
            await cycle.review(application, decision, "reason")
