"""Workflow events: every change publishes what changed, after its transaction commits; a refused
action publishes nothing; and each event reaches exactly the subscribers whose scope covers it.

The `published` fixture fails a test whose event is published inside a transaction.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from models import Message, Notice, NoticeStatus, Role
from services.access import Actor
from services.compliance import notices
from services.compliance.workflow import Action
from services.errors import ErrorCode
from services.live import events
from services.live.events import Event, EventType, visible_to
from tests.conftest import World
from tests.services.cycle import Cycle, fails_with, issue

T = EventType


def status_change(event: Event) -> tuple[EventType, str | None, str]:
    return event.type, event.data["oldStatus"], event.data["newStatus"]


def about(cycle: Cycle, event: Event) -> bool:
    """The event names the cycle's enterprise, region and notice."""
    return (event.enterprise_id, event.region_code, event.notice_id) == (
        cycle.enterprise.id,
        cycle.enterprise.region_code,
        cycle.notice.id,
    )


async def test_issuing_publishes_the_new_notice_and_its_two_messages(
    published: list[Event], world: World, files
) -> None:
    cycle = await Cycle.start(world, files)

    assert [e.type for e in published] == [T.NOTICE_ISSUED, T.MESSAGE_CREATED, T.MESSAGE_CREATED]
    assert all(about(cycle, e) for e in published)
    assert status_change(published[0]) == (T.NOTICE_ISSUED, None, "ISSUED")
    assert published[0].data["deadline"] == cycle.notice.deadline.isoformat()
    assert published[0].data["applicationId"] is None
    messages = await Message.filter(notice_id=cycle.notice.id).order_by("id")
    assert [e.data for e in published[1:]] == [
        {"messageId": m.id, "toRegulators": False, "toBody": None} for m in messages
    ]


async def test_acknowledging_publishes_the_move_once(cycle: Cycle, published: list[Event]) -> None:
    await cycle.acknowledge()
    await cycle.acknowledge()

    assert [status_change(e) for e in published] == [(T.NOTICE_ACKNOWLEDGED, "ISSUED", "ACKNOWLEDGED")]
    assert about(cycle, published[0])


async def test_submitting_publishes_the_application_under_review(
    cycle: Cycle, published: list[Event]
) -> None:
    await cycle.acknowledge()
    published.clear()

    application = await cycle.submit()

    [event] = published
    assert about(cycle, event)
    assert status_change(event) == (T.APPLICATION_SUBMITTED, "ACKNOWLEDGED", "UNDER_REVIEW")
    assert event.data["applicationId"] == application.id
    assert event.data["applicationStatus"] == "UNDER_REVIEW"
    assert event.data["rejectionReason"] is None


async def test_a_rejection_publishes_its_reason_and_the_enterprises_message(
    cycle: Cycle, published: list[Event]
) -> None:
    application = await cycle.under_review()
    published.clear()

    await cycle.review(application, Action.REJECT, "Report unsigned")

    review, message = published
    assert status_change(review) == (T.APPLICATION_REVIEWED, "UNDER_REVIEW", "REJECTED")
    assert review.data["applicationId"] == application.id
    assert review.data["applicationStatus"] == "REJECTED"
    assert review.data["rejectionReason"] == "Report unsigned"
    assert message.type == T.MESSAGE_CREATED and message.data["toRegulators"] is False
    assert about(cycle, review) and about(cycle, message)


async def test_an_approval_carries_no_rejection_reason_even_with_an_override(
    cycle: Cycle, published: list[Event]
) -> None:
    application = await cycle.under_review(verified_emissions=2000, offsets=0, purchased_allowances=0)
    published.clear()

    await cycle.review(application, Action.APPROVE, "Shortfall settled offline")

    review = published[0]
    assert status_change(review) == (T.APPLICATION_REVIEWED, "UNDER_REVIEW", "FULFILLED")
    assert review.data["applicationStatus"] == "APPROVED"
    assert review.data["rejectionReason"] is None


