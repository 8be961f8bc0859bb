"""createUser: an admin opens an account for a regulator, an enterprise or another admin."""

from __future__ import annotations

from typing import Any

import pytest

from models import Enterprise, User
from services.access import Actor
from tests.conftest import GraphQLClient, World
from tests.schema.support import refused, succeeded, top_level_error, unauthenticated
from tests.services.cycle import unchanged

CREATE = """
mutation($input: CreateUserInput!) {
  createUser(input: $input) {
    errors { code field message }
    user { id username role regionPrefix isActive enterprise { id } }
  }
}
"""
LOGIN = 'mutation($u: String!) { login(username: $u, password: "s3cret-pass") { token errors { code } } }'


def account(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"username": "gz_regulator", "password": "s3cret-pass", "role": "REGULATOR"}
    values.update(overrides)
    return values


async def create(gql: GraphQLClient, actor: Actor | None, **overrides: Any) -> dict:
    return await gql(CREATE, {"input": account(**overrides)}, actor=actor)


@pytest.fixture
async def admin(world: World) -> Actor:
    return await world.admin()


async def test_an_admin_creates_a_regulator_who_can_then_sign_in(gql: GraphQLClient, admin: Actor) -> None:
    user = succeeded(await create(gql, admin, regionPrefix="4401"), "createUser")["user"]
    assert user == {
        "id": user["id"],
        "username": "gz_regulator",
        "role": "REGULATOR",
        "regionPrefix": "4401",
        "isActive": True,
        "enterprise": None,
    }
    assert await User.filter(id=int(user["id"]), username="gz_regulator").exists()
    assert (await gql(LOGIN, {"u": "gz_regulator"}))["data"]["login"]["token"]


async def test_an_enterprise_user_is_bound_to_its_enterprise(
    gql: GraphQLClient, admin: Actor, world: World
) -> None:
    enterprise = await world.enterprise()
    result = await create(gql, admin, username="gz_power", role="ENTERPRISE", enterpriseId=str(enterprise.id))
    assert succeeded(result, "createUser")["user"]["enterprise"] == {"id": str(enterprise.id)}


async def test_a_national_regulator_has_an_empty_prefix(gql: GraphQLClient, admin: Actor) -> None:
    assert succeeded(await create(gql, admin), "createUser")["user"]["regionPrefix"] == ""


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"username": "ab"}, "INVALID_USERNAME", "username"),
        ({"username": "has space"}, "INVALID_USERNAME", "username"),
        ({"username": "张三"}, "INVALID_USERNAME", "username"),
        ({"password": "short"}, "WEAK_PASSWORD", "password"),
        ({"regionPrefix": "99"}, "INVALID_REGION_CODE", "regionPrefix"),
        ({"regionPrefix": "440"}, "INVALID_REGION_CODE", "regionPrefix"),
        ({"role": "ENTERPRISE"}, "INVALID_ROLE_SCOPE", "enterpriseId"),
        (
            {"role": "ENTERPRISE", "regionPrefix": "44", "enterpriseId": "{enterprise}"},
            "INVALID_ROLE_SCOPE",
            "regionPrefix",
        ),
        ({"enterpriseId": "{enterprise}"}, "INVALID_ROLE_SCOPE", "enterpriseId"),
        ({"role": "ADMIN", "regionPrefix": "44"}, "INVALID_ROLE_SCOPE", "regionPrefix"),
        ({"role": "ENTERPRISE", "enterpriseId": "abc"}, "NOT_FOUND", "enterpriseId"),
        ({"role": "ENTERPRISE", "enterpriseId": "999999"}, "NOT_FOUND", "enterpriseId"),
        ({"role": "ENTERPRISE", "enterpriseId": "99999999999999999999"}, "NOT_FOUND", "enterpriseId"),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else None,
)
async def test_an_invalid_account_is_refused(
    gql: GraphQLClient, admin: Actor, world: World, overrides: dict[str, Any], code: str, field: str
) -> None:
    enterprise = await world.enterprise()
    values = {
        k: v.format(enterprise=enterprise.id) if isinstance(v, str) else v for k, v in overrides.items()
    }
    async with unchanged():
        refused(await create(gql, admin, **values), "createUser", code, field)


async def test_a_taken_username_is_refused(gql: GraphQLClient, admin: Actor, world: World) -> None:
    existing = await world.regulator()
    async with unchanged():
        refused(
            await create(gql, admin, username=existing.username),
            "createUser",
            "DUPLICATE_USERNAME",
            "username",
        )


async def test_an_unknown_role_is_refused_by_graphql_itself(gql: GraphQLClient, admin: Actor) -> None:
    async with unchanged():
        error = top_level_error(await create(gql, admin, role="ROOT"))
    assert "ROOT" in error["message"]


@pytest.mark.parametrize("role", ["regulator", "member"])
async def test_only_an_admin_may_create_users(gql: GraphQLClient, world: World, role: str) -> None:
    actor = await world.regulator("") if role == "regulator" else await world.member(await world.enterprise())
    async with unchanged():
        refused(await create(gql, actor, role="ADMIN"), "createUser", "PERMISSION_DENIED")


async def test_without_a_token_no_user_is_created(gql: GraphQLClient, db: str) -> None:
    async with unchanged():
        unauthenticated(await create(gql, None), "createUser")
    assert not await Enterprise.exists() and not await User.exists()
