"""Connections: keyset pages with cursors, a total count in scope, and a cap of 100 a page."""

from __future__ import annotations

import base64

import pytest

from models import Enterprise
from services.access import Actor
from services.compliance.documents import FileStore
from tests.conftest import GraphQLClient, World
from tests.schema.support import top_level_error
from tests.services.cycle import issue

ENTERPRISES = """
query($first: Int, $after: String, $filter: EnterpriseFilter) {
  enterprises(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } }
  }
}
"""
NOTICES = """
query($first: Int, $after: String) {
  notices(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } }
  }
}
"""
MESSAGES = """
query($first: Int, $after: String, $unread: Boolean!) {
  messages(first: $first, after: $after, unreadOnly: $unread) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } }
  }
}
"""


async def page(gql: GraphQLClient, actor: Actor, query: str = ENTERPRISES, **variables: object) -> dict:
    result = await gql(query, variables, actor=actor)
    assert "errors" not in result, result
    return next(iter(result["data"].values()))


def ids(connection: dict) -> list[int]:
    return [int(edge["node"]["id"]) for edge in connection["edges"]]


@pytest.fixture
async def five(world: World) -> list[Enterprise]:
    """Five Guangdong enterprises, oldest first, and one in Beijing the Guangdong regulator cannot see."""
    guangdong = [await world.enterprise("440113") for _ in range(5)]
    await world.enterprise("110105")
    return guangdong


async def test_the_first_page_holds_the_oldest_and_says_more_follow(
    gql: GraphQLClient, world: World, five: list[Enterprise]
) -> None:
    first = await page(gql, await world.regulator("44"), first=2)
    assert ids(first) == [e.id for e in five[:2]]
    assert first["pageInfo"] == {"hasNextPage": True, "endCursor": first["edges"][-1]["cursor"]}
    assert first["totalCount"] == 5


async def test_following_end_cursors_visits_every_item_once_in_order(
    gql: GraphQLClient, world: World, five: list[Enterprise]
) -> None:
    regulator = await world.regulator("44")
    seen, after, pages = [], None, 0
    while True:
        current = await page(gql, regulator, first=2, after=after)
        seen += ids(current)
        pages += 1
        if not current["pageInfo"]["hasNextPage"]:
            break
        after = current["pageInfo"]["endCursor"]
    assert (seen, pages) == ([e.id for e in five], 3)


async def test_after_the_last_item_the_page_is_empty(
    gql: GraphQLClient, world: World, five: list[Enterprise]
) -> None:
    regulator = await world.regulator("44")
    last = (await page(gql, regulator, first=5))["pageInfo"]
    assert last["hasNextPage"] is False
    beyond = await page(gql, regulator, first=5, after=last["endCursor"])
    assert (beyond["edges"], beyond["pageInfo"]) == ([], {"hasNextPage": False, "endCursor": None})


async def test_without_first_a_page_holds_20(gql: GraphQLClient, world: World) -> None:
    for _ in range(21):
        await world.enterprise()
    current = await page(gql, await world.admin())
    assert (len(current["edges"]), current["pageInfo"]["hasNextPage"], current["totalCount"]) == (
        20,
        True,
        21,
    )


async def test_first_zero_counts_without_listing(
    gql: GraphQLClient, world: World, five: list[Enterprise]
) -> None:
    current = await page(gql, await world.admin(), first=0)
    assert (current["edges"], current["pageInfo"]["hasNextPage"], current["totalCount"]) == ([], True, 6)


async def test_first_100_is_allowed(gql: GraphQLClient, world: World, five: list[Enterprise]) -> None:
    assert len((await page(gql, await world.admin(), first=100))["edges"]) == 6


async def test_the_total_count_is_that_of_the_filtered_list_in_scope(
    gql: GraphQLClient, world: World, five: list[Enterprise]
) -> None:
    await world.enterprise("440113", name="Zhujiang Power")
    regulator = await world.regulator("44")
    assert (await page(gql, regulator, filter={"nameContains": "zhujiang"}))["totalCount"] == 1
    assert (await page(gql, regulator, filter={"regionPrefix": "11"}))["totalCount"] == 0
    assert (await page(gql, await world.regulator("11")))["totalCount"] == 1


async def test_notices_come_newest_first(gql: GraphQLClient, world: World, files: FileStore) -> None:
    regulator = await world.regulator("44")
    issued = []
    for _ in range(3):
        enterprise = await world.enterprise("440113")
        await world.allowance(regulator, enterprise)
        issued.append((await issue(regulator, files, enterprise)).id)
    first = await page(gql, regulator, NOTICES, first=2)
    rest = await page(gql, regulator, NOTICES, first=2, after=first["pageInfo"]["endCursor"])
    assert (ids(first), ids(rest)) == (issued[:0:-1], issued[:1])
    assert (first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"], first["totalCount"]) == (
        True,
        False,
        3,
    )


async def test_messages_come_newest_first_and_unread_only_narrows_the_count(
    gql: GraphQLClient, world: World, files: FileStore
) -> None:
    regulator = await world.regulator("44")
    enterprise = await world.enterprise("440113")
    member = await world.member(enterprise)
    for year in (2025, 2026):
        await world.allowance(regulator, enterprise, year=year)
        await issue(regulator, files, enterprise, year=year)
    everything = await page(gql, member, MESSAGES, first=3, unread=False)
    assert ids(everything) == sorted(ids(everything), reverse=True) and everything["totalCount"] == 4
    await gql(
        "mutation($ids: [ID!]!) { markMessagesRead(ids: $ids) { errors { code } } }",
        {"ids": [str(i) for i in ids(everything)]},
        actor=member,
    )
    unread = await page(gql, member, MESSAGES, first=3, unread=True)
    assert (unread["totalCount"], unread["pageInfo"]["hasNextPage"], len(unread["edges"])) == (1, False, 1)


LISTS = {"enterprises": ENTERPRISES, "notices": NOTICES, "messages": MESSAGES}


@pytest.mark.parametrize(("connection", "first"), [("enterprises", 101), ("notices", 1000), ("messages", -1)])
async def test_a_page_size_outside_0_to_100_is_refused(
    gql: GraphQLClient, world: World, connection: str, first: int
) -> None:
    admin = await world.admin()
    error = top_level_error(await gql(LISTS[connection], {"first": first, "unread": False}, actor=admin))
    assert error["extensions"] == {"code": "INVALID_PAGINATION"}
    assert error["message"] == "first 须在 0 到 100 之间"
    english = top_level_error(
        await gql(LISTS[connection], {"first": first, "unread": False}, actor=admin, language="en")
    )
    assert (english["extensions"], english["message"]) == (
        error["extensions"],
        "first must be between 0 and 100",
    )


def encoded(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("connection", "cursor"),
    [
        ("enterprises", "!!!"),
        ("enterprises", ""),
        ("enterprises", encoded("id:3")),
        ("enterprises", encoded("pk:abc")),
        ("enterprises", base64.b64encode(b"\xff\xfe").decode()),
        ("notices", "游标"),
        ("messages", encoded("pk:")),
    ],
    ids=["not-base64", "empty", "wrong-kind", "not-a-number", "not-utf8", "not-ascii", "no-number"],
)
async def test_a_cursor_the_server_did_not_issue_is_refused(
    gql: GraphQLClient, world: World, connection: str, cursor: str
) -> None:
    result = await gql(LISTS[connection], {"after": cursor, "unread": False}, actor=await world.admin())
    error = top_level_error(result)
    assert (error["extensions"], error["message"]) == ({"code": "INVALID_CURSOR"}, "游标无效")
