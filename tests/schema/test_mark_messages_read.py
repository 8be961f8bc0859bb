"""markMessagesRead: an enterprise user marks inbox messages read."""

from __future__ import annotations

import pytest

from models import Message
from services.access import Actor
from tests.conftest import GraphQLClient, World
from tests.schema.support import refused, succeeded, unauthenticated
from tests.services.cycle import Cycle, issue

MARK = """
mutation($ids: [ID!]!) {
  markMessagesRead(ids: $ids) { errors { code field message } messages { id readAt } }
}
"""
UNREAD = "{ messages(unreadOnly: true) { totalCount edges { node { id } } } }"


async def mark(gql: GraphQLClient, actor: Actor | None, ids: list[str]) -> dict:
    return await gql(MARK, {"ids": ids}, actor=actor)


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
    refused(await mark(gql, cycle.member, ids), "markMessagesRead", "TOO_MANY_ITEMS", "ids")
    assert await unread(gql, cycle.member) == 2


@pytest.mark.parametrize("bad", ["abc", "0", "99999999999"])
async def test_a_malformed_id_is_not_found_and_nothing_is_marked(
    gql: GraphQLClient, cycle: Cycle, bad: str
) -> None:
    ids = await inbox_ids(cycle)
    refused(await mark(gql, cycle.member, [*ids, bad]), "markMessagesRead", "NOT_FOUND", "ids")
    assert await unread(gql, cycle.member) == 2


@pytest.mark.parametrize("role", ["regulator", "admin"])
async def test_only_an_enterprise_user_has_an_inbox_to_mark(
    gql: GraphQLClient, cycle: Cycle, world: World, role: str
) -> None:
    actor = cycle.regulator if role == "regulator" else await world.admin()
    refused(await mark(gql, actor, await inbox_ids(cycle)), "markMessagesRead", "PERMISSION_DENIED")
    assert await unread(gql, cycle.member) == 2


async def test_without_a_token_nothing_is_marked(gql: GraphQLClient, cycle: Cycle) -> None:
    unauthenticated(await mark(gql, None, await inbox_ids(cycle)), "markMessagesRead")
    assert await unread(gql, cycle.member) == 2
