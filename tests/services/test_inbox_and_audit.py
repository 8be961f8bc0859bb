"""The notice timeline in the audit trail, and the enterprise inbox."""

from __future__ import annotations

import itertools
from datetime import timedelta

from models import AuditEvent, Message, MessageKind
from services import inbox
from services.errors import ErrorCode
from services.notices import extend_deadline
from services.workflow import Action
from tests.conftest import World
from tests.services.cycle import Cycle, fails_with


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


async def test_regulators_and_admins_have_no_inbox(cycle: Cycle, world: World) -> None:
    for actor in (cycle.regulator, await world.regulator(""), await world.admin()):
        assert await inbox.messages_for(actor).count() == 0


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


async def test_only_enterprise_users_mark_messages_read(cycle: Cycle) -> None:
    ids = [m.id for m in await Message.all()]
    with fails_with(ErrorCode.PERMISSION_DENIED):
        await inbox.mark_read(cycle.regulator, ids)
    assert await Message.filter(read_at__isnull=True).count() == len(ids)
