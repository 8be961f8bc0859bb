"""updateEnterprise: an admin corrects an enterprise; omitted fields stay as they are."""

from __future__ import annotations

from typing import Any

import pytest

from models import Enterprise
from services.access import Actor
from services.codes import make_credit_code
from tests.conftest import GraphQLClient, World
from tests.schema.support import refused, succeeded, unauthenticated

UPDATE = """
mutation($input: UpdateEnterpriseInput!) {
  updateEnterprise(input: $input) {
    errors { code field message }
    enterprise { id name creditCode regionCode industryCode sector }
  }
}
"""
READ = "query($id: ID!) { enterprise(id: $id) { name creditCode regionCode industryCode sector } }"


@pytest.fixture
async def admin(world: World) -> Actor:
    return await world.admin()


@pytest.fixture
async def enterprise(world: World) -> Enterprise:
    return await world.enterprise("440113", name="Old name")


async def update(gql: GraphQLClient, actor: Actor | None, enterprise_id: object, **changes: Any) -> dict:
    return await gql(UPDATE, {"input": {"id": str(enterprise_id), **changes}}, actor=actor)


async def as_stored(gql: GraphQLClient, admin: Actor, enterprise: Enterprise) -> dict:
    return (await gql(READ, {"id": str(enterprise.id)}, actor=admin))["data"]["enterprise"]


async def test_an_admin_renames_an_enterprise_and_the_rest_stays(
    gql: GraphQLClient, admin: Actor, enterprise: Enterprise
) -> None:
    before = await as_stored(gql, admin, enterprise)
    result = await update(gql, admin, enterprise.id, name="New name")
    assert succeeded(result, "updateEnterprise")["enterprise"]["name"] == "New name"
    assert await as_stored(gql, admin, enterprise) == {**before, "name": "New name"}


async def test_every_field_can_be_corrected_at_once(
    gql: GraphQLClient, admin: Actor, enterprise: Enterprise
) -> None:
    code = make_credit_code("110105", "MA01B2C3")
    changes = {
        "name": "北京京华纸业",
        "creditCode": code,
        "regionCode": "110105",
        "industryCode": "2221",
        "sector": "PAPER",
    }
    succeeded(await update(gql, admin, enterprise.id, **changes), "updateEnterprise")
    assert await as_stored(gql, admin, enterprise) == changes


async def test_keeping_its_own_credit_code_is_not_a_duplicate(
    gql: GraphQLClient, admin: Actor, enterprise: Enterprise
) -> None:
    succeeded(
        await update(gql, admin, enterprise.id, creditCode=enterprise.credit_code.lower()), "updateEnterprise"
    )


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"name": " "}, "REQUIRED", "name"),
        ({"name": "x" * 201}, "TOO_LONG", "name"),
        ({"creditCode": "123"}, "INVALID_CREDIT_CODE", "creditCode"),
        ({"regionCode": "000000"}, "INVALID_REGION_CODE", "regionCode"),
        ({"industryCode": "00"}, "INVALID_INDUSTRY_CODE", "industryCode"),
        ({"name": "Fine", "industryCode": "9"}, "INVALID_INDUSTRY_CODE", "industryCode"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_an_invalid_correction_changes_nothing(
    gql: GraphQLClient, admin: Actor, enterprise: Enterprise, changes: dict[str, Any], code: str, field: str
) -> None:
    before = await as_stored(gql, admin, enterprise)
    refused(await update(gql, admin, enterprise.id, **changes), "updateEnterprise", code, field)
    assert await as_stored(gql, admin, enterprise) == before


async def test_another_enterprises_credit_code_is_a_duplicate(
    gql: GraphQLClient, admin: Actor, enterprise: Enterprise, world: World
) -> None:
    other = await world.enterprise("110105")
    before = await as_stored(gql, admin, enterprise)
    result = await update(gql, admin, enterprise.id, creditCode=other.credit_code)
    refused(result, "updateEnterprise", "DUPLICATE_CREDIT_CODE", "creditCode")
    assert await as_stored(gql, admin, enterprise) == before


@pytest.mark.parametrize("enterprise_id", ["abc", "0", "999999", "99999999999"])
async def test_an_unknown_or_malformed_id_is_not_found(
    gql: GraphQLClient, admin: Actor, enterprise: Enterprise, enterprise_id: str
) -> None:
    refused(await update(gql, admin, enterprise_id, name="New name"), "updateEnterprise", "NOT_FOUND", "id")
    assert await Enterprise.filter(name="New name").count() == 0


@pytest.mark.parametrize("role", ["regulator in scope", "member"])
async def test_only_an_admin_may_correct_an_enterprise(
    gql: GraphQLClient, admin: Actor, enterprise: Enterprise, world: World, role: str
) -> None:
    actor = await world.regulator("44") if role == "regulator in scope" else await world.member(enterprise)
    refused(await update(gql, actor, enterprise.id, name="New name"), "updateEnterprise", "PERMISSION_DENIED")
    assert (await as_stored(gql, admin, enterprise))["name"] == "Old name"


async def test_without_a_token_nothing_changes(
    gql: GraphQLClient, admin: Actor, enterprise: Enterprise
) -> None:
    unauthenticated(await update(gql, None, enterprise.id, name="New name"), "updateEnterprise")
    assert (await as_stored(gql, admin, enterprise))["name"] == "Old name"
