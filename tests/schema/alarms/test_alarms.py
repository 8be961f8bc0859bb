"""The alarms query and the resolveAlarm mutation: regulators see and close the alarms of their
region; admins see all and close none; enterprises see none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models import Alarm, AlarmKind, AlarmStatus, Notice
from services.access import Actor
from services.compliance import alarms, deadlines
from tests.conftest import GraphQLClient, World
from tests.schema.support import overdue_acknowledgement, refused, succeeded, unauthenticated
from tests.services.cycle import Cycle

ALARMS = """
query($status: AlarmStatus, $kind: AlarmKind, $first: Int, $after: String) {
  alarms(status: $status, kind: $kind, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id kind status dueAt raisedAt acknowledgedLateAt resolvedAt resolutionNote resolvedBy
      notice { id status } enterprise { id name }
    } }
  }
}
"""
RESOLVE = """
mutation($id: ID!, $note: String!) {
  resolveAlarm(id: $id, note: $note) {
    errors { code field message }
    alarm { id status resolvedAt resolutionNote resolvedBy }
  }
}
"""
TIMELINE = "query($id: ID!) { notice(id: $id) { timeline { action actorName } } }"


async def alarm_page(gql: GraphQLClient, actor: Actor, **variables: Any) -> dict[str, Any]:
    result = await gql(ALARMS, variables, actor=actor)
    assert "errors" not in result, result
    return result["data"]["alarms"]


def listed(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def resolve(gql: GraphQLClient, actor: Actor | None, alarm_id: str, note: str = "Called them") -> dict:
    return await gql(RESOLVE, {"id": alarm_id, "note": note}, actor=actor)


async def overdue(notice: Notice) -> Alarm:
    """The deadline passed an hour ago and the sweep marked the notice OVERDUE: a NOTICE_OVERDUE alarm."""
    await Notice.filter(id=notice.id).update(deadline=datetime.now(UTC) - timedelta(hours=1))
    assert await deadlines.mark_overdue(notice.id)
    return await Alarm.get(notice_id=notice.id, kind=AlarmKind.NOTICE_OVERDUE)


@pytest.fixture
async def alarm(cycle: Cycle) -> Alarm:
    """The cycle's notice was not acknowledged in time."""
    return await overdue_acknowledgement(cycle.notice)


# -- the alarms query ----------------------------------------------------------------------------


async def test_a_regulator_sees_the_alarm_with_its_notice_and_enterprise(
    gql: GraphQLClient, cycle: Cycle, alarm: Alarm
) -> None:
    page = await alarm_page(gql, cycle.regulator)
    [edge] = page["edges"]
    node = edge["node"]
    assert node == {
        "id": str(alarm.id),
        "kind": "ACK_OVERDUE",
        "status": "OPEN",
        "dueAt": node["dueAt"],
        "raisedAt": node["raisedAt"],
        "acknowledgedLateAt": None,
        "resolvedAt": None,
        "resolutionNote": None,
        "resolvedBy": None,
        "notice": {"id": str(cycle.notice.id), "status": "ISSUED"},
        "enterprise": {"id": str(cycle.enterprise.id), "name": cycle.enterprise.name},
    }
    notice = await Notice.get(id=cycle.notice.id)
    assert datetime.fromisoformat(node["dueAt"]) == notice.ack_due_at
    assert notice.ack_due_at < datetime.fromisoformat(node["raisedAt"]) <= datetime.now(UTC)
    assert page["totalCount"] == 1 and page["pageInfo"]["hasNextPage"] is False


async def test_a_late_acknowledgement_is_recorded_on_the_alarm(
    gql: GraphQLClient, cycle: Cycle, alarm: Alarm
) -> None:
    acknowledged = await gql(
        "mutation($id: ID!) { acknowledgeNotice(noticeId: $id) { errors { code } notice { acknowledgedAt } } }",
        {"id": str(cycle.notice.id)},
        actor=cycle.member,
    )
    at = succeeded(acknowledged, "acknowledgeNotice")["notice"]["acknowledgedAt"]
    [edge] = (await alarm_page(gql, cycle.regulator))["edges"]
    assert edge["node"]["acknowledgedLateAt"] == at
    assert (edge["node"]["status"], edge["node"]["notice"]["status"]) == ("OPEN", "ACKNOWLEDGED")


async def test_an_acknowledgement_in_time_raises_no_alarm(gql: GraphQLClient, cycle: Cycle) -> None:
    await cycle.acknowledge()
    await Notice.filter(id=cycle.notice.id).update(ack_due_at=datetime.now(UTC) - timedelta(hours=1))
    assert await alarms.check_acknowledgement(cycle.notice.id) is None
    assert (await alarm_page(gql, cycle.regulator))["totalCount"] == 0


