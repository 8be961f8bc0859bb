"""markMessagesRead: an enterprise user, or a regulator, marks inbox messages read; admins have no inbox."""

from __future__ import annotations

import pytest

from models import Message
from services.access import Actor
from tests.conftest import GraphQLClient, World
from tests.schema.support import overdue_acknowledgement, refused, refused_unread, succeeded, unauthenticated
from tests.services.cycle import Cycle, issue

MARK = """
mutation($ids: [ID!]!) {
  markMessagesRead(ids: $ids) { errors { code field message } messages { id readAt } }
}
"""
UNREAD = "{ messages(unreadOnly: true) { totalCount edges { node { id } } } }"


async def mark(gql: GraphQLClient, actor: Actor | None, ids: list[str]) -> dict:
    return await gql(MARK, {"ids": ids}, actor=actor)


async def regulator_inbox_ids() -> list[str]:
    """The regulators' messages (alarms), whatever their region."""
    ids = Message.filter(regulator_region__isnull=False).order_by("id").values_list("id", flat=True)
    return [str(i) for i in await ids]


async def inbox_ids(cycle: Cycle) -> list[str]:
    """The cycle's enterprise has two messages: the allowance and the notice."""
    return [
        str(i)
        for i in await Message.filter(enterprise_id=cycle.enterprise.id)
        .order_by("id")
        .values_list("id", flat=True)
    ]


async def unread(gql: GraphQLClient, actor: Actor) -> int:
    return (await gql(UNREAD, actor=actor))["data"]["messages"]["totalCount"]


async def test_the_enterprise_marks_its_messages_read(gql: GraphQLClient, cycle: Cycle) -> None:
    ids = await inbox_ids(cycle)
    messages = succeeded(await mark(gql, cycle.member, ids), "markMessagesRead")["messages"]
    assert [m["id"] for m in messages] == ids and all(m["readAt"] for m in messages)
    assert await unread(gql, cycle.member) == 0


async def test_marking_again_keeps_the_first_reading_time(gql: GraphQLClient, cycle: Cycle) -> None:
    ids = await inbox_ids(cycle)
    first = succeeded(await mark(gql, cycle.member, ids[:1]), "markMessagesRead")["messages"]
    again = succeeded(await mark(gql, cycle.member, ids[:1]), "markMessagesRead")["messages"]
    assert again == first


async def test_another_enterprises_messages_are_ignored_not_reported(
    gql: GraphQLClient, cycle: Cycle, world: World
) -> None:
    other = await world.enterprise("440113")
    await world.allowance(cycle.regulator, other)
    await issue(cycle.regulator, cycle.files, other)
    stranger = await world.member(other)
    theirs = await inbox_ids(cycle)
    assert succeeded(await mark(gql, stranger, theirs), "markMessagesRead")["messages"] == []
    assert await unread(gql, cycle.member) == 2 and await unread(gql, stranger) == 2


async def test_an_empty_list_marks_nothing(gql: GraphQLClient, cycle: Cycle) -> None:
    assert succeeded(await mark(gql, cycle.member, []), "markMessagesRead")["messages"] == []
    assert await unread(gql, cycle.member) == 2


async def test_more_than_100_ids_are_refused(gql: GraphQLClient, cycle: Cycle) -> None:
    ids = await inbox_ids(cycle) + [str(n) for n in range(10_000, 10_099)]
    refused_unread(await mark(gql, cycle.member, ids), "TOO_MANY_ITEMS", "ids")
    assert await unread(gql, cycle.member) == 2


@pytest.mark.parametrize("bad", ["abc", "0", "99999999999"])
async def test_a_malformed_id_is_not_found_and_nothing_is_marked(
    gql: GraphQLClient, cycle: Cycle, bad: str
) -> None:
    ids = await inbox_ids(cycle)
    refused(await mark(gql, cycle.member, [*ids, bad]), "markMessagesRead", "NOT_FOUND", "ids")
    assert await unread(gql, cycle.member) == 2


async def test_an_admin_has_no_inbox_to_mark(gql: GraphQLClient, cycle: Cycle, world: World) -> None:
    await overdue_acknowledgement(cycle.notice)
    ids = await inbox_ids(cycle) + await regulator_inbox_ids()
    refused(await mark(gql, await world.admin(), ids), "markMessagesRead", "PERMISSION_DENIED")
    assert await unread(gql, cycle.member) == 2 and await unread(gql, cycle.regulator) == 1


async def test_a_regulator_marks_its_regions_alarm_messages_read(gql: GraphQLClient, cycle: Cycle) -> None:
    await overdue_acknowledgement(cycle.notice)
    ids = await regulator_inbox_ids()
    assert await unread(gql, cycle.regulator) == 1
    messages = succeeded(await mark(gql, cycle.regulator, ids), "markMessagesRead")["messages"]
    assert [m["id"] for m in messages] == ids and all(m["readAt"] for m in messages)
    assert await unread(gql, cycle.regulator) == 0
    assert await unread(gql, cycle.member) == 2


@pytest.mark.parametrize("reader", ["enterprise member", "regulator of 11"])
async def test_the_regional_inbox_is_marked_only_by_regulators_of_the_region(
    gql: GraphQLClient, cycle: Cycle, world: World, reader: str
) -> None:
    await overdue_acknowledgement(cycle.notice)
    actor = cycle.member if reader == "enterprise member" else await world.regulator("11")
    assert (
        succeeded(await mark(gql, actor, await regulator_inbox_ids()), "markMessagesRead")["messages"] == []
    )
    assert await unread(gql, cycle.regulator) == 1


async def test_a_regulator_cannot_mark_an_enterprises_messages(gql: GraphQLClient, cycle: Cycle) -> None:
    assert (
        succeeded(await mark(gql, cycle.regulator, await inbox_ids(cycle)), "markMessagesRead")["messages"]
        == []
    )
    assert await unread(gql, cycle.member) == 2


async def test_a_regulator_lists_the_alarm_messages_of_its_region(
    gql: GraphQLClient, cycle: Cycle, world: World
) -> None:
    beijing = await Cycle.start(world, cycle.files, region="110105")
    for notice in (cycle.notice, beijing.notice):
        await overdue_acknowledgement(notice)
    inbox = "{ messages { totalCount edges { node { kind notice { id } } } } }"

    def listed(result: dict) -> list[tuple[str, str]]:
        assert "errors" not in result, result
        return [(e["node"]["kind"], e["node"]["notice"]["id"]) for e in result["data"]["messages"]["edges"]]

    guangdong = listed(await gql(inbox, actor=cycle.regulator))
    national = listed(await gql(inbox, actor=await world.regulator("")))
    member = listed(await gql(inbox, actor=cycle.member))
    assert guangdong == [("ALARM", str(cycle.notice.id))]
    assert national == [("ALARM", str(beijing.notice.id)), ("ALARM", str(cycle.notice.id))]  # newest first
    assert [kind for kind, _ in member] == ["NOTICE", "ALLOWANCE"]


async def test_without_a_token_nothing_is_marked(gql: GraphQLClient, cycle: Cycle) -> None:
    unauthenticated(await mark(gql, None, await inbox_ids(cycle)), "markMessagesRead")
    assert await unread(gql, cycle.member) == 2
