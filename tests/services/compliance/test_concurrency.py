"""Racing writers: whatever the interleaving, one wins and the database stays consistent.

On PostgreSQL the calls run on separate pooled connections and really overlap (row locks
and the version compare-and-set decide); on SQLite Tortoise serialises transactions on its
one connection, so the same tests check that the loser still gets a clean, coded answer.
Each race is run for several rounds, each on a fresh notice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from models import (
    Allowance,
    Application,
    ApplicationStatus,
    AuditEvent,
    Message,
    MessageKind,
    Notice,
    NoticeStatus,
)
from services.compliance import notices
from services.compliance.allowances import set_initial_allowance
from services.compliance.workflow import Action
from services.errors import ErrorCode, ServiceError
from tests.conftest import World, pdf
from tests.services.cycle import Cycle, issue

ROUNDS = 5
LOSING_CODES = {ErrorCode.APPLICATION_ALREADY_DECIDED, ErrorCode.CONCURRENT_MODIFICATION}


async def race(*calls: Awaitable[Any]) -> list[Any]:
    """Run the calls at the same moment; coded failures are returned, anything else raised."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, ServiceError):
            raise result
    return results


def winners(results: list[Any]) -> list[Any]:
    return [r for r in results if not isinstance(r, ServiceError)]


def losers(results: list[Any]) -> list[ServiceError]:
    return [r for r in results if isinstance(r, ServiceError)]


async def assert_consistent(notice_id: int) -> None:
    """At most one application under review, and the notice's status agrees with the latest one."""
    notice = await Notice.get(id=notice_id)
    applications = await Application.filter(notice_id=notice_id).order_by("id")
    assert sum(a.status == ApplicationStatus.UNDER_REVIEW for a in applications) <= 1
    expected = {
        ApplicationStatus.UNDER_REVIEW: NoticeStatus.UNDER_REVIEW,
        ApplicationStatus.APPROVED: NoticeStatus.FULFILLED,
        ApplicationStatus.REJECTED: NoticeStatus.REJECTED,
    }
    if applications:
        assert notice.status == expected[applications[-1].status]
        assert all(a.status != ApplicationStatus.UNDER_REVIEW for a in applications[:-1])
    submitted = await AuditEvent.filter(notice_id=notice_id, action="application.submitted").count()
    assert submitted == len(applications)


async def test_two_regulators_deciding_at_once_produce_one_decision(world: World, files) -> None:
    for _ in range(ROUNDS):
        cycle = await Cycle.start(world, files)
        application = await cycle.under_review()
        colleague = await world.regulator("44")

        results = await race(
            cycle.review(application, Action.APPROVE),
            cycle.review(application, Action.REJECT, "Report unsigned", actor=colleague),
        )

        [won], [lost] = winners(results), losers(results)
        assert lost.code in LOSING_CODES, repr(lost)
        stored = await Application.get(id=application.id)
        assert (stored.status, stored.decided_by_id) == (won.status, won.decided_by_id)
        notice = await cycle.reload()
        assert (
            notice.status
            == {
                ApplicationStatus.APPROVED: NoticeStatus.FULFILLED,
                ApplicationStatus.REJECTED: NoticeStatus.REJECTED,
            }[won.status]
        )
        decisions = await AuditEvent.filter(
            entity_type="Application",
            entity_id=application.id,
            action__in=["application.approved", "application.rejected"],
        )
        assert [e.actor_id for e in decisions] == [won.decided_by_id]
        assert await Message.filter(notice_id=notice.id, kind=MessageKind.REVIEW_RESULT).count() == 1
        await assert_consistent(notice.id)


async def test_the_same_decision_twice_at_once_is_recorded_once(world: World, files) -> None:
    for _ in range(ROUNDS):
        cycle = await Cycle.start(world, files)
        application = await cycle.under_review()
        results = await race(*(cycle.review(application, Action.APPROVE) for _ in range(3)))
        assert len(winners(results)) == 1
        assert {e.code for e in losers(results)} <= LOSING_CODES
        assert await AuditEvent.filter(action="application.approved", entity_id=application.id).count() == 1
        assert await Message.filter(notice_id=cycle.notice.id, kind=MessageKind.REVIEW_RESULT).count() == 1
        assert (await cycle.reload()).version == 4


async def test_a_resubmission_racing_a_rejection_never_leaves_two_applications_under_review(
    world: World, files
) -> None:
    for _ in range(ROUNDS):
        cycle = await Cycle.start(world, files)
        first = await cycle.under_review()

        reviewed, resubmitted = await race(
            cycle.review(first, Action.REJECT, "Report unsigned"),
            cycle.submit(verified_emissions=1000),
        )

        # The rejection starts from a valid state, so it always wins; the resubmission is
        # either refused (it saw the notice still under review) or came cleanly after it.
        assert not isinstance(reviewed, ServiceError), repr(reviewed)
        if isinstance(resubmitted, ServiceError):
            assert resubmitted.code in {ErrorCode.INVALID_TRANSITION, ErrorCode.CONCURRENT_MODIFICATION}
            assert await Application.filter(notice_id=cycle.notice.id).count() == 1
        else:
            assert resubmitted.status == ApplicationStatus.UNDER_REVIEW
        await assert_consistent(cycle.notice.id)


