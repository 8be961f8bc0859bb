"""A verification not concluded by its due date raises one alarm, however often it is checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models import Alarm, AlarmKind, Message, MessageKind, Verification
from services.live import sweep
from services.live.events import Event, EventType
from services.verification.overdue import check_verification_overdue
from tests.services.conftest import Job
from tests.services.verification.support import Three


async def late(three: Three) -> None:
    await Verification.filter(id=three.vid).update(due_at=datetime.now(UTC) - timedelta(minutes=1))


async def test_the_overdue_alarm_is_raised_exactly_once(three: Three, published: list[Event]) -> None:
    await three.assign()
    await late(three)
    first = await check_verification_overdue(three.vid)
    assert first is not None and first.kind == AlarmKind.VERIFICATION_OVERDUE
    assert (first.verification_id, first.notice_id, first.enterprise_id) == (
        three.vid,
        None,
        three.enterprise.id,
    )
    assert await check_verification_overdue(three.vid) is None
    assert (await sweep.sweep()).verification_alarms == 0
    assert (await sweep.sweep()).verification_alarms == 0
    assert await Alarm.filter(verification_id=three.vid).count() == 1
    alarms = await Message.filter(kind=MessageKind.ALARM, regulator_region=three.enterprise.region_code)
    assert len(alarms) == 1 and alarms[0].verification_id == three.vid
    assert [e.type for e in published].count(EventType.ALARM_RAISED) == 1


async def test_the_sweep_raises_what_a_lost_job_missed(three: Three) -> None:
    await three.assign()
    await late(three)
    assert (await sweep.sweep()).verification_alarms == 1
    assert (await sweep.sweep()).verification_alarms == 0
    assert await Alarm.filter(verification_id=three.vid).count() == 1


async def test_a_concluded_or_not_yet_due_verification_raises_nothing(
    three: Three, dispatched: list[Job]
) -> None:
    await three.assign()
    assert await check_verification_overdue(three.vid) is None  # not due: looks again when due
    assert [j.name for j in dispatched].count("check_verification_overdue") == 2
    await three.report()
    await three.conclude()
    await late(three)
    assert await check_verification_overdue(three.vid) is None
    assert (await sweep.sweep()).verification_alarms == 0
    assert await Alarm.all().count() == 0