@pytest.fixture
async def three(cycle: Cycle, world: World) -> list[Alarm]:
    """Oldest first: ACK_OVERDUE and NOTICE_OVERDUE on the cycle's notice, ACK_OVERDUE on a
    neighbour's; the first resolved. Plus a Beijing alarm no Guangdong regulator sees."""
    neighbour = await Cycle.start(world, cycle.files, region="440304")
    found = [
        await overdue_acknowledgement(cycle.notice),
        await overdue(cycle.notice),
        await overdue_acknowledgement(neighbour.notice),
    ]
    await Alarm.filter(id=found[0].id).update(status=AlarmStatus.RESOLVED, resolved_at=datetime.now(UTC))
    await overdue_acknowledgement((await Cycle.start(world, cycle.files, region="110105")).notice)
    return found


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, [2, 1, 0]),
        ({"status": "OPEN"}, [2, 1]),
        ({"status": "RESOLVED"}, [0]),
        ({"kind": "ACK_OVERDUE"}, [2, 0]),
        ({"kind": "NOTICE_OVERDUE"}, [1]),
        ({"status": "OPEN", "kind": "ACK_OVERDUE"}, [2]),
        ({"status": "RESOLVED", "kind": "NOTICE_OVERDUE"}, []),
    ],
    ids=["all", "open", "resolved", "ack overdue", "notice overdue", "open ack overdue", "none"],
)
async def test_alarms_filter_by_status_and_kind_newest_first(
    gql: GraphQLClient, cycle: Cycle, three: list[Alarm], variables: dict, expected: list[int]
) -> None:
    page = await alarm_page(gql, cycle.regulator, **variables)
    assert listed(page) == [str(three[i].id) for i in expected]
    assert page["totalCount"] == len(expected)


async def test_following_end_cursors_visits_every_alarm_once_newest_first(
    gql: GraphQLClient, cycle: Cycle, three: list[Alarm]
) -> None:
    first = await alarm_page(gql, cycle.regulator, first=2)
    assert listed(first) == [str(three[2].id), str(three[1].id)]
    assert first["pageInfo"]["hasNextPage"] is True and first["totalCount"] == 3
    rest = await alarm_page(gql, cycle.regulator, first=2, after=first["pageInfo"]["endCursor"])
    assert listed(rest) == [str(three[0].id)]
    assert rest["pageInfo"] == {"hasNextPage": False, "endCursor": rest["pageInfo"]["endCursor"]}
    filtered = await alarm_page(gql, cycle.regulator, status="OPEN", first=1)
    after = await alarm_page(
        gql, cycle.regulator, status="OPEN", first=1, after=filtered["pageInfo"]["endCursor"]
    )
    assert (listed(filtered), listed(after)) == ([str(three[2].id)], [str(three[1].id)])


async def test_an_oversized_page_is_refused(gql: GraphQLClient, cycle: Cycle) -> None:
    result = await gql(ALARMS, {"first": 101}, actor=cycle.regulator)
    assert result["data"] is None
    assert result["errors"][0]["extensions"] == {"code": "INVALID_PAGINATION"}


@pytest.mark.parametrize(
    ("viewer", "count"),
    [
        ("regulator of 44", 3),
        ("regulator of 4401", 2),
        ("regulator of 11", 1),
        ("national regulator", 4),
        ("admin", 4),
        ("enterprise member", 0),
    ],
)
async def test_who_sees_which_alarms(
    gql: GraphQLClient, cycle: Cycle, world: World, three: list[Alarm], viewer: str, count: int
) -> None:
    actor = {
        "regulator of 44": lambda: world.regulator("44"),
        "regulator of 4401": lambda: world.regulator("4401"),
        "regulator of 11": lambda: world.regulator("11"),
        "national regulator": lambda: world.regulator(""),
        "admin": world.admin,
        "enterprise member": lambda: world.member(cycle.enterprise),
    }[viewer]
    page = await alarm_page(gql, await actor())
    assert (page["totalCount"], len(page["edges"])) == (count, count)


async def test_the_alarms_query_needs_a_token(gql: GraphQLClient, alarm: Alarm) -> None:
    unauthenticated(await gql(ALARMS), "alarms")


# -- resolveAlarm ----------------------------------------------------------------------------------


async def test_a_regulator_resolves_an_alarm_with_a_note(
    gql: GraphQLClient, cycle: Cycle, alarm: Alarm
) -> None:
    before = datetime.now(UTC)
    resolved = succeeded(
        await resolve(gql, cycle.regulator, str(alarm.id), "  Called them; on it.  "), "resolveAlarm"
    )
    assert resolved["alarm"] == {
        "id": str(alarm.id),
        "status": "RESOLVED",
        "resolvedAt": resolved["alarm"]["resolvedAt"],
        "resolutionNote": "Called them; on it.",
        "resolvedBy": cycle.regulator.username,
    }
    assert before <= datetime.fromisoformat(resolved["alarm"]["resolvedAt"]) <= datetime.now(UTC)
    [edge] = (await alarm_page(gql, cycle.regulator, status="RESOLVED"))["edges"]
    assert {k: edge["node"][k] for k in resolved["alarm"]} == resolved["alarm"]
    timeline = (await gql(TIMELINE, {"id": str(cycle.notice.id)}, actor=cycle.regulator))["data"]["notice"]
    assert timeline["timeline"][-1] == {"action": "alarm.resolved", "actorName": cycle.regulator.username}


