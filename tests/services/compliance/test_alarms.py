"""Acknowledgement alarms: raised once when the window has passed unacknowledged, whoever checks
and however often; seen by the regulators of the region; resolved once, with a note."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from models import Alarm, AlarmKind, AlarmStatus, AuditEvent, Message, MessageKind, NoticeStatus
from services.compliance.alarms import AlarmFilter, alarms_for, check_acknowledgement, resolve_alarm
from services.errors import ErrorCode
from services.i18n import en, zh_cn
from tests.conftest import World
from tests.services.conftest import Job
from tests.services.cycle import Cycle, fails_with, unchanged


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


async def overdue_acknowledgement(cycle: Cycle) -> Alarm:
    """Let the acknowledgement window pass and run the check."""
    await cycle.set_times(ack_due_at=ago(minutes=5))
    alarm = await check_acknowledgement(cycle.notice.id)
    assert alarm is not None
    return alarm


async def test_a_notice_unacknowledged_after_its_window_raises_one_alarm(cycle: Cycle) -> None:
    notice = await cycle.set_times(ack_due_at=ago(minutes=5))
    before = datetime.now(UTC)

    alarm = await check_acknowledgement(notice.id)

    assert alarm is not None
    stored = await Alarm.get(notice_id=notice.id)
    assert (stored.id, stored.kind, stored.status) == (alarm.id, AlarmKind.ACK_OVERDUE, AlarmStatus.OPEN)
    assert stored.enterprise_id == cycle.enterprise.id
    assert stored.due_at == notice.ack_due_at
    assert before <= stored.raised_at <= datetime.now(UTC)
    assert stored.acknowledged_late_at is None and stored.resolved_at is None
    assert (await cycle.reload()).status == NoticeStatus.ISSUED  # an alarm, not a transition


async def test_the_alarm_is_audited_and_posted_to_the_regions_regulators(cycle: Cycle) -> None:
    alarm = await overdue_acknowledgement(cycle)

    [event] = await AuditEvent.filter(action="alarm.ack_overdue")
    assert (event.actor_id, event.entity_type, event.entity_id) == (None, "Alarm", alarm.id)
    assert event.notice_id == cycle.notice.id
    [message] = await Message.filter(kind=MessageKind.ALARM)
    assert (message.regulator_region, message.enterprise_id) == ("440113", None)
    assert message.notice_id == cycle.notice.id
    assert cycle.enterprise.name in message.body and cycle.enterprise.credit_code in message.body


async def test_before_the_window_ends_the_check_does_nothing_but_look_again_when_due(
    cycle: Cycle, dispatched: list[Job]
) -> None:
    await cycle.set_times(ack_due_at=datetime.now(UTC) + timedelta(hours=2))
    async with unchanged():
        assert await check_acknowledgement(cycle.notice.id) is None

    [job] = dispatched
    assert (job.name, job.args) == ("check_acknowledgement", (cycle.notice.id,))
    assert 2 * 3600 - 60 < job.delay_seconds <= 2 * 3600


async def test_an_acknowledged_notice_raises_no_alarm_even_when_checked_late(
    cycle: Cycle, dispatched: list[Job]
) -> None:
    await cycle.acknowledge()
    await cycle.set_times(ack_due_at=ago(minutes=5))
    async with unchanged():
        assert await check_acknowledgement(cycle.notice.id) is None
    assert dispatched == []


async def test_checking_an_unknown_notice_does_nothing(db: str, dispatched: list[Job]) -> None:
    async with unchanged():
        assert await check_acknowledgement(999_999) is None
    assert dispatched == []


async def test_checking_again_changes_nothing(cycle: Cycle) -> None:
    await overdue_acknowledgement(cycle)
    async with unchanged():
        assert await check_acknowledgement(cycle.notice.id) is None


async def test_checks_running_at_once_raise_exactly_one_alarm(cycle: Cycle) -> None:
    """Duplicated job messages, two workers, the sweep: the (notice, kind) key lets one win."""
    await cycle.set_times(ack_due_at=ago(minutes=5))

    results = await asyncio.gather(*(check_acknowledgement(cycle.notice.id) for _ in range(5)))

    assert sum(r is not None for r in results) == 1
    assert await Alarm.filter(notice_id=cycle.notice.id).count() == 1
    assert await AuditEvent.filter(action="alarm.ack_overdue").count() == 1
    assert await Message.filter(kind=MessageKind.ALARM).count() == 1


async def test_a_late_acknowledgement_is_recorded_on_the_alarm(cycle: Cycle) -> None:
    alarm = await overdue_acknowledgement(cycle)

    notice = await cycle.acknowledge()

    await alarm.refresh_from_db()
    assert notice.acknowledged_at is not None
    assert alarm.acknowledged_late_at == notice.acknowledged_at
    assert alarm.status == AlarmStatus.OPEN  # a regulator still decides what to do about it


async def test_a_timely_acknowledgement_touches_no_alarm(cycle: Cycle, world: World) -> None:
    other = await Cycle.start(world, cycle.files, region="440105")
    alarm = await overdue_acknowledgement(other)
    await cycle.acknowledge()
    await alarm.refresh_from_db()
    assert alarm.acknowledged_late_at is None


async def test_an_enterprise_sees_no_alarms_not_even_its_own(cycle: Cycle) -> None:
    await overdue_acknowledgement(cycle)
    assert await alarms_for(cycle.member).count() == 0


@pytest.mark.parametrize(
    ("prefix", "sees"),
    [
        ("44", {"440113", "440305"}),
        ("4401", {"440113"}),
        ("11", {"110105"}),
        ("", {"440113", "440305", "110105"}),
    ],
)
async def test_a_regulator_sees_the_alarms_of_its_region(
    world: World, files, prefix: str, sees: set[str]
) -> None:
    for region in ("440113", "440305", "110105"):
        await overdue_acknowledgement(await Cycle.start(world, files, region=region))

    regulator = await world.regulator(prefix)

    assert {
        a.enterprise.region_code for a in await alarms_for(regulator).prefetch_related("enterprise")
    } == sees


async def test_an_admin_sees_every_alarm(world: World, files) -> None:
    for region in ("440113", "110105"):
        await overdue_acknowledgement(await Cycle.start(world, files, region=region))
    assert await alarms_for(await world.admin()).count() == 2


async def test_alarms_are_filtered_by_status_and_kind(cycle: Cycle, world: World) -> None:
    open_alarm = await overdue_acknowledgement(cycle)
    other = await Cycle.start(world, cycle.files, region="440105")
    resolved = await overdue_acknowledgement(other)
    await resolve_alarm(cycle.regulator, resolved.id, "Phoned them")

    async def ids(where: AlarmFilter) -> list[int]:
        return sorted(a.id for a in await alarms_for(cycle.regulator, where))

    assert await ids(AlarmFilter(status=AlarmStatus.OPEN)) == [open_alarm.id]
    assert await ids(AlarmFilter(status=AlarmStatus.RESOLVED)) == [resolved.id]
    assert await ids(AlarmFilter(kind=AlarmKind.NOTICE_OVERDUE)) == []
    assert await ids(AlarmFilter(kind=AlarmKind.ACK_OVERDUE)) == sorted([open_alarm.id, resolved.id])


async def test_a_regulator_resolves_an_alarm_with_a_note(cycle: Cycle) -> None:
    alarm = await overdue_acknowledgement(cycle)

    resolved = await resolve_alarm(cycle.regulator, alarm.id, "  Phoned the plant manager  ")

    assert resolved.status == AlarmStatus.RESOLVED
    assert resolved.resolved_by_id == cycle.regulator.user_id
    assert resolved.resolution_note == "Phoned the plant manager"
    assert resolved.resolved_at is not None
    [event] = await AuditEvent.filter(action="alarm.resolved")
    assert (event.actor_id, event.entity_id, event.notice_id) == (
        cycle.regulator.user_id,
        alarm.id,
        cycle.notice.id,
    )
    assert event.reason == "Phoned the plant manager"


@pytest.mark.parametrize("note", ["", "   "])
async def test_resolving_needs_a_note(cycle: Cycle, note: str) -> None:
    alarm = await overdue_acknowledgement(cycle)
    async with unchanged():
        with fails_with(ErrorCode.REQUIRED, "note"):
            await resolve_alarm(cycle.regulator, alarm.id, note)
    assert (await Alarm.get(id=alarm.id)).status == AlarmStatus.OPEN


async def test_an_alarm_is_resolved_only_once(cycle: Cycle, world: World) -> None:
    alarm = await overdue_acknowledgement(cycle)
    await resolve_alarm(cycle.regulator, alarm.id, "Phoned them")
    colleague = await world.regulator("4401")

    async with unchanged():
        with fails_with(ErrorCode.ALARM_ALREADY_RESOLVED, "id"):
            await resolve_alarm(colleague, alarm.id, "Emailed them")
    stored = await Alarm.get(id=alarm.id)
    assert (stored.resolved_by_id, stored.resolution_note) == (cycle.regulator.user_id, "Phoned them")


async def test_two_regulators_resolving_at_once_resolve_it_once(cycle: Cycle, world: World) -> None:
    alarm = await overdue_acknowledgement(cycle)
    colleague = await world.regulator("4401")

    results = await asyncio.gather(
        resolve_alarm(cycle.regulator, alarm.id, "Phoned them"),
        resolve_alarm(colleague, alarm.id, "Emailed them"),
        return_exceptions=True,
    )

    winners = [r for r in results if isinstance(r, Alarm)]
    assert len(winners) == 1
    assert [getattr(r, "code", r) for r in results if not isinstance(r, Alarm)] == [
        ErrorCode.ALARM_ALREADY_RESOLVED
    ]
    assert await AuditEvent.filter(action="alarm.resolved").count() == 1


async def test_an_alarm_outside_the_regulators_region_is_not_found(cycle: Cycle, world: World) -> None:
    alarm = await overdue_acknowledgement(cycle)
    strangers = [await world.regulator(prefix) for prefix in ("11", "4403")]
    async with unchanged():
        for stranger in strangers:
            with fails_with(ErrorCode.NOT_FOUND, "id"):
                await resolve_alarm(stranger, alarm.id, "Not mine")
        with fails_with(ErrorCode.NOT_FOUND, "id"):
            await resolve_alarm(cycle.regulator, 999_999, "No such alarm")


async def test_enterprises_and_admins_may_not_resolve_alarms(cycle: Cycle, world: World) -> None:
    alarm = await overdue_acknowledgement(cycle)
    admin = await world.admin()
    async with unchanged():
        for actor in (cycle.member, admin):
            with fails_with(ErrorCode.PERMISSION_DENIED):
                await resolve_alarm(actor, alarm.id, "Done")
    assert (await Alarm.get(id=alarm.id)).status == AlarmStatus.OPEN


async def test_each_kind_of_alarm_has_its_words_in_both_languages() -> None:
    for catalog in (zh_cn, en):
        for kind in AlarmKind:
            assert catalog.TEXTS[f"alarm.{kind.value}.title"] and catalog.TEXTS[f"alarm.{kind.value}.body"]
