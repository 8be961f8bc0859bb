"""users: administrators list every account, regulators those of their region and its
enterprises, enterprise users none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from models import User
from services.access import Actor
from tests.conftest import GraphQLClient, World

USERS = """
query($filter: UserFilter, $role: Role, $first: Int) {
  users(filter: $filter, role: $role, first: $first) {
    totalCount edges { node { username role isActive mustChangePassword enterprise { name } } }
  }
}
"""


@dataclass
class Accounts:
    admin: Actor
    national: Actor
    guangdong: Actor
    guangzhou: Actor
    beijing: Actor
    guangzhou_member: Actor
    shenzhen_member: Actor
    beijing_member: Actor

    def names(self, *actors: Actor) -> list[str]:
        return [a.username for a in actors]


@pytest.fixture
async def accounts(world: World) -> Accounts:
    admin = await world.admin()
    national = await world.regulator("")
    guangdong = await world.regulator("44")
    guangzhou = await world.regulator("4401")
    beijing = await world.regulator("11")
    members = [
        await world.member(await world.enterprise(region, name=name))
        for region, name in (("440113", "广州电厂"), ("440305", "深圳电厂"), ("110105", "北京电厂"))
    ]
    return Accounts(admin, national, guangdong, guangzhou, beijing, *members)


async def usernames(gql: GraphQLClient, actor: Actor, **variables: Any) -> list[str]:
    result = await gql(USERS, {"first": 100, **variables}, actor=actor)
    assert "errors" not in result, result
    page = result["data"]["users"]
    assert page["totalCount"] == len(page["edges"])
    return [edge["node"]["username"] for edge in page["edges"]]


async def test_an_admin_lists_every_account_oldest_first(gql: GraphQLClient, accounts: Accounts) -> None:
    a = accounts
    assert await usernames(gql, a.admin) == a.names(
        a.admin,
        a.national,
        a.guangdong,
        a.guangzhou,
        a.beijing,
        a.guangzhou_member,
        a.shenzhen_member,
        a.beijing_member,
    )
    result = await gql(USERS, {"filter": {"search": a.guangzhou_member.username.upper()}}, actor=a.admin)
    assert result["data"]["users"]["edges"][0]["node"] == {
        "username": a.guangzhou_member.username,
        "role": "ENTERPRISE",
        "isActive": True,
        "mustChangePassword": False,
        "enterprise": {"name": "广州电厂"},
    }


async def test_a_regulator_sees_the_regulators_below_it_and_the_users_of_its_enterprises(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    a = accounts
    assert await usernames(gql, a.guangdong) == a.names(
        a.guangdong, a.guangzhou, a.guangzhou_member, a.shenzhen_member
    )
    assert await usernames(gql, a.guangzhou) == a.names(a.guangzhou, a.guangzhou_member)
    assert await usernames(gql, a.beijing) == a.names(a.beijing, a.beijing_member)
    # The national office sees every regulator and enterprise user, never an administrator.
    assert await usernames(gql, a.national) == a.names(
        a.national,
        a.guangdong,
        a.guangzhou,
        a.beijing,
        a.guangzhou_member,
        a.shenzhen_member,
        a.beijing_member,
    )


async def test_a_filter_narrows_and_never_widens_the_scope(gql: GraphQLClient, accounts: Accounts) -> None:
    a = accounts
    assert await usernames(gql, a.admin, filter={"role": "REGULATOR", "regionPrefix": "44"}) == a.names(
        a.guangdong, a.guangzhou
    )
    assert await usernames(gql, a.admin, filter={"regionPrefix": "4403"}) == a.names(a.shenzhen_member)
    assert await usernames(gql, a.guangdong, filter={"regionPrefix": "11"}) == []
    assert await usernames(gql, a.admin, role="ENTERPRISE", filter={"regionPrefix": "44"}) == a.names(
        a.guangzhou_member, a.shenzhen_member
    )
    shenzhen = await User.get(id=a.shenzhen_member.user_id)
    assert await usernames(gql, a.guangdong, filter={"enterpriseId": str(shenzhen.enterprise_id)}) == a.names(
        a.shenzhen_member
    )
    assert await usernames(gql, a.beijing, filter={"enterpriseId": str(shenzhen.enterprise_id)}) == []


async def test_inactive_accounts_are_listed_and_can_be_filtered(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    a = accounts
    await User.filter(id=a.shenzhen_member.user_id).update(is_active=False)
    assert await usernames(gql, a.guangdong, filter={"isActive": False}) == a.names(a.shenzhen_member)
    assert a.shenzhen_member.username not in await usernames(gql, a.guangdong, filter={"isActive": True})


async def test_enterprise_users_may_not_list_accounts(gql: GraphQLClient, accounts: Accounts) -> None:
    result = await gql(USERS, actor=accounts.guangzhou_member)
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


async def test_a_bad_region_filter_is_a_coded_error(gql: GraphQLClient, accounts: Accounts) -> None:
    result = await gql(USERS, {"filter": {"regionPrefix": "4"}}, actor=accounts.admin)
    assert result["data"] is None
    assert result["errors"][0]["extensions"] == {"code": "INVALID_REGION_CODE", "field": "regionPrefix"}


ACTIONS = "query { users(first: 100) { edges { node { username allowedActions } } } }"


async def test_each_account_says_what_the_viewer_may_do_to_it(gql: GraphQLClient, accounts: Accounts) -> None:
    a = accounts
    await User.filter(id=a.shenzhen_member.user_id).update(is_active=False)

    async def actions(viewer: Actor) -> dict[str, list[str]]:
        result = await gql(ACTIONS, actor=viewer)
        return {e["node"]["username"]: e["node"]["allowedActions"] for e in result["data"]["users"]["edges"]}

    everything = ["DEACTIVATE", "RESET_PASSWORD", "UPDATE"]
    by_admin = await actions(a.admin)
    assert by_admin[a.admin.username] == []  # one's own account: changePassword
    assert by_admin[a.guangdong.username] == everything
    assert by_admin[a.shenzhen_member.username] == ["REACTIVATE", "RESET_PASSWORD", "UPDATE"]
    assert await actions(a.guangdong) == {
        a.guangdong.username: [],
        a.guangzhou.username: [],  # another regulator: seen, not managed
        a.guangzhou_member.username: ["DEACTIVATE", "RESET_PASSWORD"],
        a.shenzhen_member.username: ["REACTIVATE", "RESET_PASSWORD"],
    }