async def test_two_resubmissions_at_once_leave_one_application_under_review(world: World, files) -> None:
    for _ in range(ROUNDS):
        cycle = await Cycle.start(world, files)
        await cycle.review(await cycle.under_review(), Action.REJECT, "Report unsigned")

        results = await race(
            cycle.submit(verified_emissions=1000, idempotency_key="laptop"),
            cycle.submit(verified_emissions=1001, idempotency_key="phone"),
        )

        [won], [lost] = winners(results), losers(results)
        assert lost.code in {ErrorCode.INVALID_TRANSITION, ErrorCode.CONCURRENT_MODIFICATION}, repr(lost)
        under_review = await Application.filter(
            notice_id=cycle.notice.id, status=ApplicationStatus.UNDER_REVIEW
        )
        assert [a.id for a in under_review] == [won.id]
        await assert_consistent(cycle.notice.id)


async def test_a_submission_retried_while_the_first_attempt_runs_creates_one_application(
    world: World, files
) -> None:
    for _ in range(ROUNDS):
        cycle = await Cycle.start(world, files)
        await cycle.acknowledge()

        results = await race(*(cycle.submit(idempotency_key="click") for _ in range(2)))

        assert not losers(results), losers(results)
        assert len({a.id for a in results}) == 1
        assert await Application.filter(notice_id=cycle.notice.id).count() == 1
        await assert_consistent(cycle.notice.id)


async def test_two_acknowledgements_at_once_are_recorded_once(world: World, files) -> None:
    for _ in range(ROUNDS):
        cycle = await Cycle.start(world, files)
        colleague = await world.member(cycle.enterprise)
        results = await race(cycle.acknowledge(), notices.acknowledge_notice(colleague, cycle.notice.id))
        assert not losers(results), losers(results)
        assert await AuditEvent.filter(notice_id=cycle.notice.id, action="notice.acknowledged").count() == 1
        notice = await cycle.reload()
        assert (notice.status, notice.version) == (NoticeStatus.ACKNOWLEDGED, 2)


async def test_two_notices_issued_at_once_for_one_year_yield_one(world: World, files) -> None:
    for _ in range(ROUNDS):
        enterprise = await world.enterprise("440113")
        regulator, colleague = await world.regulator("44"), await world.regulator("4401")
        await world.allowance(regulator, enterprise, 1000)

        results = await race(
            issue(regulator, files, enterprise, document=pdf()),
            issue(colleague, files, enterprise, document=pdf()),
        )

        [won], [lost] = winners(results), losers(results)
        assert lost.code == ErrorCode.NOTICE_ALREADY_ISSUED, repr(lost)
        assert [n.id for n in await Notice.filter(enterprise_id=enterprise.id)] == [won.id]
        assert await Message.filter(enterprise_id=enterprise.id).count() == 2


async def test_an_allowance_correction_racing_the_notice_never_diverges_from_its_snapshot(
    world: World, files
) -> None:
    for _ in range(ROUNDS):
        enterprise = await world.enterprise("440113")
        regulator = await world.regulator("44")
        await world.allowance(regulator, enterprise, 1000)

        corrected, issued = await race(
            set_initial_allowance(regulator, enterprise.id, 2025, 1500),
            issue(regulator, files, enterprise, document=pdf()),
        )

        assert not isinstance(issued, ServiceError), repr(issued)
        if isinstance(corrected, ServiceError):
            assert corrected.code == ErrorCode.ALLOWANCE_LOCKED
        allowance = await Allowance.get(enterprise_id=enterprise.id, year=2025)
        notice = await Notice.get(enterprise_id=enterprise.id, year=2025)
        assert notice.allowance == allowance.amount


async def test_two_first_allocations_at_once_leave_one_allowance(world: World) -> None:
    for _ in range(ROUNDS):
        enterprise = await world.enterprise("440113")
        regulator, colleague = await world.regulator("44"), await world.regulator("4401")

        results = await race(
            set_initial_allowance(regulator, enterprise.id, 2025, 1000),
            set_initial_allowance(colleague, enterprise.id, 2025, 1200),
        )

        [stored] = await Allowance.filter(enterprise_id=enterprise.id, year=2025)
        assert stored.amount in {r.amount for r in winners(results)}
        assert {e.code for e in losers(results)} <= {ErrorCode.CONCURRENT_MODIFICATION}
        events = await AuditEvent.filter(action="allowance.set", entity_id=stored.id).order_by("id")
        assert len(events) == len(winners(results))
        assert events[-1].data["after"] == stored.amount
