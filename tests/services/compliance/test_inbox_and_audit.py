"""The notice timeline in the audit trail, and the inboxes of enterprises and regulators."""

from __future__ import annotations

import itertools
from datetime import timedelta

from models import AuditEvent, Message, MessageKind
from services.compliance import inbox
from services.compliance.notices import extend_deadline
from services.compliance.workflow import Action
from services.errors import ErrorCode
from tests.conftest import World
from tests.services.cycle import Cycle, fails_with

# Any catalog text will do: these tests are about whose inbox it lands in.
LATE = inbox.Text("overdue", {"year": 2026, "deadline": "2026-12-31"})


async def test_the_timeline_lists_every_step_of_a_notice_in_order(cycle: Cycle, world: World) -> None:
    first = await cycle.under_review(verified_emissions=1200, offsets=0, purchased_allowances=0)
    await cycle.review(first, Action.REJECT, "Shortfall of 200 t")
    await extend_deadline(
        cycle.regulator, cycle.notice.id, cycle.notice.deadline + timedelta(days=7), "Holiday"
    )
    colleague = await world.regulator("4401")
    second = await cycle.submit(verified_emissions=1200, offsets=0, purchased_allowances=200)
    await cycle.review(second, Action.APPROVE, actor=colleague)

    timeline = await AuditEvent.filter(notice_id=cycle.notice.id).order_by("id")
    reg, member = cycle.regulator.user_id, cycle.member.user_id
    assert [(e.action, e.actor_id, e.from_status, e.to_status, e.reason) for e in timeline] == [
        ("notice.issued", reg, None, "ISSUED", None),
        ("notice.acknowledged", member, "ISSUED", "ACKNOWLEDGED", None),
        ("application.submitted", member, "ACKNOWLEDGED", "UNDER_REVIEW", None),
        ("application.rejected", reg, "UNDER_REVIEW", "REJECTED", "Shortfall of 200 t"),
        ("notice.deadline_extended", reg, "REJECTED", "REJECTED", "Holiday"),
        ("application.submitted", member, "REJECTED", "UNDER_REVIEW", None),
        ("application.approved", colleague.user_id, "UNDER_REVIEW", "FULFILLED", None),
    ]
    assert [e.entity_id for e in timeline if e.entity_type == "Application"] == [
        first.id,
        first.id,
        second.id,
        second.id,
    ]
    assert all(a.at <= b.at for a, b in itertools.pairwise(timeline))


async def test_the_timelines_of_two_notices_do_not_mix(cycle: Cycle, world: World) -> None:
    other = await Cycle.start(world, cycle.files)
    await cycle.acknowledge()
    assert [e.action for e in await AuditEvent.filter(notice_id=other.notice.id)] == ["notice.issued"]
    assert await AuditEvent.filter(notice_id=cycle.notice.id).count() == 2


async def test_the_inbox_follows_the_cycle(cycle: Cycle) -> None:
    first = await cycle.under_review()
    await cycle.review(first, Action.REJECT, "Report unsigned")
    kinds = [m.kind for m in await inbox.messages_for(cycle.member).order_by("id")]
    assert kinds == [MessageKind.ALLOWANCE, MessageKind.NOTICE, MessageKind.REVIEW_RESULT]


async def test_an_enterprise_reads_only_its_own_inbox(cycle: Cycle, world: World) -> None:
    other = await Cycle.start(world, cycle.files)
    mine = {m.id for m in await Message.filter(enterprise_id=cycle.enterprise.id)}
    colleague = await world.member(cycle.enterprise)
    assert {m.id for m in await inbox.messages_for(cycle.member)} == mine
    assert {m.id for m in await inbox.messages_for(colleague)} == mine
    assert mine.isdisjoint(m.id for m in await inbox.messages_for(other.member))


async def test_admins_have_no_inbox(cycle: Cycle, world: World) -> None:
    await inbox.post_to_regulators("440113", MessageKind.ALARM, LATE, cycle.notice.id)
    assert await inbox.messages_for(await world.admin()).count() == 0


async def test_a_regulator_reads_the_regulator_messages_of_its_region(cycle: Cycle, world: World) -> None:
    here = await inbox.post_to_regulators("440113", MessageKind.ALARM, LATE, cycle.notice.id)
    await inbox.post_to_regulators("110105", MessageKind.ALARM, LATE)

    assert [m.id for m in await inbox.messages_for(cycle.regulator)] == [here.id]
    assert [m.id for m in await inbox.messages_for(await world.regulator("4401"))] == [here.id]
    assert await inbox.messages_for(await world.regulator("4403")).count() == 0


