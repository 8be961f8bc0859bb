"""users: administrators list the accounts; nobody else may."""

from __future__ import annotations

from tests.conftest import GraphQLClient, World

USERS = """
query($role: Role) {
  users(role: $role, first: 100) { totalCount edges { node { username role enterprise { name } } } }
}
"""


async def test_an_admin_lists_every_account_oldest_first(gql: GraphQLClient, world: World) -> None:
    admin = await world.admin()
    enterprise = await world.enterprise(name="广州电厂")
    regulator = await world.regulator()
    member = await world.member(enterprise)

    result = (await gql(USERS, actor=admin))["data"]["users"]

    assert [edge["node"]["username"] for edge in result["edges"]] == [
        admin.username,
        regulator.username,
        member.username,
    ]
    assert result["totalCount"] == 3
    assert result["edges"][2]["node"]["enterprise"] == {"name": "广州电厂"}


async def test_an_admin_lists_the_accounts_of_one_role(gql: GraphQLClient, world: World) -> None:
    admin = await world.admin()
    regulator = await world.regulator()
    await world.member(await world.enterprise())

    result = (await gql(USERS, {"role": "REGULATOR"}, actor=admin))["data"]["users"]

    assert [edge["node"]["username"] for edge in result["edges"]] == [regulator.username]


async def test_regulators_and_enterprise_users_may_not_list_accounts(
    gql: GraphQLClient, world: World
) -> None:
    for actor in (await world.regulator(""), await world.member(await world.enterprise())):
        result = await gql(USERS, actor=actor)

        assert result["data"] is None
        assert result["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