async def test_a_resubmission_after_rejection_publishes_the_move_from_rejected(
    cycle: Cycle, published: list[Event]
) -> None:
    first = await cycle.under_review()
    await cycle.review(first, Action.REJECT, "Report unsigned")
    published.clear()

    second = await cycle.submit()

    assert [status_change(e) for e in published] == [(T.APPLICATION_SUBMITTED, "REJECTED", "UNDER_REVIEW")]
    assert published[0].data["applicationId"] == second.id


async def test_extending_publishes_the_new_deadline_and_the_enterprises_message(
    cycle: Cycle, published: list[Event]
) -> None:
    later = cycle.notice.deadline + timedelta(days=7)

    await notices.extend_deadline(cycle.regulator, cycle.notice.id, later, "Holiday")

    extended, message = published
    assert status_change(extended) == (T.DEADLINE_EXTENDED, "ISSUED", "ISSUED")
    assert extended.data["deadline"] == later.isoformat()
    assert message.type == T.MESSAGE_CREATED
    assert about(cycle, extended) and about(cycle, message)


async def test_the_published_status_is_already_committed(world: World, files) -> None:
    """A subscriber refetching on the event must find the new state, from any connection."""
    seen: list[tuple[str, NoticeStatus]] = []

    async def refetch(event: Event) -> None:
        if event.notice_id is not None and event.type != T.MESSAGE_CREATED:
            seen.append((event.data["newStatus"], (await Notice.get(id=event.notice_id)).status))

    events.set_publisher(refetch)
    try:
        cycle = await Cycle.start(world, files)
        application = await cycle.under_review()
        await cycle.review(application, Action.APPROVE)
    finally:
        events.set_publisher(None)
    assert [published for published, _ in seen] == ["ISSUED", "ACKNOWLEDGED", "UNDER_REVIEW", "FULFILLED"]
    assert all(published == stored for published, stored in seen)


async def test_refused_actions_publish_nothing(cycle: Cycle, world: World, published: list[Event]) -> None:
    stranger = await world.member(await world.enterprise("110105"))
    published.clear()
    with fails_with(ErrorCode.NOT_FOUND):
        await notices.acknowledge_notice(stranger, cycle.notice.id)
    with fails_with(ErrorCode.NOTICE_NOT_ACKNOWLEDGED):
        await cycle.submit()
    with fails_with(ErrorCode.NOTICE_ALREADY_ISSUED):
        await issue(cycle.regulator, cycle.files, cycle.enterprise)
    with fails_with(ErrorCode.DEADLINE_NOT_LATER):
        await notices.extend_deadline(
            cycle.regulator, cycle.notice.id, cycle.notice.deadline - timedelta(days=1), "Oops"
        )
    assert published == []
    application = await cycle.under_review(verified_emissions=2000, offsets=0, purchased_allowances=0)
    published.clear()
    with fails_with(ErrorCode.REASON_REQUIRED):
        await cycle.review(application, Action.REJECT)
    with fails_with(ErrorCode.SHORTFALL_OVERRIDE_REQUIRED):
        await cycle.review(application, Action.APPROVE)

    assert published == []


def test_an_event_survives_the_trip_through_json() -> None:
    event = Event(T.APPLICATION_REVIEWED, 7, "440113", 9, {"rejectionReason": "报告未签字"})
    raw = event.to_json()
    assert "报告未签字" in raw
    assert Event.from_json(raw) == event
    assert Event.from_json(raw.encode()) == event