async def test_a_regulators_inbox_never_holds_enterprise_messages(cycle: Cycle, world: World) -> None:
    assert await Message.filter(enterprise_id=cycle.enterprise.id).count() > 0
    for prefix in ("44", "4401", ""):
        assert await inbox.messages_for(await world.regulator(prefix)).count() == 0


async def test_a_national_regulator_reads_every_regions_regulator_messages(
    cycle: Cycle, world: World
) -> None:
    sent = [
        await inbox.post_to_regulators(region, MessageKind.ALARM, LATE) for region in ("440113", "110105")
    ]
    national = await world.regulator("")
    assert sorted(m.id for m in await inbox.messages_for(national)) == [m.id for m in sent]


async def test_an_enterprise_never_reads_regulator_messages(cycle: Cycle) -> None:
    alarm = await inbox.post_to_regulators("440113", MessageKind.ALARM, LATE, cycle.notice.id)
    assert alarm.id not in {m.id for m in await inbox.messages_for(cycle.member)}


async def test_marking_read_touches_only_the_callers_own_messages(cycle: Cycle, world: World) -> None:
    other = await Cycle.start(world, cycle.files)
    mine = [m.id for m in await inbox.messages_for(cycle.member).order_by("id")]
    theirs = [m.id for m in await inbox.messages_for(other.member).order_by("id")]

    marked = await inbox.mark_read(cycle.member, [mine[0], *theirs])

    assert [(m.id, m.read_at is not None) for m in marked] == [(mine[0], True)]
    assert [m.id for m in await inbox.messages_for(cycle.member, unread_only=True)] == mine[1:]
    assert [m.id for m in await inbox.messages_for(other.member, unread_only=True)] == theirs


async def test_marking_read_again_keeps_the_first_reading_time(cycle: Cycle) -> None:
    ids = [m.id for m in await inbox.messages_for(cycle.member)]
    first = {m.id: m.read_at for m in await inbox.mark_read(cycle.member, ids)}
    again = {m.id: m.read_at for m in await inbox.mark_read(cycle.member, ids)}
    assert again == first and None not in first.values()


async def test_a_colleague_sees_what_was_read(cycle: Cycle, world: World) -> None:
    colleague = await world.member(cycle.enterprise)
    await inbox.mark_read(cycle.member, [m.id for m in await inbox.messages_for(cycle.member)])
    assert await inbox.messages_for(colleague, unread_only=True).count() == 0


async def test_at_most_a_hundred_messages_are_marked_at_once(cycle: Cycle) -> None:
    ids = [m.id for m in await inbox.messages_for(cycle.member)]
    with fails_with(ErrorCode.TOO_MANY_ITEMS, "ids"):
        await inbox.mark_read(cycle.member, ids + list(range(10_000, 10_099)))
    assert await inbox.messages_for(cycle.member, unread_only=True).count() == len(ids)
    marked = await inbox.mark_read(cycle.member, ids + list(range(10_000, 10_098)))
    assert len(marked) == len(ids)


async def test_unknown_and_out_of_range_ids_are_ignored(cycle: Cycle) -> None:
    assert await inbox.mark_read(cycle.member, [0, -1, 2**31, 2**63]) == []
    assert await inbox.mark_read(cycle.member, []) == []


async def test_a_regulator_marks_its_regions_messages_read_for_its_colleagues(
    cycle: Cycle, world: World
) -> None:
    here = await inbox.post_to_regulators("440113", MessageKind.ALARM, LATE)
    beijing = await inbox.post_to_regulators("110105", MessageKind.ALARM, LATE)
    enterprise_ids = [m.id for m in await inbox.messages_for(cycle.member)]

    marked = await inbox.mark_read(cycle.regulator, [here.id, beijing.id, *enterprise_ids])

    assert [(m.id, m.read_at is not None) for m in marked] == [(here.id, True)]
    assert await inbox.messages_for(await world.regulator("4401"), unread_only=True).count() == 0
    assert await Message.filter(read_at__isnull=False).count() == 1


async def test_admins_may_not_mark_messages_read(cycle: Cycle, world: World) -> None:
    await inbox.post_to_regulators("440113", MessageKind.ALARM, LATE)
    ids = [m.id for m in await Message.all()]
    with fails_with(ErrorCode.PERMISSION_DENIED):
        await inbox.mark_read(await world.admin(), ids)
    assert await Message.filter(read_at__isnull=True).count() == len(ids)
