"""Allocation plans: preview, save a draft, commit it into the year's allowances and inbox
messages, supersede only explicitly, lock once notices are out, issue the plan's notices once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest_asyncio

from models import (
    AllocationLine,
    AllocationPlan,
    AllocationRule,
    Allowance,
    AuditEvent,
    Document,
    Enterprise,
    Message,
    MessageKind,
    Notice,
    NoticeStatus,
    PlanStatus,
)
from services.access import Actor
from services.allocation import plans
from services.allocation.rules import Parameters, Scope
from services.compliance import inbox
from services.compliance.allowances import set_initial_allowance
from services.compliance.documents import FileStore
from services.errors import ErrorCode
from services.live.events import Event, EventType
from services.values import Raw
from tests.conftest import World, in_days, pdf
from tests.services.allocation.test_allocation import history
from tests.services.cycle import fails_with, issue, unchanged

YEAR = 2025


async def draft(
    actor: Actor,
    rule: AllocationRule = AllocationRule.HISTORICAL_EMISSIONS,
    total: Raw | None = 3000,
    scope: Scope | None = None,
    **parameters: Any,
) -> AllocationPlan:
    return await plans.create_plan(
        actor,
        year=YEAR,
        rule=rule,
        scope=scope or Scope(region_prefix="44"),
        total=total,
        parameters=Parameters(**parameters),
    )


async def notices_for_plan(actor: Actor, files: FileStore, plan: AllocationPlan) -> list[Notice]:
    return await plans.issue_notices_for_plan(
        actor,
        files,
        plan.id,
        deadline=in_days(60),
        ack_window_hours=72,
        title="2025 年度履约通知书",
        body="Surrender allowances equal to your verified 2025 emissions.",
        document=pdf(),
    )


async def lines(plan: AllocationPlan) -> dict[int, tuple[int, Decimal]]:
    return {
        line.enterprise_id: (line.amount, line.basis)
        for line in await AllocationLine.filter(plan_id=plan.id).order_by("enterprise_id")
    }


async def allowances() -> dict[int, int]:
    return dict(await Allowance.filter(year=YEAR).values_list("enterprise_id", "amount"))


async def actions() -> list[str]:
    return [e.action for e in await AuditEvent.all().order_by("id")]


class Setting:
    """Two Guangdong enterprises with three years of history, one without any, a regulator."""

    def __init__(self, regulator: Actor, a: Enterprise, b: Enterprise, c: Enterprise) -> None:
        self.regulator, self.a, self.b, self.c = regulator, a, b, c


@pytest_asyncio.fixture
async def setting(world: World) -> Setting:
    a, b, c = [await world.enterprise("440113") for _ in range(3)]
    for year in (2022, 2023, 2024):
        await history(a, year, 1000)
        await history(b, year, 500)
    return Setting(await world.regulator("44"), a, b, c)


async def test_a_preview_saves_nothing_but_its_audit_event(setting: Setting) -> None:
    result = await plans.preview(
        setting.regulator,
        year=YEAR,
        rule=AllocationRule.HISTORICAL_EMISSIONS,
        scope=Scope(region_prefix="44"),
        total=None,
        parameters=Parameters(reduction_rate="0.1"),
    )
    assert result.amounts == {setting.a.id: 900, setting.b.id: 450}
    assert not await AllocationPlan.exists()
    assert not await Allowance.exists()
    event = await AuditEvent.get(action="allocation.previewed")
    assert (event.actor_id, event.entity_type, event.entity_id) == (
        setting.regulator.user_id,
        "User",
        setting.regulator.user_id,
    )
    assert event.data == {
        "year": YEAR,
        "rule": "HISTORICAL_EMISSIONS",
        "total": 1350,
        "scope": {"region_prefix": "44"},
        "parameters": {"reduction_rate": "0.1"},
    }


async def test_a_draft_keeps_the_lines_the_parameters_and_who_needs_manual_input(setting: Setting) -> None:
    plan = await draft(setting.regulator)
    assert (plan.status, plan.year, plan.rule, plan.total, plan.allocated) == (
        PlanStatus.DRAFT,
        YEAR,
        AllocationRule.HISTORICAL_EMISSIONS,
        3000,
        3000,
    )
    assert await lines(plan) == {setting.a.id: (2000, Decimal(1000)), setting.b.id: (1000, Decimal(500))}
    assert plan.scope == {"region_prefix": "44"}
    assert plan.parameters == {"baseYears": [2022, 2023, 2024]}
    assert plan.manual == [
        {"enterpriseId": setting.c.id, "reason": "no verified emissions in the base years"}
    ]
    assert (plan.created_by_id, plan.committed_at, plan.scale_factor) == (
        setting.regulator.user_id,
        None,
        None,
    )
    assert not await Allowance.exists()
    assert not await Message.exists()
    event = await AuditEvent.get(action="allocation.plan_created")
    assert (event.entity_type, event.entity_id, event.data) == (
        "AllocationPlan",
        plan.id,
        {"year": YEAR, "rule": "HISTORICAL_EMISSIONS"},
    )


async def test_a_benchmark_draft_records_its_scale_factor(world: World) -> None:
    a, b = await world.enterprise("440113"), await world.enterprise("440113")
    await history(a, 2024, output={"POWER_COAL_GT300": 1_000_000})
    await history(b, 2024, output={"POWER_GAS": 1_000_000})
    plan = await draft(
        await world.regulator("44"), AllocationRule.BENCHMARK, 1_000_000, correction_factor="1"
    )
    assert plan.allocated == 1_000_000
    assert plan.scale_factor == Decimal(
        "0.893016610108"
    )  # 1,000,000 / 1,119,800 = 0.89301661010894.., rounded down
    assert plan.parameters == {"correction_factor": "1", "baseYears": [2024]}
    assert sum(amount for amount, _ in (await lines(plan)).values()) == 1_000_000


async def test_a_plan_that_cannot_be_computed_saves_nothing(world: World) -> None:
    await history(await world.enterprise("440113"), 2024, output={"CLINKER": 10})
    regulator = await world.regulator("44")
    async with unchanged():
        with fails_with(ErrorCode.NO_BENCHMARK):
            await draft(regulator, AllocationRule.BENCHMARK, None)
    assert not await AllocationPlan.exists()


async def test_committing_writes_the_allowances_sends_messages_and_freezes_the_plan(
    setting: Setting, published: list[Event]
) -> None:
    plan = await draft(setting.regulator)
    committed = await plans.commit_plan(setting.regulator, plan.id)
    assert committed.status == PlanStatus.COMMITTED and committed.committed_at is not None
    assert await allowances() == {setting.a.id: 2000, setting.b.id: 1000}
    rows = await Allowance.filter(year=YEAR)
    assert {r.updated_by_id for r in rows} == {setting.regulator.user_id}  # type: ignore[attr-defined]
    messages = await Message.filter(kind=MessageKind.ALLOWANCE).order_by("enterprise_id")
    assert [(m.enterprise_id, m.title, m.body) for m in messages] == [
        (
            setting.a.id,
            "2025 年度配额通告",
            f"贵单位 2025 年度的初始配额为 2000 吨二氧化碳（配额分配方案 {plan.id}）。",
        ),
        (
            setting.b.id,
            "2025 年度配额通告",
            f"贵单位 2025 年度的初始配额为 1000 吨二氧化碳（配额分配方案 {plan.id}）。",
        ),
    ]
    assert [inbox.body_of(m, "en") for m in messages] == [
        f"Your initial allowance for 2025 is {amount} tCO2 (allocation plan {plan.id})."
        for amount in (2000, 1000)
    ]
    event = await AuditEvent.get(action="allocation.plan_committed")
    assert (event.entity_id, event.reason, event.data) == (
        plan.id,
        None,
        {"enterprises": 2, "allocated": 3000},
    )
    assert (published[0].type, published[0].data) == (
        EventType.PLAN_COMMITTED,
        {"planId": plan.id, "year": YEAR},
    )
    # and each enterprise's new ALLOWANCE message, so live inboxes hear of it
    allowance_messages = await Message.filter(kind=MessageKind.ALLOWANCE).values_list("id", "enterprise_id")
    assert sorted((e.type, e.data["messageId"], e.enterprise_id) for e in published[1:]) == sorted(
        (EventType.MESSAGE_CREATED, message_id, enterprise_id)
        for message_id, enterprise_id in allowance_messages
    )


async def test_a_committed_plan_cannot_be_committed_again(setting: Setting) -> None:
    plan = await draft(setting.regulator)
    await plans.commit_plan(setting.regulator, plan.id)
    async with unchanged():
        with fails_with(ErrorCode.PLAN_NOT_DRAFT, "id"):
            await plans.commit_plan(setting.regulator, plan.id)


async def test_committing_replaces_allowances_set_by_hand_for_the_year(
    world: World, setting: Setting
) -> None:
    await world.allowance(setting.regulator, setting.a, 77)
    await world.allowance(setting.regulator, setting.a, 88, year=2024)
    await plans.commit_plan(setting.regulator, (await draft(setting.regulator)).id)
    assert await allowances() == {setting.a.id: 2000, setting.b.id: 1000}
    assert (await Allowance.get(enterprise_id=setting.a.id, year=2024)).amount == 88


async def test_a_second_plan_for_the_same_enterprises_needs_supersede_and_a_reason(setting: Setting) -> None:
    regulator = setting.regulator
    first = await draft(regulator)
    await plans.commit_plan(regulator, first.id)
    second = await draft(regulator, total=6000)
    with fails_with(ErrorCode.PLAN_EXISTS, "supersede") as info:
        await plans.commit_plan(regulator, second.id)
    assert f"[{first.id}]" in info.value.message
    with fails_with(ErrorCode.REQUIRED, "reason"):
        await plans.commit_plan(regulator, second.id, supersede=True, reason="  ")
    assert await allowances() == {setting.a.id: 2000, setting.b.id: 1000}

    await plans.commit_plan(regulator, second.id, supersede=True, reason="2025 cap raised by the ministry")
    await first.refresh_from_db()
    assert (first.status, first.superseded_by_id) == (PlanStatus.SUPERSEDED, second.id)
    assert await allowances() == {setting.a.id: 4000, setting.b.id: 2000}
    superseded = await AuditEvent.get(action="allocation.plan_superseded")
    assert (superseded.entity_id, superseded.reason, superseded.data) == (
        first.id,
        "2025 cap raised by the ministry",
        {"by": second.id},
    )
    committed = await AuditEvent.filter(action="allocation.plan_committed").order_by("id")
    assert [(e.entity_id, e.reason) for e in committed] == [
        (first.id, None),
        (second.id, "2025 cap raised by the ministry"),
    ]


async def test_a_plan_overlapping_in_one_enterprise_counts_as_the_same_scope(setting: Setting) -> None:
    regulator = setting.regulator
    await plans.commit_plan(regulator, (await draft(regulator)).id)
    narrow = await draft(regulator, AllocationRule.DIRECT, None, Scope(enterprise_ids=(setting.b.id,)), direct=((setting.b.id, 10),))  # fmt: skip
    with fails_with(ErrorCode.PLAN_EXISTS):
        await plans.commit_plan(regulator, narrow.id)


async def test_plans_for_different_enterprises_or_years_do_not_collide(
    world: World, setting: Setting
) -> None:
    regulator = setting.regulator
    other = await world.enterprise("440305")
    only_a = await draft(regulator, AllocationRule.EQUAL, 10, Scope(enterprise_ids=(setting.a.id,)))
    only_other = await draft(regulator, AllocationRule.EQUAL, 20, Scope(enterprise_ids=(other.id,)))
    next_year = await plans.create_plan(
        regulator,
        year=2026,
        rule=AllocationRule.EQUAL,
        scope=Scope(enterprise_ids=(setting.a.id,)),
        total=30,
        parameters=Parameters(),
    )
    for plan in (only_a, only_other, next_year):
        assert (await plans.commit_plan(regulator, plan.id)).status == PlanStatus.COMMITTED
    assert await allowances() == {setting.a.id: 10, other.id: 20}
    assert (await Allowance.get(enterprise_id=setting.a.id, year=2026)).amount == 30


async def test_a_year_with_notices_issued_is_locked(setting: Setting, files: FileStore) -> None:
    regulator = setting.regulator
    plan = await draft(regulator)
    await plans.commit_plan(regulator, plan.id)
    replacement = await draft(regulator, total=9000)
    await issue(regulator, files, setting.a)
    async with unchanged():
        with fails_with(ErrorCode.PLAN_YEAR_LOCKED, "id"):
            await plans.commit_plan(regulator, replacement.id, supersede=True, reason="too late")
    assert await allowances() == {setting.a.id: 2000, setting.b.id: 1000}
    assert (await AllocationPlan.get(id=plan.id)).status == PlanStatus.COMMITTED


async def test_a_first_plan_is_locked_too_once_a_notice_for_the_year_exists(
    world: World, setting: Setting, files: FileStore
) -> None:
    await world.allowance(setting.regulator, setting.b, 123)
    plan = await draft(setting.regulator)
    await issue(setting.regulator, files, setting.b)
    with fails_with(ErrorCode.PLAN_YEAR_LOCKED):
        await plans.commit_plan(setting.regulator, plan.id)
    assert await allowances() == {setting.b.id: 123}


async def test_no_draft_is_saved_for_a_year_whose_notices_are_issued(
    world: World, setting: Setting, files: FileStore
) -> None:
    await world.allowance(setting.regulator, setting.b, 123)
    await issue(setting.regulator, files, setting.b)
    async with unchanged():
        with fails_with(ErrorCode.PLAN_YEAR_LOCKED, "year"):
            await draft(setting.regulator)
    assert not await AllocationPlan.exists()
    # enterprises without a notice for the year can still be planned
    only_a = await draft(setting.regulator, AllocationRule.EQUAL, 10, Scope(enterprise_ids=(setting.a.id,)))
    assert only_a.status == PlanStatus.DRAFT


async def test_issuing_the_plans_notices_goes_through_the_notice_workflow_once(
    setting: Setting, files: FileStore
) -> None:
    regulator = setting.regulator
    plan = await draft(regulator)
    await plans.commit_plan(regulator, plan.id)
    issued = await notices_for_plan(regulator, files, plan)
    assert sorted((n.enterprise_id, n.year, n.allowance, n.status) for n in issued) == [
        (setting.a.id, YEAR, 2000, NoticeStatus.ISSUED),
        (setting.b.id, YEAR, 1000, NoticeStatus.ISSUED),
    ]
    documents = await Document.filter(id__in=[n.document_id for n in issued])
    assert {(d.enterprise_id, d.sha256) for d in documents} == {  # type: ignore[attr-defined]
        (setting.a.id, documents[0].sha256),
        (setting.b.id, documents[0].sha256),
    }  # one upload, filed with each enterprise
    assert await Message.filter(kind=MessageKind.NOTICE).count() == 2
    assert await AuditEvent.filter(action="notice.issued").count() == 2
    assert await notices_for_plan(regulator, files, plan) == []
    assert await Notice.all().count() == 2
    events = await AuditEvent.filter(action="allocation.notices_issued").order_by("id")
    assert [(e.entity_id, e.data) for e in events] == [(plan.id, {"issued": 2}), (plan.id, {"issued": 0})]


async def test_notices_already_issued_by_hand_are_skipped(setting: Setting, files: FileStore) -> None:
    regulator = setting.regulator
    plan = await draft(regulator, AllocationRule.EQUAL, 10, Scope(enterprise_ids=(setting.a.id,)))
    await plans.commit_plan(regulator, plan.id)
    await issue(regulator, files, setting.a)
    assert await notices_for_plan(regulator, files, plan) == []
    assert await Notice.all().count() == 1


async def test_only_a_committed_plans_notices_are_issued(setting: Setting, files: FileStore) -> None:
    regulator = setting.regulator
    plan = await draft(regulator)
    with fails_with(ErrorCode.PLAN_NOT_COMMITTED, "planId"):
        await notices_for_plan(regulator, files, plan)
    await plans.commit_plan(regulator, plan.id)
    newer = await draft(regulator, total=3001)
    await plans.commit_plan(regulator, newer.id, supersede=True, reason="correction")
    with fails_with(ErrorCode.PLAN_NOT_COMMITTED, "planId"):
        await notices_for_plan(regulator, files, plan)  # the superseded one
    assert not await Notice.exists()


async def test_the_plans_notices_need_a_document(setting: Setting, files: FileStore) -> None:
    plan = await draft(setting.regulator)
    await plans.commit_plan(setting.regulator, plan.id)
    with fails_with(ErrorCode.DOCUMENT_REQUIRED, "document"):
        await plans.issue_notices_for_plan(
            setting.regulator, files, plan.id, deadline=in_days(60), ack_window_hours=72, title="t", body="", document=None
        )  # fmt: skip


async def test_a_regulator_of_another_region_cannot_see_or_commit_the_plan(
    world: World, setting: Setting
) -> None:
    plan = await draft(setting.regulator)
    beijing = await world.regulator("11")
    with fails_with(ErrorCode.NOT_FOUND, "id"):
        await plans.commit_plan(beijing, plan.id)
    assert not await plans.plans_for(beijing).exists()
    city = await world.regulator("4401")  # the plan is the province's, not the city's
    assert not await plans.plans_for(city).exists()
    national = await world.regulator("")
    assert [p.id for p in await plans.plans_for(national)] == [plan.id]
    assert [p.id for p in await plans.plans_for(await world.admin())] == [plan.id]
    assert (await plans.get_plan(setting.regulator, plan.id)).id == plan.id


async def test_an_enterprise_user_sees_no_plan_and_commits_none(world: World, setting: Setting) -> None:
    plan = await draft(setting.regulator)
    member = await world.member(setting.a)
    assert not await plans.plans_for(member).exists()
    with fails_with(ErrorCode.PERMISSION_DENIED):
        await plans.commit_plan(member, plan.id)
    with fails_with(ErrorCode.PERMISSION_DENIED):
        await draft(member)


async def test_the_whole_path_is_audited_in_order(setting: Setting, files: FileStore) -> None:
    regulator = setting.regulator
    await plans.preview(
        regulator,
        year=YEAR,
        rule=AllocationRule.EQUAL,
        scope=Scope(region_prefix="44"),
        total=10,
        parameters=Parameters(),
    )
    first = await draft(regulator)
    await plans.commit_plan(regulator, first.id)
    second = await draft(regulator, total=2000)
    await plans.commit_plan(regulator, second.id, supersede=True, reason="lower cap")
    await notices_for_plan(regulator, files, second)
    assert [a for a in await actions() if a.startswith("allocation.")] == [
        "allocation.previewed",
        "allocation.plan_created",
        "allocation.plan_committed",
        "allocation.plan_created",
        "allocation.plan_superseded",
        "allocation.plan_committed",
        "allocation.notices_issued",
    ]
    assert {e.actor_id for e in await AuditEvent.filter(action__startswith="allocation.")} == {
        regulator.user_id
    }


async def test_a_replacement_must_cover_every_enterprise_of_the_plan_it_supersedes(setting: Setting) -> None:
    regulator = setting.regulator
    both = await draft(regulator, scope=Scope(enterprise_ids=(setting.a.id, setting.b.id)))
    await plans.commit_plan(regulator, both.id)
    only_a = await draft(regulator, scope=Scope(enterprise_ids=(setting.a.id,)))

    with fails_with(ErrorCode.PLAN_SCOPE_SMALLER, "supersede"):
        await plans.commit_plan(regulator, only_a.id, supersede=True, reason="correction")

    await both.refresh_from_db()
    assert both.status == PlanStatus.COMMITTED


async def test_an_allowance_from_a_committed_plan_changes_only_through_a_new_plan(setting: Setting) -> None:
    plan = await draft(setting.regulator)
    await plans.commit_plan(setting.regulator, plan.id)

    with fails_with(ErrorCode.ALLOWANCE_FROM_PLAN, "amount"):
        await set_initial_allowance(setting.regulator, setting.a.id, YEAR, 999)

    assert await Allowance.get(enterprise_id=setting.a.id, year=YEAR).values_list("amount", flat=True) != 999


async def test_a_retry_after_every_notice_is_issued_needs_no_document(
    setting: Setting, files: FileStore
) -> None:
    plan = await draft(setting.regulator)
    await plans.commit_plan(setting.regulator, plan.id)
    first = await notices_for_plan(setting.regulator, files, plan)

    retry = await plans.issue_notices_for_plan(
        setting.regulator,
        files,
        plan.id,
        deadline=in_days(60),
        ack_window_hours=72,
        title="t",
        body="",
        document=None,
    )

    assert len(first) == 2 and retry == []