async def test_a_national_regulator_resolves_any_alarm(
    gql: GraphQLClient, world: World, alarm: Alarm
) -> None:
    succeeded(await resolve(gql, await world.regulator(""), str(alarm.id)), "resolveAlarm")


@pytest.mark.parametrize("note", ["", "   "])
async def test_a_note_is_required(gql: GraphQLClient, cycle: Cycle, alarm: Alarm, note: str) -> None:
    refused(await resolve(gql, cycle.regulator, str(alarm.id), note), "resolveAlarm", "REQUIRED", "note")
    assert (await Alarm.get(id=alarm.id)).status == AlarmStatus.OPEN


async def test_a_note_over_2000_characters_is_too_long(
    gql: GraphQLClient, cycle: Cycle, alarm: Alarm
) -> None:
    refused(
        await resolve(gql, cycle.regulator, str(alarm.id), "x" * 2001), "resolveAlarm", "TOO_LONG", "note"
    )
    assert (await Alarm.get(id=alarm.id)).status == AlarmStatus.OPEN


async def test_resolving_twice_is_refused_and_keeps_the_first_resolution(
    gql: GraphQLClient, cycle: Cycle, world: World, alarm: Alarm
) -> None:
    first = succeeded(await resolve(gql, cycle.regulator, str(alarm.id), "first"), "resolveAlarm")["alarm"]
    other = await world.regulator("44")
    refused(
        await resolve(gql, other, str(alarm.id), "second"), "resolveAlarm", "ALARM_ALREADY_RESOLVED", "id"
    )
    [edge] = (await alarm_page(gql, cycle.regulator))["edges"]
    assert {k: edge["node"][k] for k in first} == first


@pytest.mark.parametrize("alarm_id", ["out of scope", "missing", "abc", "0", "-1", "99999999999"])
async def test_an_alarm_out_of_scope_or_malformed_is_not_found(
    gql: GraphQLClient, world: World, alarm: Alarm, alarm_id: str
) -> None:
    beijing = await world.regulator("11")
    target = {"out of scope": str(alarm.id), "missing": str(alarm.id + 1000)}.get(alarm_id, alarm_id)
    refused(await resolve(gql, beijing, target), "resolveAlarm", "NOT_FOUND", "id")
    assert (await Alarm.get(id=alarm.id)).status == AlarmStatus.OPEN


@pytest.mark.parametrize("role", ["enterprise member", "admin"])
async def test_only_a_regulator_resolves(
    gql: GraphQLClient, cycle: Cycle, world: World, alarm: Alarm, role: str
) -> None:
    actor = cycle.member if role == "enterprise member" else await world.admin()
    refused(await resolve(gql, actor, str(alarm.id)), "resolveAlarm", "PERMISSION_DENIED")
    assert (await Alarm.get(id=alarm.id)).status == AlarmStatus.OPEN


async def test_without_a_token_nothing_is_resolved(gql: GraphQLClient, alarm: Alarm) -> None:
    unauthenticated(await resolve(gql, None, str(alarm.id)), "resolveAlarm")
    assert (await Alarm.get(id=alarm.id)).status == AlarmStatus.OPEN


TIMELINE_REASONS = "query($id: ID!) { notice(id: $id) { timeline { action reason } } }"


async def test_an_enterprise_timeline_leaves_out_the_regulators_alarm_notes(
    gql: GraphQLClient, cycle: Cycle
) -> None:
    """Alarms and their resolution notes are the regulators' business, even on the enterprise's own notice."""
    alarm = await overdue_acknowledgement(cycle.notice)
    succeeded(
        await resolve(gql, cycle.regulator, str(alarm.id), note="Phoned the plant manager"), "resolveAlarm"
    )
    variables = {"id": str(cycle.notice.id)}

    seen_by_regulator = (await gql(TIMELINE_REASONS, variables, actor=cycle.regulator))["data"]["notice"][
        "timeline"
    ]
    seen_by_member = (await gql(TIMELINE_REASONS, variables, actor=cycle.member))["data"]["notice"][
        "timeline"
    ]

    assert {"action": "alarm.resolved", "reason": "Phoned the plant manager"} in seen_by_regulator
    assert [e for e in seen_by_member if e["action"].startswith("alarm.")] == []
    assert {"action": "notice.issued", "reason": None} in seen_by_member