# Who may see what: enterprise 1 is in Guangzhou (440113).
OWN = Actor(1, "member", Role.ENTERPRISE, enterprise_id=1)
OTHER = Actor(2, "other-member", Role.ENTERPRISE, enterprise_id=2)
PROVINCE = Actor(3, "guangdong", Role.REGULATOR, region_prefix="44")
CITY = Actor(4, "guangzhou", Role.REGULATOR, region_prefix="4401")
NEIGHBOUR = Actor(5, "shenzhen", Role.REGULATOR, region_prefix="4403")
ELSEWHERE = Actor(6, "beijing", Role.REGULATOR, region_prefix="11")
NATIONAL = Actor(7, "national", Role.REGULATOR, region_prefix="")
ADMIN = Actor(8, "admin", Role.ADMIN)
ACTORS = [OWN, OTHER, PROVINCE, CITY, NEIGHBOUR, ELSEWHERE, NATIONAL, ADMIN]
REGION_WIDE = {PROVINCE, CITY, NATIONAL}


def seen_by(event: Event) -> set[Actor]:
    return {actor for actor in ACTORS if visible_to(event, actor)}


@pytest.mark.parametrize("type", sorted(events.NOTICE_EVENTS))
def test_a_notice_event_reaches_its_enterprise_its_regions_regulators_and_admins(type: EventType) -> None:
    event = Event(type, enterprise_id=1, region_code="440113", notice_id=10)
    assert seen_by(event) == {OWN, ADMIN} | REGION_WIDE


def test_an_enterprise_message_reaches_only_its_enterprise() -> None:
    event = Event(T.MESSAGE_CREATED, 1, "440113", 10, {"messageId": 5, "toRegulators": False})
    assert seen_by(event) == {OWN}


def test_a_regulator_message_reaches_only_the_regulators_of_its_region() -> None:
    event = Event(T.MESSAGE_CREATED, 1, "440113", 10, {"messageId": 5, "toRegulators": True})
    assert seen_by(event) == REGION_WIDE


def test_an_alarm_reaches_the_regulators_of_its_region_and_admins_not_the_enterprise() -> None:
    event = Event(T.ALARM_RAISED, 1, "440113", 10, {"alarmId": 3, "kind": "ACK_OVERDUE"})
    assert seen_by(event) == REGION_WIDE | {ADMIN}


def test_an_event_of_no_enterprise_never_reaches_an_enterprise_user_bound_to_none() -> None:
    unbound = Actor(9, "unbound", Role.ENTERPRISE, enterprise_id=None)
    event = Event(T.PLAN_COMMITTED, None, "", None, {"planId": 1})
    assert not visible_to(event, unbound)
    assert visible_to(event, NATIONAL) and visible_to(event, ADMIN)


def test_resync_reaches_everyone() -> None:
    assert seen_by(Event(T.RESYNC)) == set(ACTORS)


@pytest.mark.parametrize(("type", "actor"), list(itertools.product(T, [OWN, PROVINCE])))
def test_an_event_elsewhere_reaches_no_enterprise_or_regulator_here(type: EventType, actor: Actor) -> None:
    event = Event(type, 2, "110105", 11, {"messageId": 1, "alarmId": 1, "toRegulators": True})
    assert visible_to(event, actor) == (type == T.RESYNC)


async def test_the_events_of_a_real_alarm_reach_the_right_people(
    cycle: Cycle, published: list[Event], world: World
) -> None:
    from services.compliance.alarms import check_acknowledgement

    await cycle.set_times(ack_due_at=cycle.notice.issued_at)
    published.clear()
    await check_acknowledgement(cycle.notice.id)

    alarm, message = published
    member = Actor(cycle.member.user_id, "m", Role.ENTERPRISE, enterprise_id=cycle.enterprise.id)
    assert (alarm.type, message.type) == (T.ALARM_RAISED, T.MESSAGE_CREATED)
    assert about(cycle, alarm)
    assert (message.enterprise_id, message.region_code, message.notice_id) == (
        None,
        "440113",
        cycle.notice.id,
    )
    for event in (alarm, message):
        assert visible_to(event, cycle.regulator)
        assert not visible_to(event, member)
        assert not visible_to(event, await world.regulator("11"))
    assert message.data["toRegulators"] is True
