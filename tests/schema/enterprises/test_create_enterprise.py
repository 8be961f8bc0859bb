"""createEnterprise: an admin registers a covered enterprise with validated national codes."""

from __future__ import annotations

from typing import Any

import pytest

from models import Enterprise
from services.access import Actor
from services.codes import make_credit_code
from tests.conftest import GraphQLClient, World
from tests.schema.support import refused, succeeded, top_level_error, unauthenticated
from tests.services.cycle import unchanged

CREATE = """
mutation($input: CreateEnterpriseInput!) {
  createEnterprise(input: $input) {
    errors { code field message }
    enterprise { id name creditCode regionCode industryCode sector }
  }
}
"""
CODE = make_credit_code("440113", "MA59X1K2")


def registration(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "广州华润热电有限公司",
        "creditCode": CODE,
        "regionCode": "440113",
        "industryCode": "4411",
        "sector": "POWER",
    }
    values.update(overrides)
    return values


async def create(gql: GraphQLClient, actor: Actor | None, **overrides: Any) -> dict:
    return await gql(CREATE, {"input": registration(**overrides)}, actor=actor)


@pytest.fixture
async def admin(world: World) -> Actor:
    return await world.admin()


async def test_an_admin_registers_an_enterprise(gql: GraphQLClient, admin: Actor) -> None:
    enterprise = succeeded(await create(gql, admin), "createEnterprise")["enterprise"]
    assert enterprise == {
        "id": enterprise["id"],
        "name": "广州华润热电有限公司",
        "creditCode": CODE,
        "regionCode": "440113",
        "industryCode": "4411",
        "sector": "POWER",
    }
    assert await Enterprise.filter(id=int(enterprise["id"]), credit_code=CODE).exists()


async def test_codes_are_normalised_before_they_are_stored(gql: GraphQLClient, admin: Actor) -> None:
    result = await create(gql, admin, name="  Name  ", creditCode=f" {CODE.lower()} ", regionCode=" 440113 ")
    enterprise = succeeded(result, "createEnterprise")["enterprise"]
    assert (enterprise["name"], enterprise["creditCode"], enterprise["regionCode"]) == (
        "Name",
        CODE,
        "440113",
    )


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"name": "   "}, "REQUIRED", "name"),
        ({"name": "x" * 201}, "TOO_LONG", "name"),
        ({"creditCode": CODE[:-1]}, "INVALID_CREDIT_CODE", "creditCode"),
        ({"creditCode": CODE[:-1] + ("0" if CODE[-1] != "0" else "1")}, "INVALID_CREDIT_CODE", "creditCode"),
        ({"creditCode": "91440113MA59X1K2IO"}, "INVALID_CREDIT_CODE", "creditCode"),
        ({"regionCode": "4401"}, "INVALID_REGION_CODE", "regionCode"),
        ({"regionCode": "990101"}, "INVALID_REGION_CODE", "regionCode"),
        ({"industryCode": "99"}, "INVALID_INDUSTRY_CODE", "industryCode"),
        ({"industryCode": "44a1"}, "INVALID_INDUSTRY_CODE", "industryCode"),
        ({"industryCode": "44111"}, "INVALID_INDUSTRY_CODE", "industryCode"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_an_invalid_registration_is_refused(
    gql: GraphQLClient, admin: Actor, overrides: dict[str, Any], code: str, field: str
) -> None:
    async with unchanged():
        refused(await create(gql, admin, **overrides), "createEnterprise", code, field)


async def test_a_credit_code_already_registered_is_refused(gql: GraphQLClient, admin: Actor) -> None:
    succeeded(await create(gql, admin), "createEnterprise")
    async with unchanged():
        result = await create(gql, admin, name="Another name", creditCode=CODE.lower())
    refused(result, "createEnterprise", "DUPLICATE_CREDIT_CODE", "creditCode")


async def test_an_unknown_sector_is_refused_by_graphql_itself(gql: GraphQLClient, admin: Actor) -> None:
    async with unchanged():
        error = top_level_error(await create(gql, admin, sector="COAL"))
    assert "COAL" in error["message"]


@pytest.mark.parametrize("role", ["regulator", "member"])
async def test_only_an_admin_may_register_an_enterprise(gql: GraphQLClient, world: World, role: str) -> None:
    actor = await world.regulator("") if role == "regulator" else await world.member(await world.enterprise())
    async with unchanged():
        refused(await create(gql, actor), "createEnterprise", "PERMISSION_DENIED")


async def test_without_a_token_nothing_is_registered(gql: GraphQLClient, db: str) -> None:
    unauthenticated(await create(gql, None), "createEnterprise")
    assert not await Enterprise.exists()
