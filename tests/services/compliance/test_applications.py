"""Compliance applications: submission rules, the stored balance, idempotent retries, resubmission."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from models import Application, ApplicationStatus, AuditEvent, Document, Notice, NoticeStatus
from services.compliance.applications import applications_for
from services.compliance.notices import acknowledge_notice
from services.compliance.workflow import Action
from services.errors import ErrorCode
from tests.conftest import PDF, Upload, World, in_days
from tests.services.cycle import Cycle, fails_with, issue, unchanged


async def test_submitting_stores_the_figures_and_the_balance_and_moves_the_notice(cycle: Cycle) -> None:
    await cycle.acknowledge()
    before = datetime.now(UTC)
    application = await cycle.submit(
        verified_emissions="1100", offsets=100, purchased_allowances="50.0", note="  Verified by CQC  "
    )
    stored = await Application.get(id=application.id)
    assert (stored.notice_id, stored.enterprise_id, stored.status, stored.submitted_by_id) == (
        cycle.notice.id,
        cycle.enterprise.id,
        ApplicationStatus.UNDER_REVIEW,
        cycle.member.user_id,
    )
    assert (stored.verified_emissions, stored.offsets, stored.purchased_allowances, stored.allowance) == (
        1100,
        100,
        50,
        1000,
    )
    # Cap 5 % of 1100 = 55 usable offsets; 1000 + 50 + 55 - 1100 = +5.
    assert (stored.usable_offsets, stored.balance, stored.offsets_over_cap) == (55, 5, True)
    assert (stored.note, stored.decided_at, stored.idempotency_key) == ("Verified by CQC", None, None)
    assert before <= stored.submitted_at <= datetime.now(UTC)
    notice = await cycle.reload()
    assert (notice.status, notice.version) == (NoticeStatus.UNDER_REVIEW, 3)


async def test_the_verifiers_report_is_stored_with_the_application(cycle: Cycle) -> None:
    await cycle.acknowledge()
    data = PDF + b"% verifier conclusion"
    application = await cycle.submit(report=Upload(data, "审计结论报告.pdf"))
    report = await Document.get(id=application.report_id)
    digest = hashlib.sha256(data).hexdigest()
    assert (report.sha256, report.filename, report.enterprise_id, report.uploaded_by_id) == (
        digest,
        "审计结论报告.pdf",
        cycle.enterprise.id,
        cycle.member.user_id,
    )
    assert (cycle.files.root / digest[:2] / digest).read_bytes() == data


async def test_submitting_is_audited_with_the_balance(cycle: Cycle) -> None:
    application = await cycle.under_review(verified_emissions=1200, offsets=0, purchased_allowances=0)
    event = await AuditEvent.get(action="application.submitted")
    assert (event.actor_id, event.entity_type, event.entity_id, event.notice_id) == (
        cycle.member.user_id,
        "Application",
        application.id,
        cycle.notice.id,
    )
    assert (event.from_status, event.to_status) == ("ACKNOWLEDGED", "UNDER_REVIEW")
    # No conclusion stands (the notice does not require one): the enterprise's own figure and report.
    assert event.data == {
        "balance": -200,
        "offsetsOverCap": False,
        "conclusionId": None,
        "reportSha256": None,
    }


async def test_the_notices_own_offset_cap_applies(world: World, files) -> None:
    enterprise = await world.enterprise("440113")
    regulator, member = await world.regulator("44"), await world.member(enterprise)
    await world.allowance(regulator, enterprise, 1000)
    notice = await issue(regulator, files, enterprise, offset_cap_ratio="0.1")
    cycle = Cycle(world, files, enterprise, regulator, member, notice)
    application = await cycle.under_review(verified_emissions=1100, offsets=100, purchased_allowances=0)
    # Cap 10 % of 1100 = 110: all 100 offsets count; 1000 + 100 - 1100 = 0.
    assert (application.usable_offsets, application.balance, application.offsets_over_cap) == (100, 0, False)


async def test_an_unacknowledged_notice_cannot_be_applied_against(cycle: Cycle) -> None:
    async with unchanged():
        with fails_with(ErrorCode.NOTICE_NOT_ACKNOWLEDGED):
            await cycle.submit()
    assert (await cycle.reload()).status == NoticeStatus.ISSUED


async def test_nothing_can_be_submitted_after_the_deadline(cycle: Cycle) -> None:
    await cycle.acknowledge()
    await Notice.filter(id=cycle.notice.id).update(deadline=datetime.now(UTC) - timedelta(minutes=1))
    async with unchanged():
        with fails_with(ErrorCode.DEADLINE_PASSED):
            await cycle.submit()
    assert (await cycle.reload()).status == NoticeStatus.ACKNOWLEDGED


@pytest.mark.parametrize("field", ["verified_emissions", "offsets", "purchased_allowances"])
@pytest.mark.parametrize(
    ("value", "code"),
    [
        (-1, ErrorCode.NEGATIVE_QUANTITY),
        ("ten", ErrorCode.INVALID_QUANTITY),
        ("10.5", ErrorCode.INVALID_QUANTITY),
        ("NaN", ErrorCode.INVALID_QUANTITY),
    ],
)
async def test_quantities_must_be_whole_non_negative_tonnes(
    cycle: Cycle, field: str, value: object, code: ErrorCode
) -> None:
    await cycle.acknowledge()
    camel = {
        "verified_emissions": "verifiedEmissions",
        "offsets": "offsets",
        "purchased_allowances": "purchasedAllowances",
    }[field]
    async with unchanged():
        with fails_with(code, camel):
            await cycle.submit(None, **{field: value})
    assert (await cycle.reload()).status == NoticeStatus.ACKNOWLEDGED


@pytest.mark.parametrize(
    ("report", "code"),
    [
        (None, ErrorCode.DOCUMENT_REQUIRED),
        (b"plain text report", ErrorCode.DOCUMENT_TYPE_NOT_ALLOWED),
        (PDF + b"\0" * (64 * 1024), ErrorCode.DOCUMENT_TOO_LARGE),
    ],
)
async def test_the_verifiers_report_is_required_and_checked(
    cycle: Cycle, report: bytes | None, code: ErrorCode
) -> None:
    await cycle.acknowledge()
    async with unchanged():
        with fails_with(code, "report"):
            await cycle.submit(report=None if report is None else Upload(report, "report.pdf"))
    assert (await cycle.reload()).status == NoticeStatus.ACKNOWLEDGED


async def test_a_second_application_while_one_is_under_review_is_refused(cycle: Cycle) -> None:
    await cycle.under_review()
    async with unchanged():
        with fails_with(ErrorCode.INVALID_TRANSITION):
            await cycle.submit(verified_emissions=900)


async def test_nothing_can_be_submitted_once_fulfilled(cycle: Cycle) -> None:
    await cycle.review(await cycle.under_review(), Action.APPROVE)
    async with unchanged():
        with fails_with(ErrorCode.INVALID_TRANSITION):
            await cycle.submit()


async def test_only_the_enterprise_itself_submits(cycle: Cycle, world: World) -> None:
    await cycle.acknowledge()
    stranger = await world.member(await world.enterprise("440113"))
    admin = await world.admin()
    async with unchanged():
        with fails_with(ErrorCode.NOT_FOUND, "noticeId"):
            await cycle.submit(stranger)
        for actor in (cycle.regulator, admin):
            with fails_with(ErrorCode.PERMISSION_DENIED):
                await cycle.submit(actor)


# -- idempotent retries ------------------------------------------------------------------------


async def test_a_retry_with_the_same_key_returns_the_first_application(cycle: Cycle) -> None:
    await cycle.acknowledge()
    first = await cycle.submit(idempotency_key="submit-2025-1")
    assert (await cycle.reload()).status == NoticeStatus.UNDER_REVIEW
    async with unchanged():
        retry = await cycle.submit(idempotency_key=" submit-2025-1 ", verified_emissions=999)
    assert retry.id == first.id
    assert (retry.verified_emissions, retry.idempotency_key) == (1100, "submit-2025-1")
    assert await Application.filter(notice_id=cycle.notice.id).count() == 1
    assert await AuditEvent.filter(action="application.submitted").count() == 1


async def test_a_retry_after_the_review_still_returns_the_first_application(cycle: Cycle) -> None:
    await cycle.acknowledge()
    first = await cycle.submit(idempotency_key="k")
    await cycle.review(first, Action.APPROVE)
    async with unchanged():
        retry = await cycle.submit(idempotency_key="k")
    assert (retry.id, retry.status) == (first.id, ApplicationStatus.APPROVED)


async def test_a_key_belongs_to_one_notice(cycle: Cycle, world: World) -> None:
    await world.allowance(cycle.regulator, cycle.enterprise, 1200, 2026)
    next_year = await issue(cycle.regulator, cycle.files, cycle.enterprise, year=2026, deadline=in_days(400))
    await cycle.acknowledge()
    await cycle.submit(idempotency_key="my-key")
    await acknowledge_notice(cycle.member, next_year.id)
    async with unchanged():
        with fails_with(ErrorCode.IDEMPOTENCY_KEY_REUSED, "idempotencyKey"):
            await cycle.submit(notice_id=next_year.id, idempotency_key="my-key")
    assert (await Notice.get(id=next_year.id)).status == NoticeStatus.ACKNOWLEDGED


async def test_keys_of_different_enterprises_do_not_collide(cycle: Cycle, world: World) -> None:
    other = await Cycle.start(world, cycle.files)
    await cycle.acknowledge()
    await other.acknowledge()
    mine = await cycle.submit(idempotency_key="2025")
    theirs = await other.submit(idempotency_key="2025")
    assert mine.id != theirs.id
    assert (mine.enterprise_id, theirs.enterprise_id) == (cycle.enterprise.id, other.enterprise.id)


async def test_a_blank_key_is_no_key(cycle: Cycle) -> None:
    await cycle.acknowledge()
    application = await cycle.submit(idempotency_key="   ")
    assert application.idempotency_key is None


# -- resubmission ------------------------------------------------------------------------------


async def test_after_a_rejection_the_enterprise_resubmits_and_both_applications_are_kept(
    cycle: Cycle,
) -> None:
    first = await cycle.under_review(verified_emissions=1100, offsets=0, purchased_allowances=0)
    await cycle.review(first, Action.REJECT, "Report is unsigned")
    assert (await cycle.reload()).status == NoticeStatus.REJECTED
    second = await cycle.submit(verified_emissions=1100, offsets=0, purchased_allowances=100)
    assert second.id != first.id
    rows = await Application.filter(notice_id=cycle.notice.id).order_by("id")
    assert [(a.id, a.status, a.balance, a.decision_reason) for a in rows] == [
        (first.id, ApplicationStatus.REJECTED, -100, "Report is unsigned"),
        (second.id, ApplicationStatus.UNDER_REVIEW, 0, None),
    ]
    assert (await cycle.reload()).status == NoticeStatus.UNDER_REVIEW


async def test_a_resubmission_needs_a_new_key(cycle: Cycle) -> None:
    first = await cycle.under_review(idempotency_key="attempt-1")
    await cycle.review(first, Action.REJECT, "Wrong year")
    assert (await cycle.submit(idempotency_key="attempt-1")).id == first.id
    assert (await cycle.reload()).status == NoticeStatus.REJECTED
    second = await cycle.submit(idempotency_key="attempt-2")
    assert second.id != first.id and second.status == ApplicationStatus.UNDER_REVIEW


async def test_a_rejected_notice_cannot_be_resubmitted_after_the_deadline(cycle: Cycle) -> None:
    await cycle.review(await cycle.under_review(), Action.REJECT, "Missing report page")
    await Notice.filter(id=cycle.notice.id).update(deadline=in_days(-1))
    async with unchanged():
        with fails_with(ErrorCode.DEADLINE_PASSED):
            await cycle.submit()


# -- finding applications ----------------------------------------------------------------------


async def test_applications_are_seen_by_their_enterprise_and_the_regulators_in_scope(
    cycle: Cycle, world: World
) -> None:
    application = await cycle.under_review()
    for actor in (cycle.member, cycle.regulator, await world.regulator(""), await world.admin()):
        assert [a.id for a in await applications_for(actor)] == [application.id]
    for actor in (await world.member(await world.enterprise("440113")), await world.regulator("11")):
        assert await applications_for(actor).count() == 0
